package cmd

import (
	"fmt"
	"io"
	"os"

	"github.com/craton-co/craton/errs"
	"github.com/craton-co/craton/internal/iostreams"
	"github.com/craton-co/craton/pin"
	"github.com/craton-co/craton/report"
	"github.com/spf13/cobra"
)

// ModuleFlags select a PKCS#11 module and a token on it. The same struct
// serves --module/--token, --from-module/--from-token and --to-module/...
type ModuleFlags struct {
	Module string // a .so path or "embedded"
	Config string // the embedded engine's config file
	Token  string // token label
	Serial string // token serial, when labels repeat
}

// register adds the flags with the given prefix ("", "from-", "to-").
// withConfig is false for source flags: the source is never the embedded
// engine's own config unless --from-module embedded, then --from-config.
func (m *ModuleFlags) register(c *cobra.Command, prefix, defModule, role string) {
	f := c.Flags()
	f.StringVar(&m.Module, prefix+"module", defModule, fmt.Sprintf("%s PKCS#11 module: a shared library path, or 'embedded' for the Craton HSM engine", role))
	f.StringVar(&m.Config, prefix+"config", "", fmt.Sprintf("%s engine config (YAML) when the module is embedded; default $CRATON_HSM_CONFIG, else ./craton_hsm.yaml, else built-in defaults", role))
	f.StringVar(&m.Token, prefix+"token", "", fmt.Sprintf("%s token label", role))
	f.StringVar(&m.Serial, prefix+"token-serial", "", fmt.Sprintf("%s token serial (only needed when two tokens share a label)", role))
}

// pinFlags registers --<prefix>pin-file and --<prefix>pin-env for one PIN role.
func pinFlags(c *cobra.Command, prefix, role string) *pin.Source {
	s := &pin.Source{Role: role, FileFlag: "--" + prefix + "pin-file", EnvFlag: "--" + prefix + "pin-env"}
	c.Flags().StringVar(&s.File, prefix+"pin-file", "", fmt.Sprintf("read the %s from this file (first line)", role))
	c.Flags().StringVar(&s.Env, prefix+"pin-env", "", fmt.Sprintf("read the %s from this environment variable (give its name, not the PIN)", role))
	return s
}

// OutputFlags are --output and --out.
type OutputFlags struct {
	Format string
	Out    string
}

func (o *OutputFlags) register(c *cobra.Command) {
	c.Flags().StringVarP(&o.Format, "output", "o", "", "output format: table, csv, json, yaml or markdown (default: table on a terminal, csv otherwise)")
	c.Flags().StringVar(&o.Out, "out", "", "write the report to this file instead of stdout")
}

// check validates --output before any work is done.
func (o *OutputFlags) check(ios *iostreams.IOStreams) error {
	_, err := report.ParseFormat(o.Format, ios.IsStdoutTTY() && o.Out == "")
	return err
}

// open resolves the format and the destination. close must be called; it
// reports a failed write of the file.
func (o *OutputFlags) open(ios *iostreams.IOStreams) (report.Format, io.Writer, func() error, error) {
	tty := ios.IsStdoutTTY() && o.Out == ""
	f, err := report.ParseFormat(o.Format, tty)
	if err != nil {
		return "", nil, nil, err
	}
	if o.Out == "" {
		return f, ios.Out, func() error { return nil }, nil
	}
	file, err := os.OpenFile(o.Out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", nil, nil, &errs.Error{Kind: errs.KindUsage, Op: "--out", Msg: "cannot create " + o.Out,
			Hint: "check the directory exists and is writable", Err: err}
	}
	return f, file, file.Close, nil
}

// render writes one report to the destination chosen by o.
func (o *OutputFlags) render(ios *iostreams.IOStreams, r report.Report) error {
	f, w, closeFn, err := o.open(ios)
	if err != nil {
		return err
	}
	if err := report.Render(w, f, r); err != nil {
		_ = closeFn()
		return fmt.Errorf("render %s: %w", f, err)
	}
	return closeFn()
}
