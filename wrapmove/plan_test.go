package wrapmove

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/craton-co/craton/errs"
	"github.com/craton-co/craton/inventory"
	"github.com/miekg/pkcs11"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sampleInventory is a source inventory as inventory.Take would record it
// on SoftHSMv2 2.6: dispositions and reasons are the inventory's.
func sampleInventory() *inventory.Inventory {
	T, F := inventory.T, inventory.F
	rec := func(class, kt, size, label, id string, d inventory.Disposition, reason string, extra func(*inventory.Record)) inventory.Record {
		r := inventory.Record{Class: class, KeyType: kt, Label: label, ID: id, Disposition: d, Reason: reason, Token: T()}
		inventory.SetSize(&r, size)
		r.Identity = class + ":" + label + ":" + id
		if extra != nil {
			extra(&r)
		}
		return r
	}
	const fpSign, fpNX = "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a7988", "9988776655443322998877665544332299887766554433229988776655443322"
	return &inventory.Inventory{Records: []inventory.Record{
		rec(inventory.ClassCertificate, "", "", "my-signing-key", "01", inventory.Copy, "certificate: copied under the same CKA_ID, so it still resolves to its key",
			func(r *inventory.Record) {
				r.Fingerprint, r.Serial, r.Subject, r.Issuer = fpSign, "5a3c", "CN=my-signing-key", "CN=my-signing-key"
			}),
		rec(inventory.ClassPrivateKey, "RSA", "RSA-2048", "my-signing-key", "01", inventory.Wrap, "CKA_EXTRACTABLE=TRUE: wrap with CKM_AES_KEY_WRAP_PAD (PKCS#8 payload)",
			func(r *inventory.Record) {
				r.Fingerprint, r.Sign, r.Private, r.Sensitive, r.Extractable = fpSign, T(), T(), T(), T()
			}),
		rec(inventory.ClassPublicKey, "RSA", "RSA-2048", "my-signing-key", "01", inventory.Copy, "public key: recreated on the target with C_CreateObject under the same CKA_ID",
			func(r *inventory.Record) { r.Fingerprint, r.Verify, r.Private = fpSign, T(), F() }),
		rec(inventory.ClassPrivateKey, "RSA", "RSA-3072", "rsa3072-nx", "02", inventory.Regenerate,
			"CKA_EXTRACTABLE=FALSE, CKA_NEVER_EXTRACTABLE=TRUE: the key material cannot leave the token; generate a new key on the target",
			func(r *inventory.Record) {
				r.Fingerprint, r.Sign, r.Private, r.Sensitive, r.Extractable = fpNX, T(), T(), T(), F()
			}),
		// Still "copy", as an inventory written before the public half of a
		// regenerated pair was marked regenerate: MakePlan follows inventory's rule.
		rec(inventory.ClassPublicKey, "RSA", "RSA-3072", "rsa3072-nx", "02", inventory.Copy, "public key: recreated on the target with C_CreateObject under the same CKA_ID",
			func(r *inventory.Record) { r.Fingerprint, r.Verify = fpNX, T() }),
		rec(inventory.ClassPrivateKey, "EC_EDWARDS", "Ed25519", "ed25519-x", "06", inventory.Regenerate,
			"SoftHSMv2 2.6 cannot wrap CKK_EC_EDWARDS private keys (C_WrapKey returns CKR_KEY_NOT_WRAPPABLE even when extractable); generate a new key on the target",
			func(r *inventory.Record) { r.Sign, r.Private, r.Sensitive, r.Extractable = T(), T(), T(), T() }),
		rec(inventory.ClassSecretKey, "AES", "AES-256", "aes256-x", "11", inventory.Wrap, "CKA_EXTRACTABLE=TRUE: wrap with CKM_AES_KEY_WRAP_PAD",
			func(r *inventory.Record) {
				r.Encrypt, r.Decrypt, r.Extractable, r.CheckValue, r.CheckMethod = T(), T(), T(), "0011223344556677", "AES-ECB(0^128)[:8]"
			}),
		rec(inventory.ClassSecretKey, "GENERIC_SECRET", "GENERIC_SECRET-160", "hmac20-x", "16", inventory.Wrap,
			"CKA_EXTRACTABLE=TRUE: wrap with CKM_AES_KEY_WRAP_PAD; SoftHSMv2 2.6 zero-pads this 20-byte key to 24 bytes inside the wrap: the target must cut it back to 20",
			func(r *inventory.Record) { r.Sign, r.Extractable = T(), T() }),
		rec(inventory.ClassData, "", "", "my-data", "", inventory.Copy, "data object: copied (its value is readable)", nil),
	}}
}

// presentOnTarget: the certificate is already on the target, proven the same.
func presentOnTarget() []inventory.Record {
	for _, r := range sampleInventory().Records {
		if r.Class == inventory.ClassCertificate {
			return []inventory.Record{r}
		}
	}
	return nil
}

func samplePlan() Plan {
	p := PlanFromInventory(sampleInventory(), Capabilities{Manufacturer: softHSMManufacturer}, presentOnTarget(),
		Endpoint{Module: "/usr/lib/softhsm/libsofthsm2.so", Token: "Your-Token-Label", Serial: "e73354bb73f1e325"},
		Endpoint{Module: "/usr/lib/pkcs11/libcraton_hsm.so", Token: "Your-Token-Label"})
	p.CreatedAt = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return p
}

func TestMakePlan(t *testing.T) {
	p := samplePlan()
	got := map[string]Action{}
	for _, a := range p.Actions {
		got[a.Identity] = a
	}
	check := func(id, action, mech string) {
		t.Helper()
		a, ok := got[id]
		if !ok || a.Action != action || a.Mechanism != mech {
			t.Errorf("%s: %+v, want %s %s", id, a, action, mech)
		}
	}
	check("private_key:01:my-signing-key", ActWrap, "CKM_AES_KEY_WRAP_PAD")
	check("public_key:01:my-signing-key", ActCopy, "")
	check("certificate:01:my-signing-key", ActSkip, "") // present with the same fingerprint, serial and subject
	check("public_key:02:rsa3072-nx", ActRegenerate, "")
	check("secret_key:16:hmac20-x", ActBlocked, "") // SoftHSM target pads 20 → 24 bytes
	check("data::my-data", ActCopy, "")
	if a := got["public_key:02:rsa3072-nx"]; !strings.Contains(a.Reason, "public half of private-key:rsa3072-nx:02") {
		t.Errorf("public half of a regenerated key: reason %q", a.Reason)
	}
	if a := got["secret_key:16:hmac20-x"]; !strings.Contains(a.Reason, "zero-pads") || !strings.Contains(a.Reason, "from the inventory: wrap: ") {
		t.Errorf("blocked secret: reason %q", a.Reason)
	}
	if a := got["private_key:06:ed25519-x"]; a.Curve != "Ed25519" || a.Size != 255 || a.KeyType != KeyEdwards {
		t.Errorf("Ed25519 key: %+v", a)
	}
	if a := got["private_key:01:my-signing-key"]; a.Size != 2048 || strings.Join(a.Usage, ",") != "sign" || !a.Extractable || !a.Private {
		t.Errorf("RSA key attributes: %+v", a)
	}
	if p.Actions[0].Class != ClassPublicKey {
		t.Errorf("public objects must come first, got %s", p.Actions[0].Class)
	}
	// A target that honours CKA_VALUE_LEN takes the 20-byte secret; without
	// KWP, KW is used only for secrets of a multiple of 8 bytes.
	caps := Capabilities{ExactSecretLength: true, Unwrap: map[uint]bool{pkcs11.CKM_AES_KEY_WRAP: true}}
	for _, a := range MakePlan(sampleInventory(), caps, nil).Actions {
		want := map[string]string{"aes256-x": ActWrap, "hmac20-x": ActBlocked, "my-signing-key": ""}[a.Label]
		if a.Class == ClassSecretKey && a.Action != want {
			t.Errorf("KW-only %s: %s (%s)", a.Label, a.Action, a.Reason)
		}
		if a.Class == ClassPrivateKey && a.Label == "my-signing-key" && a.Action != ActBlocked {
			t.Errorf("KW-only private key: %s, want blocked", a.Action)
		}
	}
}

// TestPlanNeverWrapsWhatInventoryRegenerates: whatever the target, a record
// the inventory marks regenerate is planned regenerate or blocked, never
// wrap, copy or skip; and a blocked record stays blocked.
func TestPlanNeverWrapsWhatInventoryRegenerates(t *testing.T) {
	inv := sampleInventory()
	// Extractable and wrappable in every attribute, yet regenerate: the
	// inventory's word is final.
	inv.Records = append(inv.Records, inventory.Record{Class: inventory.ClassSecretKey, KeyType: "AES", Label: "aes-trusted", ID: "20",
		Extractable: inventory.T(), Size: "AES-256", Bits: 256, Bytes: 32, CheckValue: "aa", CheckMethod: "AES-ECB(0^128)[:8]",
		Disposition: inventory.Regenerate, Reason: "CKA_WRAP_WITH_TRUSTED=TRUE: only a CKA_TRUSTED key (set by the SO) may wrap it"},
		inventory.Record{Class: "CKO_HW_FEATURE", Label: "clock", ID: "", Disposition: inventory.Blocked, Reason: "CKO_HW_FEATURE objects belong to the token"})
	noEd := inventory.CapabilitiesFrom("fips", []inventory.MechInfo{
		{Code: pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, Flags: []string{"generate_key_pair"}},
		{Code: pkcs11.CKM_AES_KEY_GEN, Flags: []string{"generate"}}})
	// Everything present on the target, proven: only wrap and copy may skip.
	present := append([]inventory.Record(nil), inv.Records...)
	for name, caps := range map[string]Capabilities{
		"any":       {},
		"softhsm":   {Manufacturer: softHSMManufacturer},
		"exact":     {ExactSecretLength: true},
		"kw-only":   {ExactSecretLength: true, Unwrap: map[uint]bool{pkcs11.CKM_AES_KEY_WRAP: true}},
		"no-eddsa":  {ExactSecretLength: true, Target: noEd},
		"no-unwrap": {Unwrap: map[uint]bool{}},
	} {
		for _, pres := range [][]inventory.Record{nil, present} {
			byID := map[string]Action{}
			for _, a := range MakePlan(inv, caps, pres).Actions {
				byID[a.Class+":"+a.ID+":"+a.Label] = a
			}
			recs := append([]inventory.Record(nil), inv.Records...)
			inventory.FollowRegenerated(recs)
			for _, r := range recs {
				a := actionFrom(r)
				got, ok := byID[a.Identity]
				if !ok {
					t.Errorf("%s: no action for %s", name, a.Identity)
					continue
				}
				switch r.Disposition {
				case inventory.Regenerate:
					if got.Action != ActRegenerate && got.Action != ActBlocked {
						t.Errorf("%s: %s is regenerate in the inventory, planned %s (%s)", name, a.Identity, got.Action, got.Reason)
					}
				case inventory.Blocked:
					if got.Action != ActBlocked {
						t.Errorf("%s: %s is blocked in the inventory, planned %s", name, a.Identity, got.Action)
					}
				}
			}
		}
	}
}

// TestPlanSharedIdentityAndForeignClass: objects Move could not tell apart
// become one blocked action, and a plan with a blocked object of a class
// craton does not move still reads back.
func TestPlanSharedIdentityAndForeignClass(t *testing.T) {
	inv := &inventory.Inventory{Records: []inventory.Record{
		{Class: inventory.ClassData, Label: "twin", Disposition: inventory.Copy, Token: inventory.T(), Identity: "data:twin:#1"},
		{Class: inventory.ClassData, Label: "twin", Disposition: inventory.Copy, Token: inventory.T(), Identity: "data:twin:#2"},
		{Class: "CKO_HW_FEATURE", Label: "clock", ID: "0a", Disposition: inventory.Blocked, Reason: "CKO_HW_FEATURE objects belong to the token"},
		{Class: "CKO_DOMAIN_PARAMETERS", Label: "dh", ID: "0b", Disposition: inventory.Copy, Reason: "domain parameters: public, copied"},
		{Class: inventory.ClassSecretKey, KeyType: "DES3", Label: "des", ID: "0c", Extractable: inventory.T(), Disposition: inventory.Wrap, Reason: "wrap"},
	}}
	p := MakePlan(inv, Capabilities{}, nil)
	if len(p.Actions) != 4 {
		t.Fatalf("%d actions, want 4: %+v", len(p.Actions), p.Actions)
	}
	for _, a := range p.Actions {
		if a.Action != ActBlocked {
			t.Errorf("%s: %s, want blocked", a.Identity, a.Action)
		}
		t.Logf("%s: %s", a.Identity, a.Reason)
	}
	var buf bytes.Buffer
	if err := WritePlan(&buf, p); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPlan(&buf, "plan.yaml"); err != nil {
		t.Fatalf("plan with blocked foreign objects does not read back: %v", err)
	}
}

func TestPlanRoundTrip(t *testing.T) {
	p := samplePlan()
	var buf bytes.Buffer
	if err := WritePlan(&buf, p); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan.golden.yaml", buf.Bytes())
	q, err := ReadPlan(bytes.NewReader(buf.Bytes()), "plan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Actions) != len(p.Actions) || q.Actions[3].Identity != p.Actions[3].Identity || !q.CreatedAt.Equal(p.CreatedAt) {
		t.Errorf("round trip differs")
	}
	path := filepath.Join(t.TempDir(), "p.yaml")
	if err := SavePlan(path, p); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPlan(path); err != nil {
		t.Fatal(err)
	}
}

func TestReadPlanErrors(t *testing.T) {
	var buf bytes.Buffer
	WritePlan(&buf, samplePlan())
	good := buf.String()
	cases := []struct {
		name, from, to, want string
	}{
		{"unknown action", "action: copy\n", "action: teleport\n", `line 18: actions[0].action: unknown action "teleport"`},
		{"bad hex id", `id: "01"`, `id: "0g"`, `actions[0].id: CKA_ID "0g" is not hex`},
		{"odd hex id", `id: "01"`, `id: "012"`, `is not hex`},
		{"bad class", "class: public_key", "class: secret_sauce", `actions[0].class: unknown class`},
		{"version", "version: 1", "version: 9", "line 2: version: unsupported plan version 9"},
		{"unknown field", "label: my-signing-key\n", "lable: my-signing-key\n", "field lable not found"},
		{"malformed", "actions:", "actions: [", "malformed YAML"},
		{"KW private", "mechanism: CKM_AES_KEY_WRAP_PAD", "mechanism: CKM_AES_KEY_WRAP", "cannot carry a PKCS#8"},
		{"identity", "identity: public_key:01:my-signing-key", "identity: public_key:99:x", "does not match"},
		{"unknown usage", "      - verify\n", "      - verifyy\n", `actions[0].usage: usage[0] "verifyy" is not an operation`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := strings.Replace(good, c.from, c.to, 1)
			if in == good {
				t.Fatalf("replacement %q not found", c.from)
			}
			_, err := ReadPlan(strings.NewReader(in), "plan.yaml")
			if err == nil || errs.KindOf(err) != errs.KindInput || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v (kind %d), want KindInput containing %q", err, errs.KindOf(err), c.want)
			}
			if err != nil && !strings.Contains(err.Error(), "plan.yaml") {
				t.Errorf("error does not name the file: %v", err)
			}
		})
	}
}

func TestRenderRunbookGolden(t *testing.T) {
	var buf bytes.Buffer
	env := RunbookEnv{TargetConfig: "/etc/craton/craton_hsm.yaml", PlanFile: "plan.yaml", SystemdUnit: "signer.service"}
	if err := RenderRunbook(&buf, samplePlan(), env); err != nil {
		t.Fatal(err)
	}
	golden(t, "runbook.golden.md", buf.Bytes())
	for _, want := range []string{"install -m 0755 libcraton_hsm.so /usr/lib/pkcs11/libcraton_hsm.so", "--so-pin-file so-pin.txt",
		"slotListIndex", `modutil -dbdir sql:/etc/pki/nssdb -add "Craton HSM"`, "Environment=PKCS11_MODULE=",
		"| my-signing-key | 01 | private_key | RSA-2048 | CKM_AES_KEY_WRAP_PAD |", "csr/rsa3072-nx-02.csr",
		"craton migrate verify", "rm -rf /var/lib/softhsm/tokens/", "--application-id 11"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("runbook lacks %q", want)
		}
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update once)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; diff with go test -update", name)
	}
}
