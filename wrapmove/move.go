package wrapmove

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/craton-co/craton/errs"
	"github.com/craton-co/craton/inventory"
	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// MoveOptions configure Move. Source and Target may be the same loaded
// library (two SoftHSMv2 tokens) or different modules.
type MoveOptions struct {
	Source, Target           p11.Module
	SourceToken, TargetToken p11.Token
	SourcePIN, TargetPIN     string // user PINs; an empty source PIN skips login (public objects only)
	// TargetSOPIN, when the move initialised the target, is recorded (as a
	// salted hash, in the journal) so verify can insist it was rotated.
	TargetSOPIN                string
	SourceModule, TargetModule string // module paths, recorded in the plan and journal only

	// Plan to execute; nil makes one from the live source (and the result
	// carries it).
	Plan *Plan
	// DryRun reads both tokens and builds every template but creates
	// nothing: no transport key, no target object, no journal write.
	DryRun bool
	// Harden sets CKA_EXTRACTABLE=false on every moved key.
	Harden bool
	// JournalPath is the journal file; "" keeps no journal (then a re-run
	// still converges, by re-proving what it finds on the target).
	JournalPath string
	// Progress, when set, is called after each object.
	Progress func(done, total int, label string)
	// Caps overrides the probed capabilities (tests, unusual modules).
	Caps *Capabilities

	// crashAfterUnwrap simulates kill -9 right after this identity was
	// unwrapped: Move returns at once without journal or cleanup.
	crashAfterUnwrap string
}

// Row is one object's outcome.
type Row struct {
	Label   string `col:"label" json:"label"`
	ID      string `col:"id" json:"id"`
	Class   string `col:"class" json:"class"`
	KeyType string `col:"key_type" json:"key_type"`
	Action  string `col:"action" json:"action"`
	Status  string `col:"status" json:"status"`
	Proof   string `col:"proof" json:"proof"`
	Detail  string `col:"detail" json:"detail"`
}

// Row statuses.
const (
	StatusMoved      = "moved"
	StatusCopied     = "copied"
	StatusSkipped    = "skipped"
	StatusRegenerate = "regenerate"
	StatusBlocked    = "blocked"
	StatusFailed     = "failed"
	StatusPlanned    = "planned" // dry run
)

// Counts tallies rows by status; Unproven counts moved keys whose usage
// flags allowed no proof.
type Counts struct {
	Moved, Copied, Skipped, Regenerate, Blocked, Failed, Planned, Unproven int
}

// Result is what Move did.
type Result struct {
	Rows          []Row         `json:"rows"`
	Transport     string        `json:"transport,omitempty"`
	TransportNote string        `json:"transport_note,omitempty"`
	Counts        Counts        `json:"counts"`
	DryRun        bool          `json:"dry_run,omitempty"`
	JournalPath   string        `json:"journal,omitempty"`
	Plan          Plan          `json:"-"`
	Elapsed       time.Duration `json:"elapsed_ns"`
}

var errSimulatedCrash = errors.New("simulated crash (test hook)")

// mover holds one Move run's state.
type mover struct {
	opts     MoveOptions
	src, dst *p11.Session
	caps     Capabilities
	sx       *sourceIndex
	j        *Journal
	tr       *transport
	ix       *targetIndex
	res      *Result
	lastSave time.Time
	saveCost time.Duration // how long the last journal save took
	dirty    bool
	details  map[uint]string // wrapDetail per mechanism, shared by the rows
}

// Move executes a plan: copies public objects, wraps keys out of the
// source and unwraps them into the target under a transport key that
// exists only as session objects, proves every object on both sides, and
// journals progress. Interrupted or partly failed runs can simply be run
// again: objects already on the target are re-proven and skipped, every
// key ends up on the target exactly once. The source is never modified.
func Move(ctx context.Context, opts MoveOptions) (*Result, error) {
	start := time.Now()
	if opts.Source == nil || opts.Target == nil {
		return nil, errs.Usage("move needs a source and a target module", "")
	}
	// The source session is read-only: PKCS#11 lets a read-only session
	// create session objects (the transport key) but no token objects, so
	// the module itself guarantees the source token is not modified.
	src, err := openSide(opts.Source, opts.SourceToken, opts.SourcePIN, false)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	dst, err := openSide(opts.Target, opts.TargetToken, opts.TargetPIN, !opts.DryRun)
	if err != nil {
		return nil, err
	}
	defer dst.Close()
	m := &mover{opts: opts, src: src, dst: dst, res: &Result{DryRun: opts.DryRun, JournalPath: opts.JournalPath}}
	defer m.dropTransport()
	if err := m.prepare(); err != nil {
		return nil, err
	}
	err = m.run(ctx)
	m.res.Elapsed = time.Since(start)
	return m.res, err
}

func openSide(m p11.Module, tok p11.Token, pin string, rw bool) (*p11.Session, error) {
	s, err := p11.OpenSession(m, tok, rw)
	if err != nil {
		return nil, err
	}
	if pin != "" {
		if err := s.Login(pkcs11.CKU_USER, pin); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// prepare probes capabilities, reads the source and settles the plan.
func (m *mover) prepare() error {
	if m.opts.Caps != nil {
		m.caps = *m.opts.Caps
	} else {
		c, err := ProbeCapabilities(m.opts.Source, m.opts.SourceToken, m.opts.Target, m.opts.TargetToken)
		if err != nil {
			return err
		}
		m.caps = c
	}
	if m.opts.Plan == nil {
		// The inventory decides per object; the plan adds the target.
		// Take runs in a session of its own and finds the source logged
		// in already (openSide did), so it does not log in or out.
		inv, err := inventory.Take(m.opts.Source, m.opts.SourceToken, inventory.Options{PIN: m.opts.SourcePIN})
		if err != nil {
			return err
		}
		p := MakePlan(inv, m.caps, nil)
		p.Source, p.Target = m.endpoints()
		m.res.Plan = p
	} else {
		m.res.Plan = *m.opts.Plan
	}
	// Move's own scan only finds the objects to act on: handle, class,
	// key type, CKA_ID and label. The attributes the templates copy are
	// read when the object's action runs, and dropped after it.
	sx, err := scanSource(m.src)
	if err != nil {
		return err
	}
	m.sx = sx
	if m.ix, err = indexTarget(m.dst); err != nil {
		return err
	}
	return m.checkPlanEndpoints()
}

func (m *mover) endpoints() (Endpoint, Endpoint) {
	return Endpoint{Module: m.opts.SourceModule, Token: m.opts.SourceToken.Label, Serial: m.opts.SourceToken.Serial},
		Endpoint{Module: m.opts.TargetModule, Token: m.opts.TargetToken.Label, Serial: m.opts.TargetToken.Serial}
}

// checkPlanEndpoints refuses a plan written for other tokens.
func (m *mover) checkPlanEndpoints() error {
	src, dst := m.endpoints()
	p := m.res.Plan
	for _, c := range []struct {
		role, want string
		got        Endpoint
	}{{"source", src.Token, p.Source}, {"target", dst.Token, p.Target}} {
		if c.got.Token != "" && c.got.Token != c.want {
			return &errs.Error{Kind: errs.KindInput, Op: "move", Msg: fmt.Sprintf("the plan's %s token is %q, not %q", c.role, c.got.Token, c.want),
				Hint: "use the plan made for these tokens, or make a new one"}
		}
	}
	if p.Source.Serial != "" && src.Serial != "" && p.Source.Serial != src.Serial {
		return &errs.Error{Kind: errs.KindInput, Op: "move", Msg: fmt.Sprintf("the plan's source serial is %s, the token's is %s", p.Source.Serial, src.Serial)}
	}
	return nil
}

// run executes the plan's actions in order.
func (m *mover) run(ctx context.Context) error {
	if !m.opts.DryRun {
		if err := m.openJournal(); err != nil {
			return err
		}
	}
	acts := m.res.Plan.Actions
	for i, a := range acts {
		if err := ctx.Err(); err != nil {
			m.checkpoint(true)
			return &errs.Error{Kind: errs.KindPartial, Op: "move", Err: err,
				Msg:  fmt.Sprintf("interrupted after %d of %d objects", i, len(acts)),
				Hint: "run the same move again: it resumes, re-proving what is already on the target"}
		}
		row, err := m.do(a)
		if errors.Is(err, errSimulatedCrash) {
			return err
		}
		m.add(row)
		m.checkpoint(row.Status == StatusFailed)
		if m.opts.Progress != nil {
			m.opts.Progress(i+1, len(acts), a.Label)
		}
	}
	if m.tr != nil {
		m.res.Transport, m.res.TransportNote = m.tr.kind, m.tr.note
	}
	m.checkpoint(true)
	if m.res.Counts.Failed > 0 {
		return &errs.Error{Kind: errs.KindPartial, Op: "move",
			Msg:  fmt.Sprintf("%d of %d objects failed", m.res.Counts.Failed, len(acts)),
			Hint: "see the failed rows; fix the cause and run the move again (moved objects are re-proven and skipped)"}
	}
	return nil
}

func (m *mover) add(r Row) {
	m.res.Rows = append(m.res.Rows, r)
	c := &m.res.Counts
	switch r.Status {
	case StatusMoved:
		c.Moved++
	case StatusCopied:
		c.Copied++
	case StatusSkipped:
		c.Skipped++
	case StatusRegenerate:
		c.Regenerate++
	case StatusBlocked:
		c.Blocked++
	case StatusFailed:
		c.Failed++
	case StatusPlanned:
		c.Planned++
	}
	if len(r.Proof) >= 9 && r.Proof[:9] == "unproven:" {
		c.Unproven++
	}
}

// do runs one action and returns its row. Only errSimulatedCrash escapes;
// every other failure becomes a failed row.
func (m *mover) do(a Action) (Row, error) {
	row := Row{Label: a.Label, ID: a.ID, Class: a.Class, KeyType: a.KeyType, Action: a.Action}
	switch a.Action {
	case ActRegenerate:
		row.Status, row.Detail = StatusRegenerate, a.Reason
		return row, nil
	case ActBlocked:
		row.Status, row.Detail = StatusBlocked, a.Reason
		return row, nil
	}
	so, err := m.findSource(a)
	if err != nil {
		row.Status, row.Detail = StatusFailed, err.Error()
		return row, nil
	}
	if m.opts.DryRun {
		return m.dryRun(a, so, row), nil
	}
	e, _ := m.j.entry(a)
	var st outcome
	if so.Class == ClassPrivateKey || so.Class == ClassSecretKey {
		st, err = m.wrapOne(a, so, e)
	} else {
		st, err = m.copyOne(so, e)
	}
	if errors.Is(err, errSimulatedCrash) {
		return row, err
	}
	m.dirty = true
	row.Status, row.Proof, row.Detail = st.status, st.proof, st.detail
	if err != nil {
		row.Status, row.Detail = StatusFailed, err.Error()
		e.set(StateFailed, "", err.Error())
		return row, nil
	}
	e.set(StateProven, st.proof, "")
	return row, nil
}

// outcome is a successful action's status, proof and detail.
type outcome struct{ status, proof, detail string }

// findSource finds the live source object of an action by class, CKA_ID
// and label; it must be unique. Its attributes are read now.
func (m *mover) findSource(a Action) (*object, error) {
	hits := m.sx.byIdentity[sourceKey(a.Class, a.ID, a.Label)]
	switch len(hits) {
	case 0:
		return nil, fmt.Errorf("not found on the source (class %s, CKA_ID %q, label %q)", a.Class, a.ID, a.Label)
	case 1:
		return loadObject(m.src, hits[0])
	}
	return nil, fmt.Errorf("%d source objects share class %s, CKA_ID %q and label %q: give them distinct IDs or labels first", len(hits), a.Class, a.ID, a.Label)
}

// openJournal loads or starts the journal, records every action as
// pending, notes which identities the target already held before craton
// touched them (those are never destroyed), and records the PIN hashes.
func (m *mover) openJournal() error {
	src, dst := m.endpoints()
	j, err := LoadJournal(m.opts.JournalPath)
	if err != nil {
		return err
	}
	if j != nil && !j.matches(src, dst) {
		return &errs.Error{Kind: errs.KindInput, Op: "move", Msg: fmt.Sprintf("journal %s belongs to %s → %s", m.opts.JournalPath, j.Source.Token, j.Target.Token),
			Hint: "pass a different --journal for this pair of tokens"}
	}
	if j == nil {
		j = newJournal(m.opts.JournalPath, src, dst)
	}
	m.j = j
	for _, a := range m.res.Plan.Actions {
		if a.Action == ActRegenerate || a.Action == ActBlocked {
			continue
		}
		if e, isNew := j.entry(a); isNew {
			hs, err := m.findTarget(a.Class, a.IDBytes(), a.Label)
			if err != nil {
				return err
			}
			e.Preexisting = len(hs) > 0
		}
	}
	if err := m.recordPINs(j); err != nil {
		return err
	}
	m.lastSave = time.Now()
	return j.Save()
}

// recordPINs notes salted hashes of the PINs used during the move, for
// verify's PIN-rotation item. They live only in the journal file, so
// without one the (deliberately slow) hashing is skipped.
func (m *mover) recordPINs(j *Journal) error {
	if m.opts.JournalPath == "" {
		return nil
	}
	for _, p := range []struct{ role, pin string }{
		{"source-user", m.opts.SourcePIN}, {"target-user", m.opts.TargetPIN}, {"target-so", m.opts.TargetSOPIN},
	} {
		if p.pin == "" {
			continue
		}
		if err := j.recordPIN(p.role, p.pin); err != nil {
			return err
		}
	}
	return nil
}

// checkpoint saves the journal when forced, else at most every 250 ms and
// at most every 50 times the duration of the last save: a save writes (and
// fsyncs) the whole journal, O(objects), so a fixed interval would make a
// large move quadratic; this keeps saving to ~2 % of the run at any size
// (10,000 keys: a save every ~2 s).
// Correctness does not depend on every state change being on disk: an
// object the journal still calls pending is found on the target by the
// next run and re-proven; the journal only decides who owns it, and that
// is written before the first object is touched.
func (m *mover) checkpoint(force bool) {
	if m.j == nil || !m.dirty {
		return
	}
	if !force && time.Since(m.lastSave) < max(250*time.Millisecond, 50*m.saveCost) {
		return
	}
	if m.res.Transport == "" && m.tr != nil {
		m.j.Transport = m.tr.kind
	} else if m.res.Transport != "" {
		m.j.Transport = m.res.Transport
	}
	t0 := time.Now()
	if err := m.j.Save(); err == nil {
		m.dirty, m.lastSave, m.saveCost = false, time.Now(), time.Since(t0)
	}
}

// transport returns the transport key, establishing it on first use.
func (m *mover) transport() (*transport, error) {
	if m.tr != nil {
		return m.tr, nil
	}
	mech := uint(pkcs11.CKM_AES_KEY_WRAP_PAD)
	if !m.caps.canWrap(mech) {
		mech = pkcs11.CKM_AES_KEY_WRAP
	}
	t, err := establishTransport(m.src, m.dst, mech)
	if err != nil {
		return nil, err
	}
	m.tr = t
	if m.j != nil {
		m.j.Transport = t.kind
	}
	return t, nil
}

func (m *mover) dropTransport() {
	if m.tr != nil {
		m.tr.destroy(m.src, m.dst)
	}
}

// dryRun reports what would happen to one object without touching either token.
func (m *mover) dryRun(a Action, so *object, row Row) Row {
	row.Status = StatusPlanned
	hs, err := m.findTarget(so.Class, so.ID, so.Label)
	present := ""
	if err == nil && len(hs) > 0 {
		present = "; an object with this identity is already on the target: move would re-prove it"
	}
	if so.Class == ClassPrivateKey || so.Class == ClassSecretKey {
		row.Detail = fmt.Sprintf("would wrap with %s and unwrap with %d template attributes%s", a.Mechanism,
			len(unwrapTemplate(so, m.caps, m.opts.Harden)), present)
	} else {
		row.Detail = fmt.Sprintf("would create with %d attributes%s", len(copyTemplate(so)), present)
	}
	return row
}
