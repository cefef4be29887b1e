package wrapmove

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/craton-co/craton/inventory"
	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// livePlan makes the plan Move would make, from the fixture source.
func livePlan(t *testing.T, opts MoveOptions) Plan {
	inv, err := inventory.Take(opts.Source, opts.SourceToken, inventory.Options{PIN: opts.SourcePIN})
	if err != nil {
		t.Fatal(err)
	}
	return MakePlan(inv, Capabilities{Manufacturer: softHSMManufacturer}, nil)
}

func TestRegenerateSoftHSM(t *testing.T) {
	opts := moveOpts(t, "tgt-regen")
	before := tokenDirHash(t, srcLabel)
	plan := livePlan(t, opts)
	// The operator chose to regenerate my-signing-key instead of moving it,
	// so its CSR must carry the old certificate's subject.
	for i, a := range plan.Actions {
		if a.Label == "my-signing-key" && a.Class == ClassPrivateKey {
			plan.Actions[i].Action = ActRegenerate
		}
	}
	csrDir := t.TempDir()
	ropts := RegenOptions{Target: opts.Target, TargetToken: opts.TargetToken, TargetPIN: userPIN, Plan: &plan,
		CSRDir: csrDir, Source: opts.Source, SourceToken: opts.SourceToken, SourcePIN: userPIN}
	res, err := Regenerate(ropts)
	for _, r := range res {
		t.Logf("%-15s %-3s %-11s %-10s %5d %-9s %s %s %s", r.Label, r.ID, r.Class, r.KeyType, r.Size, r.Status, r.CSR, r.Subject, r.Detail)
	}
	if err != nil {
		t.Fatalf("regenerate: %v", err)
	}
	if len(res) != 10 {
		t.Errorf("%d results, want 10 (6 key pairs incl. my-signing-key, 4 secrets)", len(res))
	}
	dst := fresh(t, opts, true)
	byLabel := map[string]Action{}
	for _, a := range plan.Actions {
		byLabel[a.Class+"/"+a.Label] = a
	}
	for _, r := range res {
		if r.Status != RegenGenerated {
			t.Errorf("%s: %s", r.Label, r.Status)
			continue
		}
		a := byLabel[r.Class+"/"+r.Label]
		assertRegenerated(t, dst, a)
		if r.Class != ClassPrivateKey {
			continue
		}
		if out, err := exec.Command("openssl", "req", "-verify", "-noout", "-in", r.CSR).CombinedOutput(); err != nil {
			t.Errorf("openssl req -verify %s: %v\n%s", r.CSR, err, out)
		}
		wantCN := r.Label
		csr := readCSR(t, r.CSR)
		if csr.Subject.CommonName != wantCN {
			t.Errorf("%s: CSR subject %q", r.Label, csr.Subject)
		}
	}
	// Idempotent: a second run generates nothing.
	res2, err := Regenerate(ropts)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res2 {
		if r.Status != RegenAlready {
			t.Errorf("second run %s: %s", r.Label, r.Status)
		}
		if hs, _ := findByIdentity(dst, r.Class, byLabel[r.Class+"/"+r.Label].IDBytes(), r.Label); len(hs) != 1 {
			t.Errorf("%s: %d keys after the second run", r.Label, len(hs))
		}
	}
	if tokenDirHash(t, srcLabel) != before {
		t.Errorf("source token changed")
	}
}

// assertRegenerated checks the new key: one object with the label and
// ID, generated on the token, same type and size, permitted operations as
// planned.
func assertRegenerated(t *testing.T, dst *p11.Session, a Action) {
	t.Helper()
	hs, err := findByIdentity(dst, a.Class, a.IDBytes(), a.Label)
	if err != nil || len(hs) != 1 {
		t.Errorf("%s: %d keys on the target (%v)", a.Label, len(hs), err)
		return
	}
	o, err := readObject(dst, hs[0])
	if err != nil {
		t.Fatal(err)
	}
	if local, _ := o.attrs.Bool(pkcs11.CKA_LOCAL); !local {
		t.Errorf("%s: CKA_LOCAL false", a.Label)
	}
	if o.KeyType != a.KeyType || (o.Size != a.Size && a.Class == ClassSecretKey) || o.Curve != a.Curve {
		t.Errorf("%s: got %s/%d/%s, want %s/%d/%s", a.Label, o.KeyType, o.Size, o.Curve, a.KeyType, a.Size, a.Curve)
	}
	names := []string{"sign"}
	if a.Class == ClassSecretKey {
		names = []string{"sign", "verify", "encrypt", "decrypt", "wrap", "unwrap", "derive"}
	} else if a.KeyType == KeyRSA {
		names = []string{"sign", "decrypt", "unwrap"}
	}
	for _, n := range names {
		if hasUsage(o.Usage, n) != hasUsage(a.Usage, n) {
			t.Errorf("%s: usage %s is %v, want %v", a.Label, n, hasUsage(o.Usage, n), hasUsage(a.Usage, n))
		}
	}
	if a.KeyType == KeyRSA {
		pub, _ := findPublic(dst, a.IDBytes(), a.Label)
		po, _ := readObject(dst, pub)
		if po.Size != a.Size {
			t.Errorf("%s: %d bits, want %d", a.Label, po.Size, a.Size)
		}
	}
}

func readCSR(t *testing.T, path string) *x509.CertificateRequest {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	csr, err := x509.ParseCertificateRequest(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return csr
}

// TestRegenerateSoftHSMCSRSubject: the CSR copies subject and SANs from the
// old certificate with the same CKA_ID. "Target-Token" of the fixture plays
// the source here, holding a certificate whose subject differs from the label.
func TestRegenerateSoftHSMCSRSubject(t *testing.T) {
	l := softhsm(t)
	oldTok := token(t, l, "Target-Token")
	s, err := openSide(l, oldTok, userPIN, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7),
		Subject:  pkix.Name{CommonName: "www.example.com", Organization: []string{"Example Ltd"}, Country: []string{"AR"}},
		DNSNames: []string{"www.example.com", "example.com"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	id := []byte{0x77}
	if _, err := s.M.CreateObject(s.H, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE),
		pkcs11.NewAttribute(pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKC_X_509),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false), // session object: visible to the whole process, gone with the session
		pkcs11.NewAttribute(pkcs11.CKA_ID, id),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, "web-tls"),
		pkcs11.NewAttribute(pkcs11.CKA_SUBJECT, cert.RawSubject),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, der),
	}); err != nil {
		t.Fatal(err)
	}
	item := Action{Identity: Identity(ClassPrivateKey, "77", "web-tls"), Label: "web-tls", ID: "77", Class: ClassPrivateKey,
		KeyType: KeyEC, Curve: "P-256", Size: 256, Action: ActRegenerate, Usage: []string{"sign"}, Token: true, Private: true}
	dst := token(t, l, "tgt-regen")
	res, err := Regenerate(RegenOptions{Target: l, TargetToken: dst, TargetPIN: userPIN, Items: []Action{item},
		CSRDir: t.TempDir(), Source: l, SourceToken: oldTok, SourcePIN: userPIN})
	if err != nil || len(res) != 1 {
		t.Fatalf("regenerate: %v %+v", err, res)
	}
	csr := readCSR(t, res[0].CSR)
	if string(csr.RawSubject) != string(cert.RawSubject) {
		t.Errorf("CSR subject %q, want %q", csr.Subject, cert.Subject)
	}
	if len(csr.DNSNames) != 2 || csr.DNSNames[1] != "example.com" {
		t.Errorf("CSR SANs %v", csr.DNSNames)
	}
	if out, err := exec.Command("openssl", "req", "-verify", "-noout", "-in", res[0].CSR).CombinedOutput(); err != nil {
		t.Errorf("openssl req -verify: %v\n%s", err, out)
	}
}
