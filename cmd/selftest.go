package cmd

import (
	"fmt"

	"github.com/craton-co/craton/errs"
	"github.com/craton-co/craton/internal/iostreams"
	"github.com/craton-co/craton/modules"
	"github.com/spf13/cobra"
)

// SelftestOptions are the options of 'craton selftest'.
type SelftestOptions struct {
	IO     *iostreams.IOStreams
	Config string
	Output OutputFlags
}

// SelftestRow is one power-on self-test result.
type SelftestRow struct {
	Num    int    `col:"num" json:"num" yaml:"num"`
	Name   string `col:"name" json:"name" yaml:"name"`
	Result string `col:"result" json:"result" yaml:"result"` // PASS or FAIL
	Note   string `col:"note" json:"note,omitempty" yaml:"note,omitempty"`
}

func newSelftestCmd(io *iostreams.IOStreams) *cobra.Command {
	opts := &SelftestOptions{IO: io}
	c := &cobra.Command{
		Use:   "selftest",
		Short: "Start the embedded engine and show its 17 power-on self-tests",
		Long: `Starts the embedded Craton HSM engine (as C_Initialize does), which runs the
17 power-on self-tests, and prints each with PASS or FAIL. Exits non-zero when
any failed: the engine then refuses every call (fail safe).`,
		Args: cobra.NoArgs,
		RunE: markRan(func(*cobra.Command, []string) error { return selftestRun(opts) }),
	}
	c.Flags().StringVar(&opts.Config, "config", "", "engine config (YAML); default $CRATON_HSM_CONFIG, else ./craton_hsm.yaml, else built-in defaults")
	opts.Output.register(c)
	return c
}

func selftestRun(opts *SelftestOptions) error {
	if err := opts.Output.check(opts.IO); err != nil {
		return err
	}
	mod, err := modules.OpenEmbedded(opts.Config)
	if err != nil {
		return err
	}
	defer mod.Close()
	eng, _ := modules.Engine(mod)
	var rows []SelftestRow
	failed := 0
	for _, r := range eng.SelfTestResults() {
		row := SelftestRow{Num: r.Num, Name: r.Name, Result: "PASS", Note: r.Note}
		if !r.Passed {
			failed++
			row.Result = "FAIL"
			if r.Err != nil {
				row.Note = r.Err.Error()
			}
		}
		rows = append(rows, row)
	}
	title := fmt.Sprintf("Power-on self-tests: %d passed, %d failed", len(rows)-failed, failed)
	if err := opts.Output.render(opts.IO, reportOf(title, rows)); err != nil {
		return err
	}
	if failed > 0 {
		return errs.New(errs.KindVerifyFailed, "selftest", fmt.Sprintf("%d power-on self-tests failed", failed),
			"the engine refuses every call until a later start passes; see the notes above")
	}
	return nil
}
