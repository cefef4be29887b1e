package verify

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/hsm/audit"
	"github.com/craton-co/craton/hsm/mech"
)

// auditOps are the operations item 8 expects this run to have logged.
var auditOps = []string{"Sign", "Verify", "Encrypt"}

// auditPath is the log item 8 reads: the override, else the engine's.
func (r *run) auditPath() (string, string) {
	switch {
	case r.opts.AuditLog != "":
		return r.opts.AuditLog, ""
	case r.opts.Engine == nil:
		return "", "external target: its audit log is not observable (pass the log path to check it)"
	}
	cfg := r.opts.Engine.Config()
	if !cfg.Audit.Enabled || cfg.Audit.LogPath == "" {
		return "", "the engine keeps its audit log in memory only (audit.enabled false or no audit.log_path): nothing to verify on disk"
	}
	return cfg.Audit.LogPath, ""
}

// checkAudit is item 8. It runs after items 4–6, whose target operations
// it expects to find.
func checkAudit(_ context.Context, r *run) Result {
	path, why := r.auditPath()
	if path == "" {
		if r.opts.Engine == nil {
			return Result{Status: Skip, Evidence: why}
		}
		return Result{Status: Fail, Evidence: why}
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return Result{Status: Fail, Evidence: "no audit log at " + path + ": the target wrote no file"}
	}
	rep, err := audit.Verify(path)
	if err != nil {
		return Result{Status: Fail, Evidence: err.Error()}
	}
	if err := rep.Err(); err != nil {
		return Result{Status: Fail, Evidence: err.Error(), Details: rep.Warnings}
	}
	chain := sprintf("chain intact (%d entries)", rep.Entries)
	entries, err := audit.Read(path, audit.Filter{Ops: auditOps, Since: r.start})
	if err != nil {
		return Result{Status: Fail, Evidence: chain + "; cannot read entries: " + err.Error()}
	}
	var t tally
	logged := map[string]map[uint]int{}
	for _, e := range entries {
		if e.Mechanism == nil {
			continue
		}
		m := *e.Mechanism
		if !e.Failed() {
			if logged[e.Op] == nil {
				logged[e.Op] = map[uint]int{}
			}
			logged[e.Op][m]++
		}
		info, known := mech.Lookup(m)
		switch {
		case e.FIPS == nil:
			t.bad("line %d %s %s: no fips_approved", e.Line, e.Op, e.MechanismName)
		case !known:
			t.bad("line %d %s: mechanism %s unknown to the engine's table", e.Line, e.Op, e.MechanismName)
		case *e.FIPS != info.FIPS:
			t.bad("line %d %s %s: fips_approved %t, the mechanism table says %t", e.Line, e.Op, e.MechanismName, *e.FIPS, info.FIPS)
		}
	}
	var want []string
	for _, op := range auditOps {
		for m, n := range r.ops[op] {
			want = append(want, op)
			if got := logged[op][m]; got < n {
				t.bad("%s %s: this run did %d, the log has %d since %s", op, ck.MechName(m), n, got, r.start.UTC().Format("15:04:05"))
			} else {
				t.ok("%s %s: %d logged with fips_approved %t", op, ck.MechName(m), got, fipsOf(m))
			}
		}
	}
	if len(want) == 0 {
		return Result{Status: Warn, Evidence: chain + "; this run performed no Sign/Verify/Encrypt on the target, so no entry is expected", Details: t.details}
	}
	res := t.result("expected entries", "")
	res.Evidence = chain + "; " + res.Evidence
	if res.Status == Fail {
		res.Evidence += ": " + firstFailure(t.details)
	}
	return res
}

func fipsOf(m uint) bool { i, _ := mech.Lookup(m); return i.FIPS }

func firstFailure(details []string) string {
	for _, d := range details {
		if strings.HasPrefix(d, "FAIL: ") {
			return strings.TrimPrefix(d, "FAIL: ")
		}
	}
	return ""
}
