package verify

import (
	"testing"

	"github.com/craton-co/craton/inventory"
	"github.com/craton-co/craton/wrapmove"
)

// TestMigratedFollowsInventory: without a plan, the records expected on the
// target are the inventory's wrap and copy records; an inventory written
// before the public half of a regenerated pair was marked regenerate is
// settled by inventory's own rule, and the plan, when given, agrees.
func TestMigratedFollowsInventory(t *testing.T) {
	old := &inventory.Inventory{Records: []inventory.Record{
		{Class: inventory.ClassPrivateKey, Label: "nx", ID: "02", KeyType: "RSA", Disposition: inventory.Regenerate, Identity: "private-key:nx:02"},
		{Class: inventory.ClassPublicKey, Label: "nx", ID: "02", KeyType: "RSA", Disposition: inventory.Copy, Identity: "public-key:nx:02"},
		{Class: inventory.ClassPrivateKey, Label: "x", ID: "01", KeyType: "RSA", Disposition: inventory.Wrap, Identity: "private-key:x:01"},
		{Class: inventory.ClassPublicKey, Label: "x", ID: "01", KeyType: "RSA", Disposition: inventory.Copy, Identity: "public-key:x:01"},
	}}
	r := &run{src: settled(old)}
	if old.Records[1].Disposition != inventory.Copy {
		t.Fatal("settled changed the caller's inventory")
	}
	got := map[string]bool{}
	for _, rec := range r.migrated("") {
		got[rec.Identity] = true
	}
	if len(got) != 2 || !got["private-key:x:01"] || !got["public-key:x:01"] {
		t.Errorf("migrated without a plan: %v", got)
	}
	plan := wrapmove.MakePlan(old, wrapmove.Capabilities{}, nil)
	r.opts.Plan = &plan
	withPlan := map[string]bool{}
	for _, rec := range r.migrated("") {
		withPlan[rec.Identity] = true
	}
	if len(withPlan) != len(got) || !withPlan["private-key:x:01"] || !withPlan["public-key:x:01"] {
		t.Errorf("migrated with the plan %v, without %v", withPlan, got)
	}
	items := r.regenItems()
	if len(items) != 1 || items[0].class != inventory.ClassPrivateKey {
		t.Errorf("regenerate items %+v, want the private key only", items)
	}
}
