package cmd

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/craton-co/craton/internal/iostreams"
	"github.com/spf13/cobra"
)

// Version is set at build time: -ldflags "-X github.com/craton-co/craton/cmd.Version=v1.2.3".
var Version = "dev"

// VersionOptions are the options of 'craton version'.
type VersionOptions struct {
	IO *iostreams.IOStreams
}

func newVersionCmd(io *iostreams.IOStreams, runF func(*VersionOptions) error) *cobra.Command {
	opts := &VersionOptions{IO: io}
	return &cobra.Command{
		Use:   "version",
		Short: "Print craton's version, commit and Go version",
		Args:  cobra.NoArgs,
		RunE: markRan(func(*cobra.Command, []string) error {
			if runF != nil {
				return runF(opts)
			}
			return versionRun(opts)
		}),
	}
}

func versionRun(opts *VersionOptions) error {
	fmt.Fprintf(opts.IO.Out, "craton %s (commit %s, %s, %s/%s)\n", Version, commit(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

// commit returns the VCS revision the binary was built from, if recorded.
func commit() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "unknown", ""
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
			if len(rev) > 12 {
				rev = rev[:12]
			}
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	return rev + dirty
}
