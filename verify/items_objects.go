package verify

import (
	"context"
	"strings"

	"github.com/craton-co/craton/inventory"
	"github.com/craton-co/craton/wrapmove"
)

// key is how records are matched across tokens: class, CKA_ID, label.
func key(class, id, label string) string { return class + "\x00" + id + "\x00" + label }

func recKey(rec inventory.Record) string { return key(rec.Class, rec.ID, rec.Label) }

func describeRec(rec inventory.Record) string {
	s := sprintf("%s %q id=%s", rec.Class, rec.Label, rec.ID)
	if rec.Size != "" {
		s += " " + rec.Size
	}
	return s
}

// targetIndex groups the target's records by key.
func (r *run) targetIndex() map[string][]inventory.Record {
	idx := map[string][]inventory.Record{}
	for _, rec := range r.dst.Records {
		idx[recKey(rec)] = append(idx[recKey(rec)], rec)
	}
	return idx
}

// checkObjects is item 3.
func checkObjects(_ context.Context, r *run) Result {
	idx := r.targetIndex()
	var t tally
	for _, want := range r.migrated("") {
		got := idx[recKey(want)]
		switch len(got) {
		case 0:
			t.bad("%s: not on the target", describeRec(want))
			continue
		case 1:
		default:
			t.bad("%s: %d objects on the target", describeRec(want), len(got))
			continue
		}
		diffs, notes := compareRecords(want, got[0])
		switch {
		case len(diffs) > 0:
			t.bad("%s: %s", describeRec(want), strings.Join(diffs, "; "))
		case len(notes) > 0:
			t.ok("%s (%s)", describeRec(want), strings.Join(notes, "; "))
		default:
			t.ok("%s", describeRec(want))
		}
	}
	return t.result("migrated objects", "the inventory lists no object with disposition wrap or copy")
}

// compareRecords returns the differences that fail item 3, and notes on
// accepted ones (a key made non-extractable by a hardened move).
func compareRecords(want, got inventory.Record) (diffs, notes []string) {
	if want.KeyType != got.KeyType {
		diffs = append(diffs, sprintf("CKA_KEY_TYPE %s on the source, %s on the target", want.KeyType, got.KeyType))
	}
	if want.Size != got.Size && want.Size != "" && got.Size != "" { // "" = not readable on that side
		diffs = append(diffs, sprintf("size %s on the source, %s on the target", want.Size, got.Size))
	}
	for _, f := range []struct {
		name      string
		src, dst  *bool
		hardening bool // true→false is accepted
	}{
		{"CKA_SIGN", want.Sign, got.Sign, false},
		{"CKA_VERIFY", want.Verify, got.Verify, false},
		{"CKA_ENCRYPT", want.Encrypt, got.Encrypt, false},
		{"CKA_DECRYPT", want.Decrypt, got.Decrypt, false},
		{"CKA_WRAP", want.Wrap, got.Wrap, false},
		{"CKA_UNWRAP", want.Unwrap, got.Unwrap, false},
		{"CKA_DERIVE", want.Derive, got.Derive, false},
		{"CKA_SENSITIVE", want.Sensitive, got.Sensitive, false},
		{"CKA_EXTRACTABLE", want.Extractable, got.Extractable, true},
	} {
		if f.src == nil || f.dst == nil || *f.src == *f.dst {
			continue // unknown on either side (e.g. a CSV without the column)
		}
		if f.hardening && *f.src && !*f.dst {
			notes = append(notes, f.name+" hardened to false")
			continue
		}
		diffs = append(diffs, sprintf("%s %t on the source, %t on the target", f.name, *f.src, *f.dst))
	}
	return diffs, notes
}

// regenItem is one key that had to be regenerated on the target.
type regenItem struct{ class, id, label, keyType string }

// regenItems are the plan's regenerate actions, or else the inventory's
// regenerate records: private and secret keys only (a regenerated pair is
// found by its private half; its public half and certificate are
// regenerate too, and the certificate is re-issued outside craton).
func (r *run) regenItems() []regenItem {
	var out []regenItem
	if r.opts.Plan != nil {
		for _, a := range r.opts.Plan.Actions {
			if a.Action == wrapmove.ActRegenerate && (a.Class == wrapmove.ClassPrivateKey || a.Class == wrapmove.ClassSecretKey) {
				out = append(out, regenItem{normClass(a.Class), a.ID, a.Label, strings.ToUpper(a.KeyType)})
			}
		}
		return out
	}
	for _, rec := range r.src.Records {
		if rec.Disposition == inventory.Regenerate && (rec.Class == inventory.ClassPrivateKey || rec.Class == inventory.ClassSecretKey) {
			out = append(out, regenItem{rec.Class, rec.ID, rec.Label, rec.KeyType})
		}
	}
	return out
}

// normClass maps wrapmove's class names (private_key) to inventory's
// (private-key).
func normClass(c string) string { return strings.ReplaceAll(strings.ToLower(c), "_", "-") }

// checkRegenerated is item 10.
func checkRegenerated(_ context.Context, r *run) Result {
	idx := r.targetIndex()
	var t tally
	for _, it := range r.regenItems() {
		what := sprintf("%s %q id=%s %s", it.class, it.label, it.id, it.keyType)
		got := idx[key(it.class, it.id, it.label)]
		switch {
		case len(got) == 0:
			t.note("%s: pending (no new key on the target yet; run craton migrate regenerate)", what)
		case got[0].KeyType != it.keyType:
			t.bad("%s: the target key is %s", what, got[0].KeyType)
		default:
			t.ok("%s: new key present (%s)", what, got[0].Size)
		}
	}
	return t.result("regenerate items", "nothing to regenerate")
}
