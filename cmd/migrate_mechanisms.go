package cmd

import (
	"fmt"
	"os"
	"strings"

	"github.com/craton-co/craton/errs"
	"github.com/craton-co/craton/internal/iostreams"
	"github.com/craton-co/craton/inventory"
	"github.com/craton-co/craton/modules"
	"github.com/craton-co/craton/p11"
	"github.com/craton-co/craton/pin"
	"github.com/craton-co/craton/report"
	"github.com/spf13/cobra"
)

// MechanismsOptions are the options of 'craton migrate mechanisms'.
type MechanismsOptions struct {
	IO        *iostreams.IOStreams
	From, To  ModuleFlags
	PIN       *pin.Source
	Inventory string
	Strict    bool
	Output    OutputFlags
}

// MechanismRow is one mechanism side by side.
type MechanismRow struct {
	Mechanism string `col:"mechanism" json:"mechanism" yaml:"mechanism"`
	Code      string `col:"code" json:"code" yaml:"code"`
	Source    string `col:"source" json:"source" yaml:"source"`
	Target    string `col:"target" json:"target" yaml:"target"`
	Status    string `col:"status" json:"status" yaml:"status"`
	Advice    string `col:"advice" json:"advice,omitempty" yaml:"advice,omitempty"`
}

func newMechanismsCmd(io *iostreams.IOStreams) *cobra.Command {
	opts := &MechanismsOptions{IO: io}
	c := &cobra.Command{
		Use:   "mechanisms",
		Short: "Compare the source's and the target's mechanisms against what the keys need",
		Long: `Lists both modules' mechanisms side by side with flags and key sizes: what the
source has and the target lacks (with the guide's advice, e.g. CKM_RSA_X_509:
move to PSS or OAEP), and what only the target has (post-quantum).

With a source PIN (or --inventory FILE) it also works out which mechanisms the
inventoried keys need on the target; --strict then exits with the
verify-failed code when one is missing.`,
		Args: cobra.NoArgs,
		RunE: markRan(func(*cobra.Command, []string) error { return mechanismsRun(opts) }),
	}
	opts.From.register(c, "from-", p11.DefaultSoftHSM, "source")
	opts.To.register(c, "to-", modules.Embedded, "target")
	opts.PIN = pinFlags(c, "from-", "source user PIN")
	c.Flags().StringVar(&opts.Inventory, "inventory", "", "read the keys from this inventory CSV instead of the live source token")
	c.Flags().BoolVar(&opts.Strict, "strict", false, "exit non-zero when a mechanism the keys need is missing on the target")
	opts.Output.register(c)
	return c
}

func mechanismsRun(opts *MechanismsOptions) error {
	if err := opts.Output.check(opts.IO); err != nil {
		return err
	}
	srcMechs, inv, err := sourceSide(opts)
	if err != nil {
		return err
	}
	dstMechs, err := targetMechanisms(opts.To)
	if err != nil {
		return err
	}
	rep := inventory.CompareMechanisms(srcMechs, dstMechs, inv)
	if err := opts.Output.render(opts.IO, mechanismsReport(rep)); err != nil {
		return err
	}
	return strictCheck(opts, rep, inv != nil)
}

// sourceSide reads the source mechanism list and, when a PIN source or an
// inventory file is given, the inventory whose keys set the needs.
func sourceSide(opts *MechanismsOptions) ([]inventory.MechInfo, *inventory.Inventory, error) {
	var fileInv *inventory.Inventory
	if opts.Inventory != "" {
		f, err := os.Open(opts.Inventory)
		if err != nil {
			return nil, nil, errs.New(errs.KindUsage, "--inventory", err.Error(), "pass the CSV written by 'craton migrate inventory'")
		}
		defer f.Close()
		if fileInv, err = inventory.ReadCSV(f); err != nil {
			return nil, nil, err
		}
	}
	withPIN := fileInv == nil && opts.PIN.Given()
	var src *pin.Source
	if withPIN {
		src = opts.PIN
	}
	e, userPIN, err := openEndpoint(opts.IO, opts.From, src, false)
	if err != nil {
		return nil, nil, err
	}
	defer e.close()
	mechs, err := inventory.ReadMechanisms(e.mod, e.token.Slot)
	if err != nil || !withPIN {
		return mechs, fileInv, err
	}
	inv, err := inventory.Take(e.mod, e.token, inventory.Options{PIN: userPIN})
	return mechs, inv, err
}

// targetMechanisms lists the target's mechanisms: of the named token's
// slot, else of the first slot (the target token may not exist yet).
func targetMechanisms(mf ModuleFlags) ([]inventory.MechInfo, error) {
	mod, err := modules.Open(mf.Module, mf.Config)
	if err != nil {
		return nil, err
	}
	defer mod.Close()
	var slot uint
	if mf.Token != "" {
		tok, err := p11.FindToken(mod, mf.Token, mf.Serial)
		if err != nil {
			return nil, err
		}
		slot = tok.Slot
	} else {
		slots, err := mod.GetSlotList(true)
		if err != nil {
			return nil, p11.Wrap("C_GetSlotList", err)
		}
		if len(slots) == 0 {
			return nil, errs.New(errs.KindTokenNotFound, "target", "the target module has no slot with a token", "check the target module's configuration")
		}
		slot = slots[0]
	}
	return inventory.ReadMechanisms(mod, slot)
}

func mechanismsReport(rep inventory.MechReport) report.Report {
	rows := make([]MechanismRow, len(rep.Rows))
	for i, r := range rep.Rows {
		rows[i] = MechanismRow{Mechanism: r.Mechanism, Code: fmt.Sprintf("0x%08X", r.Code), Source: r.Source,
			Target: r.Target, Status: r.Status, Advice: r.Advice}
	}
	return report.Report{Title: "Mechanisms: source vs target", Rows: rows, Data: rep}
}

func strictCheck(opts *MechanismsOptions, rep inventory.MechReport, haveKeys bool) error {
	if len(rep.MissingOnTarget) > 0 {
		fmt.Fprintf(opts.IO.ErrOut, "the target lacks mechanisms the keys need: %s\n", strings.Join(rep.MissingOnTarget, ", "))
	}
	if !opts.Strict {
		return nil
	}
	if !haveKeys {
		return errs.Usage("--strict needs the keys: give a source PIN source or --inventory FILE", "add --from-pin-file or --inventory")
	}
	if len(rep.MissingOnTarget) > 0 {
		return errs.New(errs.KindVerifyFailed, "migrate mechanisms --strict",
			fmt.Sprintf("%d mechanisms the inventoried keys need are missing on the target", len(rep.MissingOnTarget)),
			"see the advice column; move the applications to a mechanism the target offers before cutover")
	}
	return nil
}
