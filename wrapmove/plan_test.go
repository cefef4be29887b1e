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
	"github.com/miekg/pkcs11"
)

var update = flag.Bool("update", false, "rewrite golden files")

func sampleObjects() []SourceObject {
	o := func(class, kt, label string, id byte, disp string, extra func(*SourceObject)) SourceObject {
		s := SourceObject{Class: class, KeyType: kt, Label: label, ID: []byte{id}, Disposition: disp, Token: true}
		if extra != nil {
			extra(&s)
		}
		return s
	}
	return []SourceObject{
		o(ClassPrivateKey, KeyRSA, "my-signing-key", 0x01, ActWrap, func(s *SourceObject) { s.Size = 2048; s.Usage = []string{"sign"}; s.Fingerprint = "sha256:aa" }),
		o(ClassPublicKey, KeyRSA, "my-signing-key", 0x01, ActCopy, func(s *SourceObject) { s.Size = 2048; s.Fingerprint = "sha256:aa" }),
		o(ClassCertificate, "", "my-signing-key", 0x01, ActCopy, func(s *SourceObject) { s.Fingerprint = "sha256:cc" }),
		o(ClassPrivateKey, KeyRSA, "rsa3072-nx", 0x02, ActRegenerate, func(s *SourceObject) { s.Size = 3072; s.Reason = "not extractable" }),
		o(ClassPublicKey, KeyRSA, "rsa3072-nx", 0x02, ActCopy, nil),
		o(ClassPrivateKey, KeyEdwards, "ed25519-x", 0x06, ActRegenerate, func(s *SourceObject) { s.Curve = "Ed25519"; s.Size = 255 }),
		o(ClassSecretKey, KeyAES, "aes256-x", 0x11, ActWrap, func(s *SourceObject) { s.Size, s.ValueLen = 256, 32 }),
		o(ClassSecretKey, KeyGeneric, "hmac20-x", 0x16, ActWrap, func(s *SourceObject) { s.Size, s.ValueLen = 160, 20 }),
		o(ClassData, "", "my-data", 0, ActCopy, func(s *SourceObject) { s.ID = nil }),
	}
}

func samplePlan() Plan {
	p := MakePlan(sampleObjects(), Capabilities{Manufacturer: softHSMManufacturer}, []TargetObject{
		{Class: ClassCertificate, Label: "my-signing-key", ID: []byte{1}, Fingerprint: "sha256:cc"},
	})
	p.CreatedAt = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p.Source = Endpoint{Module: "/usr/lib/softhsm/libsofthsm2.so", Token: "Your-Token-Label", Serial: "e73354bb73f1e325"}
	p.Target = Endpoint{Module: "/usr/lib/pkcs11/libcraton_hsm.so", Token: "Your-Token-Label"}
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
	check("certificate:01:my-signing-key", ActSkip, "") // present with the same fingerprint
	check("public_key:02:rsa3072-nx", ActRegenerate, "")
	check("secret_key:16:hmac20-x", ActBlocked, "") // SoftHSM target pads 20 → 24 bytes
	check("data::my-data", ActCopy, "")
	if p.Actions[0].Class != ClassPublicKey {
		t.Errorf("public objects must come first, got %s", p.Actions[0].Class)
	}
	// A target that honours CKA_VALUE_LEN takes the 20-byte secret; without
	// KWP, KW is used only for secrets of a multiple of 8 bytes.
	caps := Capabilities{ExactSecretLength: true, Unwrap: map[uint]bool{pkcs11.CKM_AES_KEY_WRAP: true}}
	for _, a := range MakePlan(sampleObjects(), caps, nil).Actions {
		want := map[string]string{"aes256-x": ActWrap, "hmac20-x": ActBlocked, "my-signing-key": ""}[a.Label]
		if a.Class == ClassSecretKey && a.Action != want {
			t.Errorf("KW-only %s: %s (%s)", a.Label, a.Action, a.Reason)
		}
		if a.Class == ClassPrivateKey && a.Label == "my-signing-key" && a.Action != ActBlocked {
			t.Errorf("KW-only private key: %s, want blocked", a.Action)
		}
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
