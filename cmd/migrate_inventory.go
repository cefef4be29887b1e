package cmd

import (
	"fmt"
	"io"

	"github.com/craton-co/craton/internal/iostreams"
	"github.com/craton-co/craton/inventory"
	"github.com/craton-co/craton/p11"
	"github.com/craton-co/craton/pin"
	"github.com/craton-co/craton/report"
	"github.com/spf13/cobra"
)

// InventoryOptions are the options of 'craton migrate inventory'.
type InventoryOptions struct {
	IO     *iostreams.IOStreams
	From   ModuleFlags
	PIN    *pin.Source
	Output OutputFlags
}

func newInventoryCmd(io *iostreams.IOStreams, runF func(*InventoryOptions) error) *cobra.Command {
	opts := &InventoryOptions{IO: io}
	c := &cobra.Command{
		Use:   "inventory",
		Short: "List every object of the source token with its attributes and disposition",
		Long: `Reads every object of the source token (public objects, and private ones after
login) and records what the migration guide asks for: label, CKA_ID, key type
and size, extractable/sensitive/token/private, usage flags, provenance flags,
a public-key fingerprint or an in-token key check value, links between keys
and certificates by CKA_ID, and a disposition: wrap, copy, regenerate or
blocked, with the reason.

Write it to CSV before anything moves: it is the diff target after cutover,
and later commands take it with --inventory. Columns: docs/inventory-format.md.`,
		Example: `  craton migrate inventory --from-token "Your-Token-Label" \
    --from-pin-file /root/user.pin --output csv --out pre-migration.csv`,
		Args: cobra.NoArgs,
		RunE: markRan(func(*cobra.Command, []string) error {
			if runF != nil {
				return runF(opts)
			}
			return inventoryRun(opts)
		}),
	}
	opts.From.register(c, "from-", p11.DefaultSoftHSM, "source")
	opts.PIN = pinFlags(c, "from-", "source user PIN")
	opts.Output.register(c)
	return c
}

func inventoryRun(opts *InventoryOptions) error {
	if err := opts.Output.check(opts.IO); err != nil {
		return err
	}
	src, userPIN, err := openEndpoint(opts.IO, opts.From, opts.PIN, false)
	if err != nil {
		return err
	}
	defer src.close()
	inv, err := inventory.Take(src.mod, src.token, inventory.Options{PIN: userPIN})
	if err != nil {
		return err
	}
	for _, w := range inv.Warnings {
		fmt.Fprintf(opts.IO.ErrOut, "warning: %s\n", w)
	}
	return opts.Output.render(opts.IO, inventoryReport(inv))
}

func inventoryReport(inv *inventory.Inventory) report.Report {
	return report.Report{
		Title:        fmt.Sprintf("Inventory of token %q (serial %s): %d objects", inv.Token.Label, inv.Token.Serial, len(inv.Records)),
		Rows:         inv.Records,
		Data:         inv,
		TableColumns: []string{"label", "id", "class", "size", "extractable", "sensitive", "disposition", "reason"},
		CSV:          func(w io.Writer) error { return inventory.WriteCSV(w, inv) },
	}
}
