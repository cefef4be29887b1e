package wrapmove

import (
	"bytes"
	"context"
	"reflect"
	"testing"

	"github.com/craton-co/craton/inventory"
)

// TestPlanFromCSVInventoryEqualsLivePlan: for the representative fixture,
// the plan made from a CSV inventory and the target alone has the same
// actions as the plan Move makes from the live source, and Move finds the
// source object of every action of it.
func TestPlanFromCSVInventoryEqualsLivePlan(t *testing.T) {
	opts := moveOpts(t, "tgt-dry")
	opts.DryRun = true
	res, err := Move(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	live := res.Plan

	inv, err := inventory.Take(opts.Source, opts.SourceToken, inventory.Options{PIN: opts.SourcePIN})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := inventory.WriteCSV(&buf, inv); err != nil {
		t.Fatal(err)
	}
	csvInv, err := inventory.ReadCSV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	caps, err := ProbeTarget(opts.Target, opts.TargetToken)
	if err != nil {
		t.Fatal(err)
	}
	src, dst := Endpoint{Module: opts.SourceModule, Token: srcLabel}, Endpoint{Module: opts.TargetModule, Token: opts.TargetToken.Label}
	fromCSV := PlanFromInventory(csvInv, caps, nil, src, dst)

	if len(live.Actions) != len(inv.Records) {
		t.Errorf("live plan: %d actions for %d inventory records", len(live.Actions), len(inv.Records))
	}
	if !reflect.DeepEqual(live.Actions, fromCSV.Actions) {
		for i := range max(len(live.Actions), len(fromCSV.Actions)) {
			var l, c Action
			if i < len(live.Actions) {
				l = live.Actions[i]
			}
			if i < len(fromCSV.Actions) {
				c = fromCSV.Actions[i]
			}
			if !reflect.DeepEqual(l, c) {
				t.Errorf("action %d differs:\n live %+v\n csv  %+v", i, l, c)
			}
		}
	}
	if fromCSV.Source != src || fromCSV.Target != dst {
		t.Errorf("endpoints %+v -> %+v", fromCSV.Source, fromCSV.Target)
	}

	// The inventory's regenerate records are never wrapped or copied.
	regen := map[string]bool{}
	for _, r := range inv.Records {
		if r.Disposition == inventory.Regenerate {
			regen[actionFrom(r).Identity] = true
		}
	}
	for _, a := range fromCSV.Actions {
		if regen[a.Identity] && a.Action != ActRegenerate && a.Action != ActBlocked {
			t.Errorf("%s: regenerate in the inventory, %s in the plan", a.Identity, a.Action)
		}
	}
	if len(regen) < 9 { // 5 pairs that cannot leave SoftHSM 2.6 + 4 secrets... at least the pairs' halves
		t.Errorf("only %d regenerate records in the fixture inventory", len(regen))
	}

	// Move executes the CSV plan: it finds every source object.
	opts.Plan = &fromCSV
	res, err = Move(context.Background(), opts)
	logRows(t, res)
	if err != nil {
		t.Fatalf("dry run of the CSV plan: %v", err)
	}
	if res.Counts.Failed != 0 || res.Counts.Planned != 13 {
		t.Errorf("dry run of the CSV plan: counts %+v", res.Counts)
	}
}
