package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/miekg/pkcs11"
)

// Variant names (columns).
const (
	vSoft = "softhsm"
	vGo   = "go"
)

// engineCfg is one configuration of the engine library.
type engineCfg struct {
	variant string // e.g. "craton" (audit on), "craton-noaudit"
	path    string // CRATON_HSM_CONFIG
	audit   bool
}

// tableRun measures rows with SoftHSMv2 and one engine library loaded in
// this process, alternating between them (and between the engine's
// configurations) in short rounds.
type tableRun struct {
	dir      string
	engLib   string
	softLib  string
	cfgs     []engineCfg
	rows     []*row
	rounds   int
	budget   time.Duration
	findN    int
	res      map[string]map[string]*stats // row id → variant → stats
	setup    map[string]time.Duration     // informational timings
	soft     *module
	eng      *module
	softSide *side
	softThr  []pkcs11.SessionHandle
	floorOps map[string][]opFn
	log      func(format string, a ...any)
}

const threads = 8

func (t *tableRun) cell(rowID, v string) *stats {
	if t.res[rowID] == nil {
		t.res[rowID] = map[string]*stats{}
	}
	if t.res[rowID][v] == nil {
		t.res[rowID][v] = &stats{}
	}
	return t.res[rowID][v]
}

// openSide opens a logged-in session (plus threads more) on the token
// labelled label, and one on the find token, and resolves the keys.
func openSide(m *module, label, findLabel string, nThreads int) (*side, []pkcs11.SessionHandle, error) {
	slot, err := m.slotByLabel(label)
	if err != nil {
		return nil, nil, err
	}
	fslot, err := m.slotByLabel(findLabel)
	if err != nil {
		return nil, nil, err
	}
	rw := uint(pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION)
	s := &side{ctx: m.ctx}
	if s.sh, err = m.ctx.OpenSession(slot, rw); err != nil {
		return nil, nil, err
	}
	if err := m.ctx.Login(s.sh, pkcs11.CKU_USER, userPIN); err != nil && err != pkcs11.Error(pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
		return nil, nil, fmt.Errorf("%s: login: %w", m.name, err)
	}
	if s.find, err = m.ctx.OpenSession(fslot, rw); err != nil {
		return nil, nil, err
	}
	if s.k, err = ensureKeys(m.ctx, s.sh); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", m.name, err)
	}
	thr := make([]pkcs11.SessionHandle, nThreads)
	for i := range thr {
		if thr[i], err = m.ctx.OpenSession(slot, rw); err != nil {
			return nil, nil, err
		}
	}
	return s, thr, nil
}

func closeSide(m *module) {
	slots, _ := m.ctx.GetSlotList(true)
	for _, s := range slots {
		m.ctx.CloseAllSessions(s)
	}
}

// prepare builds the op functions of r for a side.
func prepare(r *row, s *side, thr []pkcs11.SessionHandle) ([]opFn, error) {
	if r.threads <= 1 {
		op, err := r.p11(s, s.sh)
		return []opFn{op}, err
	}
	ops := make([]opFn, r.threads)
	for i := range ops {
		var err error
		if ops[i], err = r.p11(s, thr[i]); err != nil {
			return nil, err
		}
	}
	return ops, nil
}

func (t *tableRun) setupModules() error {
	t.res = map[string]map[string]*stats{}
	t.setup = map[string]time.Duration{}
	// SoftHSMv2: its own SOFTHSM2_CONF and token directory.
	conf, err := softhsmEnv(filepath.Join(t.dir, "softhsm"))
	if err != nil {
		return err
	}
	for _, l := range []string{"bench", "bench-find"} {
		if err := softhsmInitToken(conf, l); err != nil {
			return err
		}
	}
	os.Setenv("SOFTHSM2_CONF", conf)
	if t.soft, err = loadModule("SoftHSMv2", t.softLib); err != nil {
		return err
	}
	// The engine: both configurations share one store; audit off while
	// populating (10,000 creates).
	store := filepath.Join(t.dir, "craton", "store")
	if err := os.MkdirAll(filepath.Dir(store), 0o700); err != nil {
		return err
	}
	for i := range t.cfgs {
		c := &t.cfgs[i]
		c.path = filepath.Join(t.dir, "craton", c.variant+".yaml")
		if err := engineConfig(c.path, store, filepath.Join(t.dir, "craton", c.variant+"-audit.jsonl"), c.audit, 2); err != nil {
			return err
		}
	}
	first := t.cfgs[len(t.cfgs)-1]
	os.Setenv("CRATON_HSM_CONFIG", first.path)
	if t.eng, err = loadModule("craton", t.engLib); err != nil {
		return err
	}
	t.eng.active = first.path
	slots, err := t.eng.ctx.GetSlotList(true)
	if err != nil || len(slots) < 2 {
		return fmt.Errorf("engine slots: %v %v", slots, err)
	}
	for i, l := range []string{"bench", "bench-find"} {
		if err := initEngineToken(t.eng, slots[i], l); err != nil {
			return err
		}
	}
	for _, m := range []*module{t.soft, t.eng} {
		t0 := time.Now()
		s, _, err := openSide(m, "bench", "bench-find", 0)
		if err != nil {
			return err
		}
		t.log("  %s: bench keys in %v", m.name, time.Since(t0).Round(time.Millisecond))
		if t.needs("find") {
			if err := m.ctx.Login(s.find, pkcs11.CKU_USER, userPIN); err != nil && err != pkcs11.Error(pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
				return err
			}
			t0 = time.Now()
			if err := populateFind(m.ctx, s.find, t.findN); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			d := time.Since(t0)
			t.setup["populate-"+m.name] = d
			t.log("  %s: %d data objects created in %v (%.0f/s)", m.name, t.findN, d.Round(time.Millisecond), float64(t.findN)/d.Seconds())
		}
		closeSide(m)
	}
	// SoftHSMv2's sessions stay open for the whole run.
	if t.softSide, t.softThr, err = openSide(t.soft, "bench", "bench-find", threads); err != nil {
		return err
	}
	return nil
}

func (t *tableRun) needs(id string) bool {
	for _, r := range t.rows {
		if r.id == id {
			return true
		}
	}
	return false
}

// run alternates: each round activates every engine configuration in
// turn (rotating which comes first) and, for each row, measures SoftHSMv2,
// the engine (and, once per round, the Go primitive) back to back in a
// rotating order, so that the machine's drift hits all columns alike.
func (t *tableRun) run() error {
	softOps := map[string][]opFn{}
	for _, r := range t.rows {
		ops, err := prepare(r, t.softSide, t.softThr)
		if err != nil {
			return fmt.Errorf("SoftHSMv2 %s: %w", r.id, err)
		}
		softOps[r.id] = ops
	}
	t.floorOps = map[string][]opFn{}
	for _, r := range t.rows {
		if r.floor == nil {
			continue
		}
		n := max(r.threads, 1)
		for i := 0; i < n; i++ {
			op, err := r.floor()
			if err != nil {
				return fmt.Errorf("floor %s: %w", r.id, err)
			}
			t.floorOps[r.id] = append(t.floorOps[r.id], op)
		}
	}
	for round := 0; round < t.rounds; round++ {
		t0 := time.Now()
		for ci := range t.cfgs {
			cfg := t.cfgs[(ci+round)%len(t.cfgs)]
			if err := t.eng.reconfigure(cfg.path); err != nil {
				return err
			}
			es, ethr, err := openSide(t.eng, "bench", "bench-find", threads)
			if err != nil {
				return err
			}
			for ri, r := range t.rows {
				engOps, err := prepare(r, es, ethr)
				if err != nil {
					return fmt.Errorf("%s %s: %w", cfg.variant, r.id, err)
				}
				vs := []string{vSoft, cfg.variant}
				if ci == 0 && t.floorOps[r.id] != nil {
					vs = append(vs, vGo)
				}
				for k := range vs {
					v := vs[(k+round+ri)%len(vs)]
					ops := map[string][]opFn{vSoft: softOps[r.id], cfg.variant: engOps, vGo: t.floorOps[r.id]}[v]
					budget, minIters := t.budget, 3
					switch {
					case r.slow:
						budget, minIters = 0, 2
					case r.threads > 1:
						budget, minIters = 3*t.budget, 1
					}
					if !r.slow && r.threads <= 1 {
						after, err := ops[0]() // warm-up
						if err != nil {
							return fmt.Errorf("%s %s: %w", v, r.id, err)
						}
						if after != nil {
							after()
						}
					}
					if err := slice(ops, budget, minIters, t.cell(r.id, v)); err != nil {
						return fmt.Errorf("%s %s: %w", v, r.id, err)
					}
				}
			}
			closeSide(t.eng)
		}
		t.log("  round %d/%d: %v", round+1, t.rounds, time.Since(t0).Round(time.Millisecond))
	}
	return nil
}

func (t *tableRun) close() {
	if t.soft != nil {
		closeSide(t.soft)
		t.soft.ctx.Finalize()
	}
	if t.eng != nil {
		closeSide(t.eng)
		t.eng.ctx.Finalize()
	}
}

// profileRow loops one row on the engine with audit off (the last
// configuration) for d.
func (t *tableRun) profileRow(id string, d time.Duration) error {
	r := rowByID(id)
	if r == nil {
		return fmt.Errorf("no row %q", id)
	}
	es, ethr, err := openSide(t.eng, "bench", "bench-find", threads)
	if err != nil {
		return err
	}
	ops, err := prepare(r, es, ethr)
	if err != nil {
		return err
	}
	var st stats
	if err := slice(ops, d, 1, &st); err != nil {
		return err
	}
	t.log("profile %s: %d ops, median %v, %.0f ops/s", id, st.Ops, st.median(), st.opsPerSec())
	return nil
}
