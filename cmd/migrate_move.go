package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/craton-co/craton/errs"
	"github.com/craton-co/craton/internal/iostreams"
	"github.com/craton-co/craton/inventory"
	"github.com/craton-co/craton/modules"
	"github.com/craton-co/craton/p11"
	"github.com/craton-co/craton/pin"
	"github.com/craton-co/craton/report"
	"github.com/craton-co/craton/wrapmove"
	"github.com/miekg/pkcs11"
	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"
)

// migrationFlags are the flags every two-module migration command shares.
type migrationFlags struct {
	From, To   ModuleFlags
	FromPIN    *pin.Source
	ToPIN      *pin.Source
	ToSOPIN    *pin.Source
	InitTarget bool
}

func (m *migrationFlags) register(c *cobra.Command, withInit bool) {
	m.From.register(c, "from-", p11.DefaultSoftHSM, "source")
	m.To.register(c, "to-", modules.Embedded, "target")
	m.FromPIN = pinFlags(c, "from-", "source user PIN")
	m.ToPIN = pinFlags(c, "to-", "target user PIN")
	if withInit {
		m.ToSOPIN = pinFlags(c, "to-so-", "target SO PIN")
		c.Flags().BoolVar(&m.InitTarget, "init-target", false, "initialise an uninitialised target token with the source label (needs --to-so-pin-… and --to-pin-…)")
	}
}

// sides are the two opened endpoints of a migration and their user PINs.
type sides struct {
	src, dst       *endpoint
	srcPIN, dstPIN string
	dstSOPIN       string // only when --init-target initialised the target
}

func (s *sides) close() {
	if s.src != nil {
		s.src.close()
	}
	if s.dst != nil {
		s.dst.close()
	}
}

// openSides opens the source, then the target (initialising it first when
// asked). The target token label defaults to the source label, as the guide
// recommends, so applications keep finding their token.
func openSides(io *iostreams.IOStreams, m *migrationFlags) (*sides, error) {
	s := &sides{}
	var err error
	if s.src, s.srcPIN, err = openEndpoint(io, m.From, m.FromPIN, false); err != nil {
		return nil, err
	}
	to := m.To
	if to.Token == "" {
		to.Token = s.src.token.Label
	}
	dstPIN := m.ToPIN
	if m.InitTarget {
		var userPIN string
		if s.dstSOPIN, userPIN, err = initTarget(io, m, to.Token); err != nil {
			s.close()
			return nil, err
		}
		dstPIN = &pin.Source{Role: m.ToPIN.Role, Value: userPIN}
	}
	if s.dst, s.dstPIN, err = openEndpoint(io, to, dstPIN, true); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// initTarget runs C_InitToken and C_InitPIN on the target's free slot. It
// refuses when a token with that label already exists: initialising is
// destructive and never implied.
// It returns the SO and user PINs it used, so that each is read (or
// prompted for) once.
func initTarget(io *iostreams.IOStreams, m *migrationFlags, label string) (soPIN, userPIN string, err error) {
	mod, err := modules.Open(m.To.Module, m.To.Config)
	if err != nil {
		return "", "", err
	}
	defer mod.Close()
	if err := requirePersistent(mod); err != nil {
		return "", "", err
	}
	if _, err := p11.FindToken(mod, label, ""); err == nil {
		return "", "", errs.New(errs.KindState, "--init-target", fmt.Sprintf("the target already has a token labelled %q", label),
			"drop --init-target to migrate into it")
	}
	slot, ok, err := p11.FreeSlot(mod)
	if err != nil {
		return "", "", err
	}
	if !ok {
		return "", "", errs.New(errs.KindState, "--init-target", "the target has no uninitialised token", "add a slot (token.slot_count) or pass --to-token")
	}
	if soPIN, err = m.ToSOPIN.Read(io, io.ErrOut); err != nil {
		return "", "", err
	}
	if userPIN, err = m.ToPIN.Read(io, io.ErrOut); err != nil {
		return "", "", err
	}
	if err := mod.InitToken(slot, soPIN, label); err != nil {
		return "", "", p11.Wrap(fmt.Sprintf("C_InitToken(%q) on the target", label), err)
	}
	tok, err := p11.FindToken(mod, label, "")
	if err != nil {
		return "", "", err
	}
	sess, err := p11.OpenSession(mod, tok, true)
	if err != nil {
		return "", "", err
	}
	defer sess.Close()
	if err := sess.Login(pkcs11.CKU_SO, soPIN); err != nil {
		return "", "", err
	}
	defer func() { _ = mod.Logout(sess.H) }()
	return soPIN, userPIN, p11.Wrap("C_InitPIN on the target", mod.InitPIN(sess.H, userPIN))
}

// requirePersistentTarget refuses to put keys into an embedded engine that
// keeps its tokens in memory: they would be "moved and proven", then vanish
// when craton exits, and an operator might already retire the source.
func requirePersistentTarget(dst *endpoint, dryRun bool) error {
	if dryRun {
		return nil
	}
	return requirePersistent(dst.mod)
}

func requirePersistent(mod *p11.Loaded) error {
	eng, ok := modules.Engine(mod)
	if !ok || eng.Config().Token.PersistObjects {
		return nil
	}
	return errs.New(errs.KindState, "target engine", "token.persist_objects is false: the target keeps its objects in memory only, and moved keys would vanish when craton exits",
		"set 'persist_objects: true' under token: in the engine config (--to-config or $CRATON_HSM_CONFIG)")
}

// defaultJournal is beside the engine's store, or in the working directory
// for an external target.
func defaultJournal(dst *endpoint) string {
	name := "craton-migration-" + safeName(dst.token.Label) + ".journal.json"
	if eng, ok := modules.Engine(dst.mod); ok && eng.StorePath() != "" {
		return filepath.Join(filepath.Dir(eng.StorePath()), name)
	}
	return name
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == os.PathSeparator || r < 0x20 || r == ' ' {
			return '_'
		}
		return r
	}, s)
}

// PlanOptions are the options of 'craton migrate plan'.
type PlanOptions struct {
	IO            *iostreams.IOStreams
	M             migrationFlags
	InventoryFile string
	Output        OutputFlags
}

func newPlanCmd(io *iostreams.IOStreams) *cobra.Command {
	opts := &PlanOptions{IO: io}
	c := &cobra.Command{
		Use:   "plan",
		Short: "Decide per object: wrap, copy, regenerate, skip or blocked; write the plan or a runbook",
		Long: `Takes the source's inventory (live, or --inventory FILE) and the target's
capabilities and objects, and decides for each object what the move will do
(wrap with KWP or KW, copy by value, regenerate, skip because it is already
present and proven, or blocked) and why. The inventory's disposition says
what the source allows; the plan adds what depends on the target.

With --inventory FILE (the CSV of 'craton migrate inventory', or its JSON or
YAML) only the target is opened: the source module need not be reachable. A
CSV carries no token information, so --from-token names the source token
recorded in the plan (move checks it); JSON and YAML carry the label and
serial. The source's wrap mechanisms are then taken from a JSON/YAML
inventory, or assumed (KWP and KW, as every SoftHSMv2 2.x offers).

--output yaml writes the plan file that 'migrate move --plan' executes
(schema: docs/plan-format.md). --output markdown writes the operator runbook:
the guide's steps filled with this deployment's labels, IDs and paths.`,
		Example: `  craton migrate plan --from-token "Your-Token-Label" --from-pin-file src.pin \
    --to-pin-file dst.pin --output yaml --out plan.yaml
  craton migrate plan --inventory pre.csv --from-token "Your-Token-Label" \
    --to-pin-file dst.pin --output yaml --out plan.yaml
  craton migrate plan ... --output markdown --out RUNBOOK.md`,
		Args: cobra.NoArgs,
		RunE: markRan(func(*cobra.Command, []string) error { return planRun(opts) }),
	}
	opts.M.register(c, false)
	c.Flags().StringVar(&opts.InventoryFile, "inventory", "", "plan from this source inventory (CSV, or .json/.yaml) instead of the live source; only the target is opened")
	opts.Output.register(c)
	return c
}

func planRun(opts *PlanOptions) error {
	if err := opts.Output.check(opts.IO); err != nil {
		return err
	}
	var p wrapmove.Plan
	if opts.InventoryFile != "" {
		inv, err := loadInventoryFile(opts.InventoryFile)
		if err != nil {
			return err
		}
		if p, err = planFromInventoryFile(opts, inv); err != nil {
			return err
		}
	} else {
		s, err := openSides(opts.IO, &opts.M)
		if err != nil {
			return err
		}
		defer s.close()
		if p, err = makePlan(opts.M, s); err != nil {
			return err
		}
	}
	env := wrapmove.RunbookEnv{SourceModule: opts.M.From.Module, TargetConfig: opts.M.To.Config}
	if opts.M.To.Module != modules.Embedded {
		env.TargetModule = opts.M.To.Module
	}
	return opts.Output.render(opts.IO, report.Report{
		Title:    fmt.Sprintf("Migration plan: %q -> %q", p.Source.Token, p.Target.Token),
		Rows:     planRows(p),
		Data:     p,
		Markdown: func(w io.Writer) error { return wrapmove.RenderRunbook(w, p, env) },
		YAML:     func(w io.Writer) error { return wrapmove.WritePlan(w, p) },
	})
}

// planFromInventoryFile plans from an inventory file and the target alone.
// The source token recorded in the plan is --from-token, else the
// inventory's own (JSON/YAML); the target token defaults to it, as in a
// live plan.
func planFromInventoryFile(opts *PlanOptions, inv *inventory.Inventory) (wrapmove.Plan, error) {
	srcEP := wrapmove.Endpoint{Module: opts.M.From.Module, Token: opts.M.From.Token, Serial: opts.M.From.Serial}
	if srcEP.Token == "" {
		srcEP.Token = inv.Token.Label
	}
	if srcEP.Token == "" {
		return wrapmove.Plan{}, errs.Usage("--inventory "+opts.InventoryFile+" names no source token (a CSV carries records only)",
			"pass --from-token LABEL: the source token's label, recorded in the plan and checked by 'migrate move'")
	}
	to := opts.M.To
	if to.Token == "" {
		to.Token = srcEP.Token
	}
	dst, dstPIN, err := openEndpoint(opts.IO, to, opts.M.ToPIN, false)
	if err != nil {
		return wrapmove.Plan{}, err
	}
	defer dst.close()
	caps, err := wrapmove.ProbeTarget(dst.mod, dst.token)
	if err != nil {
		return wrapmove.Plan{}, err
	}
	present, err := inventory.Take(dst.mod, dst.token, inventory.Options{PIN: dstPIN})
	if err != nil {
		return wrapmove.Plan{}, err
	}
	return wrapmove.PlanFromInventory(inv, caps, present.Records, srcEP, targetEndpoint(opts.M, dst)), nil
}

// makePlan plans from the live source: its inventory, both modules'
// capabilities, and the objects already on the target.
func makePlan(m migrationFlags, s *sides) (wrapmove.Plan, error) {
	caps, err := wrapmove.ProbeCapabilities(s.src.mod, s.src.token, s.dst.mod, s.dst.token)
	if err != nil {
		return wrapmove.Plan{}, err
	}
	inv, err := inventory.Take(s.src.mod, s.src.token, inventory.Options{PIN: s.srcPIN})
	if err != nil {
		return wrapmove.Plan{}, err
	}
	present, err := inventory.Take(s.dst.mod, s.dst.token, inventory.Options{PIN: s.dstPIN})
	if err != nil {
		return wrapmove.Plan{}, err
	}
	srcEP := wrapmove.Endpoint{Module: m.From.Module, Token: s.src.token.Label, Serial: s.src.token.Serial}
	return wrapmove.PlanFromInventory(inv, caps, present.Records, srcEP, targetEndpoint(m, s.dst)), nil
}

func targetEndpoint(m migrationFlags, dst *endpoint) wrapmove.Endpoint {
	return wrapmove.Endpoint{Module: m.To.Module, Token: dst.token.Label, Serial: dst.token.Serial}
}

// loadInventoryFile reads an inventory written by 'craton migrate
// inventory': JSON or YAML by the file's extension, else CSV.
func loadInventoryFile(path string) (*inventory.Inventory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, errs.New(errs.KindUsage, "--inventory", err.Error(), "pass the file written by 'craton migrate inventory'")
	}
	var inv inventory.Inventory
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		err = json.Unmarshal(data, &inv)
	case ".yaml", ".yml":
		err = yaml.Unmarshal(data, &inv)
	default:
		ci, cerr := inventory.ReadCSV(bytes.NewReader(data))
		if cerr != nil {
			return nil, cerr
		}
		return ci, nil
	}
	if err != nil {
		return nil, &errs.Error{Kind: errs.KindInput, Op: "read inventory " + path, Msg: err.Error(),
			Hint: "write it with 'craton migrate inventory -o json' (or -o yaml, or -o csv)"}
	}
	for i := range inv.Records {
		inventory.SetSize(&inv.Records[i], inv.Records[i].Size)
	}
	return &inv, nil
}

// PlanRow is one action of a plan, as listed on a terminal or in CSV.
type PlanRow struct {
	Label     string `col:"label"`
	ID        string `col:"id"`
	Class     string `col:"class"`
	KeyType   string `col:"key_type"`
	Action    string `col:"action"`
	Mechanism string `col:"mechanism"`
	Reason    string `col:"reason"`
}

func planRows(p wrapmove.Plan) []PlanRow {
	rows := make([]PlanRow, len(p.Actions))
	for i, a := range p.Actions {
		rows[i] = PlanRow{Label: a.Label, ID: a.ID, Class: a.Class, KeyType: a.KeyType, Action: a.Action, Mechanism: a.Mechanism, Reason: a.Reason}
	}
	return rows
}

func moveOptions(m migrationFlags, s *sides, plan *wrapmove.Plan, dry, harden bool, journal string) wrapmove.MoveOptions {
	return wrapmove.MoveOptions{
		Source: s.src.mod, Target: s.dst.mod, SourceToken: s.src.token, TargetToken: s.dst.token,
		SourcePIN: s.srcPIN, TargetPIN: s.dstPIN, TargetSOPIN: s.dstSOPIN, SourceModule: m.From.Module, TargetModule: m.To.Module,
		Plan: plan, DryRun: dry, Harden: harden, JournalPath: journal,
	}
}

// MoveOptions are the options of 'craton migrate move'.
type MoveOptions struct {
	IO       *iostreams.IOStreams
	M        migrationFlags
	PlanFile string
	DryRun   bool
	Harden   bool
	Journal  string
	Output   OutputFlags
}

func newMoveCmd(io *iostreams.IOStreams) *cobra.Command {
	opts := &MoveOptions{IO: io}
	c := &cobra.Command{
		Use:   "move",
		Short: "Wrap keys out of the source and unwrap them into the target, proving each one",
		Long: `Moves the source token's objects onto the target as the plan says: keys by
AES key wrap (KWP, else KW) under a transport key that exists only as session
objects in the two tokens (derived by ECDH inside both when they can, else a
random key created in both and zeroed in memory), public keys, certificates
and data objects by value, with CKA_LABEL and CKA_ID byte-exact.

Each object is proven before it counts: a signature made on one side verifies
on the other, or the same check value on both sides. A failed proof removes
the target copy. Progress goes to a journal; after a crash run the same
command again: what is present and proven is skipped, the rest finishes, and
every key ends up on the target exactly once. The source is never modified.

Memory: a move collects garbage once craton's Go heap has grown by a third
over what the move holds (GOGC=33, where Go's default is 100), so that its Go
memory stays near 1.3 times its live data (~2-3 KB per object) at the cost of
more frequent collection; set GOGC to choose otherwise. A PKCS#11 module
loaded in the process has memory of its own (SoftHSMv2: ~9 KB per object on its tokens).`,
		Example: `  craton migrate move --from-token "Your-Token-Label" --from-pin-file src.pin \
    --to-pin-file dst.pin --plan plan.yaml`,
		Args: cobra.NoArgs,
		RunE: markRan(func(*cobra.Command, []string) error { return moveRun(opts) }),
	}
	opts.M.register(c, true)
	c.Flags().StringVar(&opts.PlanFile, "plan", "", "execute this plan file (from 'migrate plan'); default: plan from the live tokens")
	c.Flags().BoolVar(&opts.DryRun, "dry-run", false, "read both tokens and build every template, but create nothing")
	c.Flags().BoolVar(&opts.Harden, "harden", false, "set CKA_EXTRACTABLE=false on every moved key")
	c.Flags().StringVar(&opts.Journal, "journal", "", "journal file (default: beside the engine store, or ./craton-migration-<label>.journal.json)")
	opts.Output.register(c)
	return c
}

func moveRun(opts *MoveOptions) error {
	if err := opts.Output.check(opts.IO); err != nil {
		return err
	}
	defer setMoveGC()()
	var plan *wrapmove.Plan
	if opts.PlanFile != "" {
		p, err := wrapmove.LoadPlan(opts.PlanFile)
		if err != nil {
			return err
		}
		plan = &p
	}
	s, err := openSides(opts.IO, &opts.M)
	if err != nil {
		return err
	}
	defer s.close()
	if err := requirePersistentTarget(s.dst, opts.DryRun); err != nil {
		return err
	}
	journal := opts.Journal
	if journal == "" && !opts.DryRun {
		journal = defaultJournal(s.dst)
	}
	mo := moveOptions(opts.M, s, plan, opts.DryRun, opts.Harden, journal)
	if opts.IO.IsStderrTTY() {
		mo.Progress = func(done, total int, label string) {
			fmt.Fprintf(opts.IO.ErrOut, "\r\033[K[%d/%d] %s", done, total, label)
			if done == total {
				fmt.Fprintln(opts.IO.ErrOut)
			}
		}
	}
	res, moveErr := wrapmove.Move(context.Background(), mo)
	if res == nil {
		return moveErr
	}
	c := res.Counts
	title := fmt.Sprintf("Move %q -> %q: %d moved, %d copied, %d skipped, %d to regenerate, %d blocked, %d failed (transport: %s)",
		s.src.token.Label, s.dst.token.Label, c.Moved, c.Copied, c.Skipped, c.Regenerate, c.Blocked, c.Failed, res.Transport)
	if err := renderMove(opts, title, res); err != nil {
		return err
	}
	if res.JournalPath != "" {
		fmt.Fprintf(opts.IO.ErrOut, "journal: %s\n", res.JournalPath)
	}
	return moveErr
}

// renderMove writes the move's report. JSON, the same document, is written
// row by row (Result.WriteJSON) rather than built whole by the renderer.
func renderMove(opts *MoveOptions, title string, res *wrapmove.Result) error {
	if f, err := report.ParseFormat(opts.Output.Format, opts.IO.IsStdoutTTY() && opts.Output.Out == ""); err != nil || f != report.JSON {
		return opts.Output.render(opts.IO, report.Report{Title: title, Rows: res.Rows, Data: res})
	}
	f, w, closeFn, err := opts.Output.open(opts.IO)
	if err != nil {
		return err
	}
	if err := res.WriteJSON(w); err != nil {
		_ = closeFn()
		return fmt.Errorf("render %s: %w", f, err)
	}
	return closeFn()
}

// RegenerateOptions are the options of 'craton migrate regenerate'.
type RegenerateOptions struct {
	IO       *iostreams.IOStreams
	M        migrationFlags
	PlanFile string
	CSRDir   string
	Output   OutputFlags
}

func newRegenerateCmd(io *iostreams.IOStreams) *cobra.Command {
	opts := &RegenerateOptions{IO: io}
	c := &cobra.Command{
		Use:   "regenerate",
		Short: "Generate new keys on the target for keys that cannot leave the source, with CSRs",
		Long: `For each 'regenerate' item of the plan (non-extractable keys, and keys the
source cannot wrap such as Ed25519 on SoftHSMv2 2.6.1) generates on the target
a key of the same type and size with the same label, CKA_ID and permitted
operations, and writes a PEM certificate signing request signed by the new key
through PKCS#11, with the subject and SANs of the old certificate when there
is one. The old key is never changed: destroy it only after the new
certificate is deployed everywhere.`,
		Args: cobra.NoArgs,
		RunE: markRan(func(*cobra.Command, []string) error { return regenerateRun(opts) }),
	}
	opts.M.register(c, false)
	c.Flags().StringVar(&opts.PlanFile, "plan", "", "plan file (default: plan from the live tokens)")
	c.Flags().StringVar(&opts.CSRDir, "csr-dir", "", "directory for the PEM CSRs (required)")
	opts.Output.register(c)
	return c
}

func regenerateRun(opts *RegenerateOptions) error {
	if err := opts.Output.check(opts.IO); err != nil {
		return err
	}
	if opts.CSRDir == "" {
		return errs.Usage("--csr-dir is required", "pass a directory for the certificate signing requests")
	}
	if err := os.MkdirAll(opts.CSRDir, 0o700); err != nil {
		return errs.New(errs.KindUsage, "--csr-dir", err.Error(), "pass a writable directory")
	}
	s, err := openSides(opts.IO, &opts.M)
	if err != nil {
		return err
	}
	defer s.close()
	if err := requirePersistentTarget(s.dst, false); err != nil {
		return err
	}
	plan, err := loadOrMakePlan(opts.PlanFile, opts.M, s)
	if err != nil {
		return err
	}
	results, regenErr := wrapmove.Regenerate(wrapmove.RegenOptions{
		Target: s.dst.mod, TargetToken: s.dst.token, TargetPIN: s.dstPIN, Plan: &plan, CSRDir: opts.CSRDir,
		Source: s.src.mod, SourceToken: s.src.token, SourcePIN: s.srcPIN,
	})
	if err := opts.Output.render(opts.IO, reportOf(fmt.Sprintf("Regenerated on %q", s.dst.token.Label), results)); err != nil {
		return err
	}
	return regenErr
}

func loadOrMakePlan(path string, m migrationFlags, s *sides) (wrapmove.Plan, error) {
	if path != "" {
		return wrapmove.LoadPlan(path)
	}
	return makePlan(m, s)
}

// moveGCPercent is the garbage collector's GOGC during a move (see
// setMoveGC).
const moveGCPercent = 33

// setMoveGC has the garbage collector run once the Go heap has grown by a
// third over the live data (GOGC=33) during a move, instead of doubling it
// (the default 100). A move allocates ~100 KB per key that is garbage at
// once (attribute reads, sealed records, journal saves) over a live set of
// ~2-3 KB per object; with the default pacing the heap reached twice the
// live set, ~100 MB of Go memory at 10,000 keys for ~30 MB live. GOGC is
// proportional, with no cliff: a larger move holds more, and its heap is
// still 1.33 times that; the cost is ~3 times as many collections (user
// CPU of the 10,000-key move ~15.5 -> ~16 s). Not applied when GOGC is set
// in the environment or the embedding program changed the percentage;
// restored afterwards (moveRun also runs inside tests). Memory of a
// PKCS#11 module loaded in the process (C) is outside the Go heap.
func setMoveGC() (restore func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	if prev := debug.SetGCPercent(moveGCPercent); prev != 100 {
		debug.SetGCPercent(prev)
		return func() {}
	}
	return func() { debug.SetGCPercent(100) }
}
