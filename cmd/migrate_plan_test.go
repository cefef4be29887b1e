package cmd

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/craton-co/craton/internal/softhsmtest"
	"github.com/craton-co/craton/wrapmove"
)

// TestPlanFromInventoryCSV is the offline plan through the CLI: a CSV
// inventory of a real SoftHSMv2 token plus the engine target (and nothing
// of the source module) give the same plan as the live source; move
// executes it; planned again after the move, every moved object is skip
// and every regenerate stays regenerate.
func TestPlanFromInventoryCSV(t *testing.T) {
	dir := engineDir(t)
	fx := softhsmtest.New(t)
	tok := fx.EmptyToken("cmd-plan-inv")
	softhsmtest.PopulateRepresentative(tok)
	p := func(n string) string { return filepath.Join(dir, n) }
	if err := os.WriteFile(p("src.pin"), []byte(softhsmtest.UserPIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	from := []string{"--from-token", tok.Label, "--from-pin-file", p("src.pin")}
	mustRun(t, append([]string{"migrate", "inventory", "-o", "csv", "--out", p("pre.csv")}, from...)...)
	mustRun(t, "token", "init", "--label", tok.Label, "--so-pin-file", p("so.pin"))
	mustRun(t, "token", "init-pin", "--token", tok.Label, "--so-pin-file", p("so.pin"), "--pin-file", p("user.pin"))

	// A CSV names no token: --from-token is required.
	if code, _, errOut := run(t, "migrate", "plan", "--inventory", p("pre.csv"), "--to-pin-file", p("user.pin"), "-o", "yaml"); code == 0 ||
		!strings.Contains(errOut, "--from-token") {
		t.Fatalf("plan --inventory without --from-token: exit %d: %s", code, errOut)
	}
	// Only the target is opened: a source module that does not exist is
	// recorded as given, never loaded.
	const absent = "/nonexistent/libsofthsm2.so"
	offline := []string{"migrate", "plan", "--inventory", p("pre.csv"), "--from-module", absent, "--from-token", tok.Label,
		"--to-pin-file", p("user.pin"), "-o", "yaml", "--out"}
	mustRun(t, append(offline, p("inv-plan.yaml"))...)
	mustRun(t, append([]string{"migrate", "plan", "--to-pin-file", p("user.pin"), "-o", "yaml", "--out", p("live-plan.yaml")}, from...)...)
	invPlan, livePlan := loadPlan(t, p("inv-plan.yaml")), loadPlan(t, p("live-plan.yaml"))
	if !reflect.DeepEqual(invPlan.Actions, livePlan.Actions) {
		t.Errorf("plan from the CSV differs from the live plan:\n%s", diffActions(invPlan.Actions, livePlan.Actions))
	}
	if invPlan.Source.Module != absent || invPlan.Source.Token != tok.Label || invPlan.Target.Token != tok.Label {
		t.Errorf("endpoints %+v -> %+v", invPlan.Source, invPlan.Target)
	}
	counts := countActions(invPlan)
	if counts[wrapmove.ActWrap] == 0 || counts[wrapmove.ActCopy] == 0 || counts[wrapmove.ActRegenerate] == 0 || counts[wrapmove.ActSkip] != 0 {
		t.Errorf("plan before the move: %v", counts)
	}

	mustRun(t, append([]string{"migrate", "move", "--plan", p("inv-plan.yaml"), "--to-pin-file", p("user.pin"), "-o", "json"}, from...)...)

	mustRun(t, append(offline, p("after.yaml"))...)
	after := loadPlan(t, p("after.yaml"))
	before := map[string]string{}
	for _, a := range invPlan.Actions {
		before[a.Identity] = a.Action
	}
	// Skip needs proof from the records: a fingerprint or check value on
	// the source. Data objects have neither, nor has a private key whose
	// public half the source lacks (imported-ec-x): move re-proves those.
	proven := func(a wrapmove.Action) bool {
		return a.Class != wrapmove.ClassData && a.Label != "imported-ec-x"
	}
	for _, a := range after.Actions {
		switch b := before[a.Identity]; {
		case b == wrapmove.ActRegenerate && a.Action != wrapmove.ActRegenerate:
			t.Errorf("%s: regenerate before the move, %s after", a.Identity, a.Action)
		case (b == wrapmove.ActWrap || b == wrapmove.ActCopy) && proven(a) && a.Action != wrapmove.ActSkip:
			t.Errorf("%s: moved (%s) but planned %s after the move, not skip (%s)", a.Identity, b, a.Action, a.Reason)
		}
	}
	if c := countActions(after); c[wrapmove.ActSkip] < counts[wrapmove.ActWrap]+counts[wrapmove.ActCopy]-2 {
		t.Errorf("after the move: %v (before %v)", c, counts)
	}
}

func loadPlan(t *testing.T, path string) wrapmove.Plan {
	t.Helper()
	pl, err := wrapmove.LoadPlan(path)
	if err != nil {
		t.Fatal(err)
	}
	return pl
}

func countActions(p wrapmove.Plan) map[string]int {
	c := map[string]int{}
	for _, a := range p.Actions {
		c[a.Action]++
	}
	return c
}

func diffActions(a, b []wrapmove.Action) string {
	var out []string
	for i := range max(len(a), len(b)) {
		var x, y wrapmove.Action
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if !reflect.DeepEqual(x, y) {
			out = append(out, "  csv  "+strings.TrimSpace(stringify(x))+"\n  live "+strings.TrimSpace(stringify(y)))
		}
	}
	return strings.Join(out, "\n")
}

func stringify(a wrapmove.Action) string {
	return a.Identity + " " + a.Action + " " + a.Mechanism + " " + a.Reason
}
