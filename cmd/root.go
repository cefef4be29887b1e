package cmd

import (
	"errors"
	"fmt"

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
