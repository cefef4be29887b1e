package verify

import (
	"context"
	"strings"
)

// checkPINs is item 9: the current PINs must match none of the PIN hashes
// the move journal recorded (any role: a PIN used anywhere during the move
// is a migration value).
func checkPINs(_ context.Context, r *run) Result {
	j := r.opts.Journal
	if j == nil {
		return Result{Status: Skip, Evidence: "no move journal: the PINs used during the move are not known"}
	}
	if len(j.PINHashes) == 0 {
		return Result{Status: Skip, Evidence: "the journal recorded no PIN hashes"}
	}
	var t tally
	for _, p := range []struct{ who, pin string }{{"user PIN", r.opts.TargetPIN}, {"SO PIN", r.opts.TargetSOPIN}} {
		if p.pin == "" {
			t.note("%s not given: rotation not checked", p.who)
			continue
		}
		var roles []string
		for _, h := range j.PINHashes {
			if h.Matches(p.pin) {
				roles = append(roles, h.Role)
			}
		}
		if len(roles) > 0 {
			t.bad("target %s equals the %s PIN used during the move: rotate it", p.who, strings.Join(roles, ", "))
		} else {
			t.ok("target %s differs from all %d recorded migration PINs", p.who, len(j.PINHashes))
		}
	}
	res := t.result("PINs", "")
	if res.Status == Fail {
		res.Evidence += ": " + firstFailure(t.details)
	}
	return res
}
