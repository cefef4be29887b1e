package cmd

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/errs"
	"github.com/craton-co/craton/internal/iostreams"
	"github.com/craton-co/craton/inventory"
	"github.com/craton-co/craton/modules"
	"github.com/craton-co/craton/report"
	"github.com/craton-co/craton/verify"
	"github.com/craton-co/craton/wrapmove"
	"github.com/spf13/cobra"
)

// VerifyOptions are the options of 'craton migrate verify'.
type VerifyOptions struct {
	IO            *iostreams.IOStreams
	M             migrationFlags
	InventoryFile string
	PlanFile      string
	Journal       string
	Require       []string
	RequireFile   string
	Exec          string
	ModulePath    string
	AuditLog      string
	Output        OutputFlags
}

func newVerifyCmd(io *iostreams.IOStreams) *cobra.Command {
	opts := &VerifyOptions{IO: io}
	c := &cobra.Command{
		Use:   "verify",
		Short: "Run the cutover checklist against both modules: PASS/FAIL per item, exit code",
		Long: `Executes the migration guide's verification checklist:
 1. C_Initialize on the target and its power-on self-tests
 2. the target advertises every mechanism the workload uses
 3. every migrated object is present with matching label, ID, key type, size, usage and flags
 4. each signing key signs on the target and the signature verifies with the source's public key
 5. each wrapping key wraps and unwraps a fresh session key on the target
 6. every certificate resolves to its private key by CKA_ID, and the keys match
 7. a representative application transaction (--exec) succeeds against the target
 8. the audit log holds this run's Sign/Verify entries with the right fips_approved, chain intact
 9. SO and user PINs were rotated away from the values used during the move
10. each regenerate item has its new key on the target

The source is never modified; on the target only session objects are created,
and destroyed. Exit 0 only when no item failed (WARN and SKIP do not fail).`,
		Example: `  craton migrate verify --from-token "Your-Token-Label" --from-pin-file src.pin \
    --to-pin-file dst.pin --to-so-pin-file so.pin --inventory pre-migration.csv \
    --plan plan.yaml --exec './smoke-test.sh' --output markdown --out cutover-report.md`,
		Args: cobra.NoArgs,
		RunE: markRan(func(*cobra.Command, []string) error { return verifyRun(opts) }),
	}
	opts.M.register(c, true)
	c.Flags().Lookup("init-target").Hidden = true
	c.Flags().StringVar(&opts.InventoryFile, "inventory", "", "pre-migration inventory CSV (default: a live inventory of the source)")
	c.Flags().StringVar(&opts.PlanFile, "plan", "", "plan file (for the regenerate items)")
	c.Flags().StringVar(&opts.Journal, "journal", "", "move journal (for the PIN-rotation item; default: where 'migrate move' put it)")
	c.Flags().StringSliceVar(&opts.Require, "require-mechanism", nil, "a mechanism the workload uses (name like CKM_SHA256_RSA_PKCS or 0x code; repeatable)")
	c.Flags().StringVar(&opts.RequireFile, "require-mechanisms-file", "", "file of mechanism names, one per line (# comments)")
	c.Flags().StringVar(&opts.Exec, "exec", "", "shell command of a representative transaction, run with PKCS11_MODULE_PATH and CRATON_TOKEN_LABEL set")
	c.Flags().StringVar(&opts.ModulePath, "exec-module-path", "", "PKCS11_MODULE_PATH for --exec (default: the target module path, or /usr/lib/pkcs11/libcraton_hsm.so for the embedded engine)")
	c.Flags().StringVar(&opts.AuditLog, "audit-log", "", "audit log to check (default: the embedded engine's audit.log_path)")
	opts.Output.register(c)
	return c
}

func verifyRun(opts *VerifyOptions) error {
	if err := opts.Output.check(opts.IO); err != nil {
		return err
	}
	if opts.M.InitTarget {
		return errs.Usage("--init-target is not a verify option", "verify never changes the target")
	}
	vo, err := verifyInputs(opts)
	if err != nil {
		return err
	}
	s, err := openSides(opts.IO, &opts.M)
	if err != nil {
		return err
	}
	defer s.close()
	if opts.M.ToSOPIN.Given() {
		if vo.TargetSOPIN, err = opts.M.ToSOPIN.Read(opts.IO, opts.IO.ErrOut); err != nil {
			return err
		}
	}
	if err := verifyJournal(opts, s, &vo); err != nil {
		return err
	}
	vo.Source, vo.Target = s.src.mod, s.dst.mod
	vo.SourceToken, vo.TargetToken = s.src.token, s.dst.token
	vo.SourcePIN, vo.TargetPIN = s.srcPIN, s.dstPIN
	vo.Engine, _ = modules.Engine(s.dst.mod)
	if vo.Engine != nil {
		// The engine locks its store: release it so --exec can open it.
		vo.ReleaseTarget = func() error { s.dst.close(); return nil }
	}
	vo.ModulePath = execModulePath(opts)
	rep, err := verify.Run(context.Background(), vo)
	if err != nil {
		return err
	}
	title := fmt.Sprintf("Cutover checklist %q -> %q: %d passed, %d failed, %d warnings, %d skipped",
		rep.SourceToken, rep.TargetToken, rep.Passed, rep.Failed, rep.Warned, rep.Skipped)
	if err := opts.Output.render(opts.IO, report.Report{Title: title, Rows: rep.Items, Data: rep, Markdown: rep.Markdown}); err != nil {
		return err
	}
	return rep.Err()
}

// verifyInputs reads the files the checklist compares against.
func verifyInputs(opts *VerifyOptions) (verify.Options, error) {
	var vo verify.Options
	if opts.InventoryFile != "" {
		f, err := os.Open(opts.InventoryFile)
		if err != nil {
			return vo, errs.New(errs.KindUsage, "--inventory", err.Error(), "pass the CSV written by 'craton migrate inventory'")
		}
		defer f.Close()
		if vo.Inventory, err = inventory.ReadCSV(f); err != nil {
			return vo, err
		}
	}
	if opts.PlanFile != "" {
		p, err := wrapmove.LoadPlan(opts.PlanFile)
		if err != nil {
			return vo, err
		}
		vo.Plan = &p
	}
	mechs, err := requiredMechanisms(opts.Require, opts.RequireFile)
	if err != nil {
		return vo, err
	}
	vo.RequireMechanisms = mechs
	if opts.Exec != "" {
		vo.Exec = []string{"/bin/sh", "-c", opts.Exec}
	}
	vo.AuditLog = opts.AuditLog
	return vo, nil
}

// requiredMechanisms resolves names from flags and a file to CKM_ codes.
func requiredMechanisms(names []string, file string) ([]uint, error) {
	all := append([]string(nil), names...)
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, errs.New(errs.KindUsage, "--require-mechanisms-file", err.Error(), "pass a readable file of mechanism names")
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
				all = append(all, line)
			}
		}
	}
	out := make([]uint, 0, len(all))
	for _, n := range all {
		code, ok := ck.MechByName(n)
		if !ok {
			return nil, errs.Usage(fmt.Sprintf("unknown mechanism %q", n), "use a CKM_ name (CKM_SHA256_RSA_PKCS) or a hex code (0x40)")
		}
		out = append(out, code)
	}
	return out, nil
}

// verifyJournal loads the move journal: the named one, else the default
// place 'migrate move' used. A missing default journal is not an error
// (the PIN item is skipped); a missing named one is.
func verifyJournal(opts *VerifyOptions, s *sides, vo *verify.Options) error {
	path := opts.Journal
	if path == "" {
		path = defaultJournal(s.dst)
	}
	j, err := wrapmove.LoadJournal(path)
	if err != nil {
		return err
	}
	if j == nil && opts.Journal != "" {
		return errs.Usage("journal "+opts.Journal+" not found", "pass the journal 'craton migrate move' printed")
	}
	vo.Journal = j
	return nil
}

func execModulePath(opts *VerifyOptions) string {
	if opts.ModulePath != "" {
		return opts.ModulePath
	}
	if opts.M.To.Module != modules.Embedded {
		return opts.M.To.Module
	}
	return "/usr/lib/pkcs11/libcraton_hsm.so"
}
