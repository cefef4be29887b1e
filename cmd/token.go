package cmd

import (
	"fmt"

	"github.com/craton-co/craton/errs"
	"github.com/craton-co/craton/internal/iostreams"
	"github.com/craton-co/craton/inventory"
	"github.com/craton-co/craton/modules"
	"github.com/craton-co/craton/p11"
	"github.com/craton-co/craton/pin"
	"github.com/miekg/pkcs11"
	"github.com/spf13/cobra"
)

func newTokenCmd(io *iostreams.IOStreams) *cobra.Command {
	c := &cobra.Command{
		Use:   "token",
		Short: "Initialise and inspect tokens (the embedded engine by default, or any module)",
	}
	c.AddCommand(newTokenInitCmd(io), newTokenInitPINCmd(io), newTokenSetPINCmd(io), newTokenInfoCmd(io), newTokenObjectsCmd(io))
	return c
}

// TokenInitOptions are the options of 'craton token init'.
type TokenInitOptions struct {
	IO    *iostreams.IOStreams
	Mod   ModuleFlags
	Label string
	SOPIN *pin.Source
}

func newTokenInitCmd(io *iostreams.IOStreams) *cobra.Command {
	opts := &TokenInitOptions{IO: io}
	c := &cobra.Command{
		Use:   "init",
		Short: "Initialise a token with a label and SO PIN (C_InitToken)",
		Long: `Initialises the first uninitialised token with --label, or re-initialises the
token selected by --token (which destroys its objects: the SO PIN is checked
first, and a wrong PIN changes nothing). Reuse the SoftHSMv2 label so that
applications find the new token under the name they already use.`,
		Example: `  craton token init --label "Your-Token-Label" --so-pin-file so.pin`,
		Args:    cobra.NoArgs,
		RunE:    markRan(func(*cobra.Command, []string) error { return tokenInitRun(opts) }),
	}
	opts.Mod.register(c, "", modules.Embedded, "")
	c.Flags().StringVar(&opts.Label, "label", "", "label of the new token (at most 32 bytes)")
	opts.SOPIN = pinFlags(c, "so-", "SO PIN")
	return c
}

func tokenInitRun(opts *TokenInitOptions) error {
	if opts.Label == "" || len(opts.Label) > 32 {
		return errs.Usage("--label is required and at most 32 bytes", "pass --label LABEL")
	}
	mod, err := modules.Open(opts.Mod.Module, opts.Mod.Config)
	if err != nil {
		return err
	}
	defer mod.Close()
	slot, err := initSlot(mod, opts.Mod)
	if err != nil {
		return err
	}
	soPIN, err := opts.SOPIN.Read(opts.IO, opts.IO.ErrOut)
	if err != nil {
		return err
	}
	if err := mod.InitToken(slot, soPIN, opts.Label); err != nil {
		return p11.Wrap(fmt.Sprintf("C_InitToken(slot %d, label %q)", slot, opts.Label), err)
	}
	fmt.Fprintf(opts.IO.Out, "token %q initialised in slot %d; next: craton token init-pin --token %q\n", opts.Label, slot, opts.Label)
	return nil
}

// initSlot picks the slot to initialise: the named token's, or a free one.
func initSlot(mod p11.Module, mf ModuleFlags) (uint, error) {
	if mf.Token != "" {
		tok, err := p11.FindToken(mod, mf.Token, mf.Serial)
		return tok.Slot, err
	}
	slot, ok, err := p11.FreeSlot(mod)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, errs.New(errs.KindState, "token init", "every slot holds an initialised token",
			"pass --token LABEL to re-initialise one (its objects are destroyed), or add slots (token.slot_count)")
	}
	return slot, nil
}

// TokenPINOptions are the options of 'craton token init-pin' and 'set-pin'.
type TokenPINOptions struct {
	IO     *iostreams.IOStreams
	Mod    ModuleFlags
	Login  *pin.Source // SO PIN for init-pin; the current PIN for set-pin
	NewPIN *pin.Source
	AsSO   bool
}

func newTokenInitPINCmd(io *iostreams.IOStreams) *cobra.Command {
	opts := &TokenPINOptions{IO: io}
	c := &cobra.Command{
		Use:   "init-pin",
		Short: "Set the user PIN as the SO (C_InitPIN); existing objects stay readable",
		Args:  cobra.NoArgs,
		RunE: markRan(func(*cobra.Command, []string) error {
			return tokenPINRun(opts, pkcs11.CKU_SO, func(s *p11.Session, newPIN string) error {
				return s.M.InitPIN(s.H, newPIN)
			}, "C_InitPIN")
		}),
	}
	opts.Mod.register(c, "", modules.Embedded, "")
	opts.Login = pinFlags(c, "so-", "SO PIN")
	opts.NewPIN = pinFlags(c, "", "new user PIN")
	return c
}

func newTokenSetPINCmd(io *iostreams.IOStreams) *cobra.Command {
	opts := &TokenPINOptions{IO: io}
	c := &cobra.Command{
		Use:   "set-pin",
		Short: "Change the user PIN (or with --so the SO PIN) (C_SetPIN)",
		Long: `Changes a PIN. Rotate both PINs away from the values used during a migration:
'craton migrate verify' fails its PIN-rotation item until you do.`,
		Args: cobra.NoArgs,
		RunE: markRan(func(*cobra.Command, []string) error {
			user := uint(pkcs11.CKU_USER)
			if opts.AsSO {
				user = pkcs11.CKU_SO
			}
			oldPIN := ""
			return tokenPINRun(opts, user, func(s *p11.Session, newPIN string) error {
				return s.M.SetPIN(s.H, oldPIN, newPIN)
			}, "C_SetPIN", &oldPIN)
		}),
	}
	opts.Mod.register(c, "", modules.Embedded, "")
	opts.Login = pinFlags(c, "", "current PIN")
	opts.NewPIN = pinFlags(c, "new-", "new PIN")
	c.Flags().BoolVar(&opts.AsSO, "so", false, "change the SO PIN instead of the user PIN")
	return c
}

// tokenPINRun logs in as user with opts.Login, then applies op with the new
// PIN. When keepLogin is given it also receives the login PIN (C_SetPIN needs it).
func tokenPINRun(opts *TokenPINOptions, user uint, op func(*p11.Session, string) error, name string, keepLogin ...*string) error {
	e, _, err := openEndpoint(opts.IO, opts.Mod, nil, true)
	if err != nil {
		return err
	}
	defer e.close()
	loginPIN, err := opts.Login.Read(opts.IO, opts.IO.ErrOut)
	if err != nil {
		return err
	}
	newPIN, err := opts.NewPIN.Read(opts.IO, opts.IO.ErrOut)
	if err != nil {
		return err
	}
	if err := e.sess.Login(user, loginPIN); err != nil {
		return err
	}
	defer func() { _ = e.sess.M.Logout(e.sess.H) }()
	for _, p := range keepLogin {
		*p = loginPIN
	}
	if err := op(e.sess, newPIN); err != nil {
		return p11.Wrap(fmt.Sprintf("%s on token %q", name, e.token.Label), err)
	}
	fmt.Fprintf(opts.IO.Out, "%s done on token %q\n", name, e.token.Label)
	return nil
}

// TokenInfoOptions are the options of 'craton token info'.
type TokenInfoOptions struct {
	IO     *iostreams.IOStreams
	Mod    ModuleFlags
	Output OutputFlags
}

// TokenRow is one token in 'craton token info'.
type TokenRow struct {
	Slot         uint     `col:"slot" json:"slot" yaml:"slot"`
	Label        string   `col:"label" json:"label" yaml:"label"`
	Serial       string   `col:"serial" json:"serial" yaml:"serial"`
	Model        string   `col:"model" json:"model" yaml:"model"`
	Manufacturer string   `col:"manufacturer" json:"manufacturer" yaml:"manufacturer"`
	PINRange     string   `col:"pin_min_max" json:"pin_min_max" yaml:"pin_min_max"`
	Sessions     string   `col:"sessions" json:"sessions" yaml:"sessions"`
	Mechanisms   int      `col:"mechanisms" json:"mechanisms" yaml:"mechanisms"`
	Flags        []string `col:"flags" json:"flags" yaml:"flags"`
}

func newTokenInfoCmd(io *iostreams.IOStreams) *cobra.Command {
	opts := &TokenInfoOptions{IO: io}
	c := &cobra.Command{
		Use:   "info",
		Short: "Show the module's initialised tokens (or the one named by --token)",
		Args:  cobra.NoArgs,
		RunE:  markRan(func(*cobra.Command, []string) error { return tokenInfoRun(opts) }),
	}
	opts.Mod.register(c, "", modules.Embedded, "")
	opts.Output.register(c)
	return c
}

func tokenInfoRun(opts *TokenInfoOptions) error {
	if err := opts.Output.check(opts.IO); err != nil {
		return err
	}
	mod, err := modules.Open(opts.Mod.Module, opts.Mod.Config)
	if err != nil {
		return err
	}
	defer mod.Close()
	toks, err := p11.Tokens(mod)
	if err != nil {
		return err
	}
	if opts.Mod.Token != "" {
		tok, err := p11.FindToken(mod, opts.Mod.Token, opts.Mod.Serial)
		if err != nil {
			return err
		}
		toks = []p11.Token{tok}
	}
	rows := make([]TokenRow, 0, len(toks))
	for _, t := range toks {
		mechs, err := mod.GetMechanismList(t.Slot)
		if err != nil {
			return p11.Wrap("C_GetMechanismList", err)
		}
		rows = append(rows, TokenRow{Slot: t.Slot, Label: t.Label, Serial: t.Serial,
			Model: p11.TrimLabel(t.Info.Model), Manufacturer: p11.TrimLabel(t.Info.ManufacturerID),
			PINRange:   fmt.Sprintf("%d-%d", t.Info.MinPinLen, t.Info.MaxPinLen),
			Sessions:   fmt.Sprintf("%d/%d", t.Info.SessionCount, t.Info.MaxSessionCount),
			Mechanisms: len(mechs), Flags: inventory.TokenFlags(t.Info.Flags)})
	}
	return opts.Output.render(opts.IO, reportOf(fmt.Sprintf("Tokens of %s", opts.Mod.Module), rows))
}

// TokenObjectsOptions are the options of 'craton token objects'.
type TokenObjectsOptions struct {
	IO     *iostreams.IOStreams
	Mod    ModuleFlags
	PIN    *pin.Source
	Public bool
	Output OutputFlags
}

func newTokenObjectsCmd(io *iostreams.IOStreams) *cobra.Command {
	opts := &TokenObjectsOptions{IO: io}
	c := &cobra.Command{
		Use:   "objects",
		Short: "List a token's objects with their attributes",
		Long: `Lists every object with the same record as 'craton migrate inventory' (label,
CKA_ID, type and size, flags, fingerprint or check value). With --public-only
no PIN is needed and only public objects are listed.`,
		Args: cobra.NoArgs,
		RunE: markRan(func(*cobra.Command, []string) error { return tokenObjectsRun(opts) }),
	}
	opts.Mod.register(c, "", modules.Embedded, "")
	opts.PIN = pinFlags(c, "", "user PIN")
	c.Flags().BoolVar(&opts.Public, "public-only", false, "do not log in: list public objects only")
	opts.Output.register(c)
	return c
}

func tokenObjectsRun(opts *TokenObjectsOptions) error {
	if err := opts.Output.check(opts.IO); err != nil {
		return err
	}
	src := opts.PIN
	if opts.Public {
		src = nil
	}
	e, userPIN, err := openEndpoint(opts.IO, opts.Mod, src, false)
	if err != nil {
		return err
	}
	defer e.close()
	inv, err := inventory.Take(e.mod, e.token, inventory.Options{PIN: userPIN})
	if err != nil {
		return err
	}
	rep := inventoryReport(inv)
	rep.TableColumns = []string{"label", "id", "class", "size", "extractable", "sensitive", "private", "fingerprint", "check_value"}
	return opts.Output.render(opts.IO, rep)
}
