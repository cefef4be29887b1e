package cmd

import (
	"fmt"
	"time"

	"github.com/craton-co/craton/errs"
	"github.com/craton-co/craton/hsm/audit"
	"github.com/craton-co/craton/hsm/config"
	"github.com/craton-co/craton/internal/iostreams"
	"github.com/spf13/cobra"
)

func newAuditCmd(io *iostreams.IOStreams) *cobra.Command {
	c := &cobra.Command{
		Use:   "audit",
		Short: "Check and read the engine's hash-chained audit log",
	}
	c.AddCommand(newAuditVerifyCmd(io), newAuditShowCmd(io))
	return c
}

// auditLogFlags locate the log: --audit-log, else the config's audit.log_path.
type auditLogFlags struct {
	Config string
	Log    string
}

func (a *auditLogFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&a.Config, "config", "", "engine config (YAML) whose audit.log_path to read")
	c.Flags().StringVar(&a.Log, "audit-log", "", "audit log file (overrides the config)")
}

func (a *auditLogFlags) path() (string, error) {
	if a.Log != "" {
		return a.Log, nil
	}
	cfg, _, err := config.Load(a.Config)
	if err != nil {
		return "", err
	}
	if !cfg.Audit.Enabled {
		return "", errs.Usage("the engine config disables the audit log (audit.enabled: false)", "pass --audit-log FILE")
	}
	return cfg.Audit.LogPath, nil
}

// AuditVerifyOptions are the options of 'craton audit verify'.
type AuditVerifyOptions struct {
	IO  *iostreams.IOStreams
	Log auditLogFlags
}

func newAuditVerifyCmd(io *iostreams.IOStreams) *cobra.Command {
	opts := &AuditVerifyOptions{IO: io}
	c := &cobra.Command{
		Use:   "verify",
		Short: "Verify the audit log's hash chain; report the first broken line",
		Long: `Walks the SHA-256 hash chain from the first line. A changed byte, a deleted
line, two swapped lines or a truncated file is reported with the first line
that no longer verifies, and the command exits with the verify-failed code.`,
		Args: cobra.NoArgs,
		RunE: markRan(func(*cobra.Command, []string) error { return auditVerifyRun(opts) }),
	}
	opts.Log.register(c)
	return c
}

func auditVerifyRun(opts *AuditVerifyOptions) error {
	path, err := opts.Log.path()
	if err != nil {
		return err
	}
	rep, err := audit.Verify(path)
	if err != nil {
		return err
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(opts.IO.ErrOut, "warning: %s\n", w)
	}
	if err := rep.Err(); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "audit log %s: chain intact, %d entries\n", path, rep.Entries)
	return nil
}

// AuditShowOptions are the options of 'craton audit show'.
type AuditShowOptions struct {
	IO       *iostreams.IOStreams
	Log      auditLogFlags
	Ops      []string
	Since    string
	Until    string
	Failures bool
	Output   OutputFlags
}

// AuditRow is one audit entry as shown.
type AuditRow struct {
	Line      int    `col:"line" json:"line" yaml:"line"`
	Time      string `col:"time" json:"time" yaml:"time"`
	Session   uint64 `col:"session" json:"session" yaml:"session"`
	Operation string `col:"operation" json:"operation" yaml:"operation"`
	Mechanism string `col:"mechanism" json:"mechanism,omitempty" yaml:"mechanism,omitempty"`
	FIPS      *bool  `col:"fips_approved" json:"fips_approved,omitempty" yaml:"fips_approved,omitempty"`
	Result    string `col:"result" json:"result" yaml:"result"`
}

func newAuditShowCmd(io *iostreams.IOStreams) *cobra.Command {
	opts := &AuditShowOptions{IO: io}
	c := &cobra.Command{
		Use:     "show",
		Short:   "List audit entries, filtered by operation and time",
		Example: `  craton audit show --op Sign --op Verify --since 2026-11-01T00:00:00Z`,
		Args:    cobra.NoArgs,
		RunE:    markRan(func(*cobra.Command, []string) error { return auditShowRun(opts) }),
	}
	opts.Log.register(c)
	c.Flags().StringSliceVar(&opts.Ops, "op", nil, "only these operations (repeatable), e.g. Sign, Login")
	c.Flags().StringVar(&opts.Since, "since", "", "only entries at or after this time (RFC 3339)")
	c.Flags().StringVar(&opts.Until, "until", "", "only entries before this time (RFC 3339)")
	c.Flags().BoolVar(&opts.Failures, "failures", false, "only failed operations")
	opts.Output.register(c)
	return c
}

func auditShowRun(opts *AuditShowOptions) error {
	if err := opts.Output.check(opts.IO); err != nil {
		return err
	}
	f := audit.Filter{Ops: opts.Ops, FailuresOnly: opts.Failures}
	var err error
	if f.Since, err = parseTime("--since", opts.Since); err != nil {
		return err
	}
	if f.Until, err = parseTime("--until", opts.Until); err != nil {
		return err
	}
	path, err := opts.Log.path()
	if err != nil {
		return err
	}
	entries, err := audit.Read(path, f)
	if err != nil {
		return err
	}
	rows := make([]AuditRow, len(entries))
	for i, e := range entries {
		rows[i] = AuditRow{Line: e.Line, Time: e.Time.UTC().Format(time.RFC3339Nano), Session: e.Session,
			Operation: e.Op, Mechanism: e.MechanismName, FIPS: e.FIPS, Result: e.Result}
	}
	return opts.Output.render(opts.IO, reportOf(fmt.Sprintf("Audit log %s: %d entries", path, len(rows)), rows))
}

func parseTime(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errs.Usage(fmt.Sprintf("%s %q is not an RFC 3339 time", flag, s), "write e.g. 2026-11-29T08:00:00Z")
	}
	return t, nil
}
