package cmd

import (
	"errors"
	"fmt"
	"strings"

	"github.com/craton-co/craton/errs"
	"github.com/craton-co/craton/internal/iostreams"
	"github.com/spf13/cobra"
)

// NewRootCmd builds the craton command tree over the given streams.
func NewRootCmd(io *iostreams.IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "craton",
		Short: "Migrate SoftHSMv2 tokens to Craton HSM, and run the Craton HSM engine",
		Long: `craton moves a SoftHSMv2 deployment onto Craton HSM without losing keys:
it inventories the source token, plans the move, wraps extractable keys out
of SoftHSMv2 and unwraps them into Craton HSM (proving each one), regenerates
what cannot leave, and runs the cutover checklist against both modules.

PINs are read from a file (--pin-file), a named environment variable
(--pin-env) or a no-echo prompt; never from a command-line value.
Exit codes are listed in docs/exit-codes.md.`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return errs.Usage(err.Error(), fmt.Sprintf("see '%s --help'", c.CommandPath()))
	})
	root.AddCommand(newVersionCmd(io, nil), newMigrateCmd(io), newTokenCmd(io), newSelftestCmd(io), newAuditCmd(io))
	return root
}

// Execute runs craton with args and returns the process exit code. Errors
// are printed once, on stderr, with their hint.
func Execute(io *iostreams.IOStreams, args []string) int {
	root := NewRootCmd(io)
	root.SetArgs(args)
	if err := unknownSubcommand(root, args); err != nil {
		fmt.Fprintf(io.ErrOut, "craton: %v\n", err)
		return errs.ExitCode(err)
	}
	c, err := root.ExecuteC()
	if err == nil {
		return 0
	}
	var typed *errs.Error
	if !errors.As(err, &typed) && !ranCommand(c) {
		// cobra's own errors: unknown command, wrong number of arguments.
		err = errs.Usage(err.Error(), fmt.Sprintf("see '%s --help'", c.CommandPath()))
	}
	fmt.Fprintf(io.ErrOut, "craton: %v\n", err)
	return errs.ExitCode(err)
}

// unknownSubcommand refuses "craton migrate teleport": cobra only checks
// subcommand names at the root, and a group command (no RunE) given an
// unknown word prints its help and exits 0, which a script would take for
// success.
func unknownSubcommand(root *cobra.Command, args []string) error {
	c, rest, err := root.Find(args)
	if err != nil || c == root || c.Runnable() || !c.HasSubCommands() || len(rest) == 0 || strings.HasPrefix(rest[0], "-") {
		return nil
	}
	return errs.Usage(fmt.Sprintf("unknown command %q for %q", rest[0], c.CommandPath()), fmt.Sprintf("see '%s --help'", c.CommandPath()))
}

// ranCommand tells whether cobra got as far as a command's RunE; errors
// before that are usage errors.
func ranCommand(c *cobra.Command) bool {
	return c != nil && c.Annotations != nil && c.Annotations[annotationRan] == "true"
}

const annotationRan = "craton.ran"

// markRan wraps a RunE so that Execute can tell usage errors from failures.
func markRan(run func(*cobra.Command, []string) error) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		if c.Annotations == nil {
			c.Annotations = map[string]string{}
		}
		c.Annotations[annotationRan] = "true"
		return run(c, args)
	}
}
