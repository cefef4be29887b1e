package inventory_test

import (
	"crypto/aes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"strconv"
	"strings"
	"testing"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/errs"
	"github.com/craton-co/craton/internal/softhsmtest"
	"github.com/craton-co/craton/inventory"
	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

var classOf = map[uint]string{
	pkcs11.CKO_PRIVATE_KEY: inventory.ClassPrivateKey, pkcs11.CKO_PUBLIC_KEY: inventory.ClassPublicKey,
	pkcs11.CKO_SECRET_KEY: inventory.ClassSecretKey, pkcs11.CKO_CERTIFICATE: inventory.ClassCertificate,
	pkcs11.CKO_DATA: inventory.ClassData,
}

// source is a populated representative token; building one costs seconds
// (in-token RSA-4096 generation), so the live tests share it as subtests.
type source struct {
	f        *softhsmtest.Fixture
	tok      *softhsmtest.Token
	manifest []softhsmtest.Expected
}

func (src source) take(t *testing.T, opts inventory.Options) (*inventory.Inventory, *countingModule) {
	t.Helper()
	cm := &countingModule{m: src.f.Module()}
	inv, err := inventory.Take(cm, src.tok.P11(), opts)
	if err != nil {
		t.Fatalf("Take: %v", err)
	}
	return inv, cm
}

func TestTakeRepresentativeToken(t *testing.T) {
	f := softhsmtest.New(t)
	tok := f.EmptyToken("Your-Token-Label")
	src := source{f: f, tok: tok, manifest: softhsmtest.PopulateRepresentative(tok)}
	t.Run("every object once with its values", func(t *testing.T) { testEveryObject(t, src) })
	t.Run("no PIN lists public objects only", func(t *testing.T) { testPublicOnly(t, src) })
	t.Run("target capabilities block", func(t *testing.T) { testTargetCapabilities(t, src) })
	t.Run("attribute reads are batched", func(t *testing.T) { testBatching(t, src) })
	t.Run("live CSV round trip", func(t *testing.T) { testLiveCSVRoundTrip(t, src) })
}

func one(t *testing.T, inv *inventory.Inventory, class, label string) inventory.Record {
	t.Helper()
	rs := inv.Find(class, label)
	if len(rs) != 1 {
		t.Fatalf("%s %q: %d records, want exactly 1", class, label, len(rs))
	}
	return rs[0]
}

func testEveryObject(t *testing.T, src source) {
	inv, cm := src.take(t, inventory.Options{PIN: softhsmtest.UserPIN})
	manifest, tok := src.manifest, src.tok
	if len(inv.Records) != len(manifest) {
		t.Errorf("%d records, manifest %d", len(inv.Records), len(manifest))
	}
	if !inv.LoggedIn || len(inv.Warnings) != 0 {
		t.Errorf("LoggedIn=%v warnings=%v", inv.LoggedIn, inv.Warnings)
	}
	if inv.Token.Label != tok.Label || inv.Token.Manufacturer != "SoftHSM project" || inv.Token.Serial == "" ||
		inv.Library.Version != "2.6" || len(inv.Token.Mechanisms) < 50 {
		t.Errorf("token info %+v library %+v (%d mechanisms)", inv.Token, inv.Library, len(inv.Token.Mechanisms))
	}
	ids := map[string]bool{}
	for _, r := range inv.Records {
		if ids[r.Identity] {
			t.Errorf("identity %q twice", r.Identity)
		}
		ids[r.Identity] = true
	}
	for _, e := range manifest {
		r := one(t, inv, classOf[e.Class], e.Label)
		assertRecord(t, e, r, manifest)
	}
	assertPairs(t, inv)
	assertCheckValues(t, inv, tok)
	t.Logf("%d objects, %d PKCS#11 calls (%.1f per object)", len(inv.Records), cm.calls.Load(),
		float64(cm.calls.Load())/float64(len(inv.Records)))
}

// assertRecord checks one record against the manifest entry.
func assertRecord(t *testing.T, e softhsmtest.Expected, r inventory.Record, manifest []softhsmtest.Expected) {
	t.Helper()
	name := r.Identity
	eq := func(field string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s: %s = %v, want %v", name, field, got, want)
		}
	}
	flag := func(field string, got *bool, want bool) {
		t.Helper()
		if got == nil || *got != want {
			t.Errorf("%s: %s = %v, want %v", name, field, fmtBool(got), want)
		}
	}
	eq("ID", r.ID, e.ID)
	flag("Private", r.Private, e.Private)
	flag("Token", r.Token, true)
	if !e.IsKey() {
		eq("Disposition", r.Disposition, inventory.Copy)
		return
	}
	eq("KeyType", r.KeyType, strings.TrimPrefix(ck.KeyTypeName(e.KeyType), "CKK_"))
	eq("Bits", r.Bits, e.Bits)
	wantSize := map[uint]string{pkcs11.CKK_RSA: "RSA-" + itoa(e.Bits), pkcs11.CKK_AES: "AES-" + itoa(e.Bits),
		pkcs11.CKK_GENERIC_SECRET: "GENERIC_SECRET-" + itoa(e.Bits)}[e.KeyType]
	if e.Curve != "" {
		wantSize = e.Curve
	}
	eq("Size", r.Size, wantSize)
	flag("Local", r.Local, e.Local)
	flag("Derive", r.Derive, e.Derive)
	switch e.Class {
	case pkcs11.CKO_PUBLIC_KEY:
		flag("Verify", r.Verify, e.Verify)
		flag("Encrypt", r.Encrypt, e.Encrypt)
		flag("Wrap", r.Wrap, e.Wrap)
		if r.Extractable != nil || r.Sensitive != nil || r.Sign != nil {
			t.Errorf("%s: private-key attributes on a public key: extractable %v sensitive %v sign %v",
				name, fmtBool(r.Extractable), fmtBool(r.Sensitive), fmtBool(r.Sign))
		}
		// The public half of a pair whose private key is regenerated is
		// regenerate too (the new pair replaces it), else it is copied.
		if priv, ok := softhsmtest.Find(manifest, pkcs11.CKO_PRIVATE_KEY, e.Label); ok && privateRegenerated(priv) {
			if r.Disposition != inventory.Regenerate || !strings.Contains(r.Reason, "public half of private-key:"+e.Label+":"+e.ID) {
				t.Errorf("%s: %s (%s), want regenerate as the public half of a regenerated key", name, r.Disposition, r.Reason)
			}
		} else {
			eq("Disposition", r.Disposition, inventory.Copy)
		}
		if len(r.Fingerprint) != 64 {
			t.Errorf("%s: fingerprint %q", name, r.Fingerprint)
		}
		return
	case pkcs11.CKO_SECRET_KEY:
		eq("Bytes", r.Bytes, e.Len)
		flag("Verify", r.Verify, e.Verify)
		flag("Encrypt", r.Encrypt, e.Encrypt)
		flag("Wrap", r.Wrap, e.Wrap)
	}
	flag("Extractable", r.Extractable, e.Extractable)
	flag("Sensitive", r.Sensitive, e.Sensitive)
	flag("AlwaysSensitive", r.AlwaysSensitive, e.AlwaysSensitive)
	flag("NeverExtractable", r.NeverExtractable, e.NeverExtractable)
	flag("Sign", r.Sign, e.Sign)
	flag("Decrypt", r.Decrypt, e.Decrypt)
	flag("Unwrap", r.Unwrap, e.Unwrap)
	assertDisposition(t, e, r)
}

// privateRegenerated says whether the fixture's private key e cannot be
// wrapped out of SoftHSMv2 2.6.
func privateRegenerated(e softhsmtest.Expected) bool {
	return !e.Extractable || e.KeyType == ck.CKK_EC_EDWARDS
}

func assertDisposition(t *testing.T, e softhsmtest.Expected, r inventory.Record) {
	t.Helper()
	want, reason := inventory.Wrap, "CKM_AES_KEY_WRAP_PAD"
	switch {
	case !e.Extractable:
		want, reason = inventory.Regenerate, "CKA_EXTRACTABLE=FALSE"
	case e.KeyType == ck.CKK_EC_EDWARDS && e.Class == pkcs11.CKO_PRIVATE_KEY:
		want, reason = inventory.Regenerate, "SoftHSMv2 2.6 cannot wrap CKK_EC_EDWARDS private keys"
	}
	if r.Disposition != want || !strings.Contains(r.Reason, reason) {
		t.Errorf("%s: %s (%s), want %s with %q", r.Identity, r.Disposition, r.Reason, want, reason)
	}
	if e.NeverExtractable && !strings.Contains(r.Reason, "CKA_NEVER_EXTRACTABLE=TRUE") {
		t.Errorf("%s: reason %q does not name CKA_NEVER_EXTRACTABLE", r.Identity, r.Reason)
	}
}

// assertPairs: key pairs share a fingerprint and are linked by CKA_ID, the
// certificate is linked to its key and holds the same public key.
func assertPairs(t *testing.T, inv *inventory.Inventory) {
	t.Helper()
	for _, label := range []string{"my-signing-key", "rsa3072-nx", "rsa4096-x", "ec-p256-x", "ec-p384-nx", "ed25519-x", "ed25519-nx", "wrap-rsa"} {
		priv, pub := one(t, inv, inventory.ClassPrivateKey, label), one(t, inv, inventory.ClassPublicKey, label)
		if priv.Fingerprint == "" || priv.Fingerprint != pub.Fingerprint {
			t.Errorf("%s: private fingerprint %q, public %q", label, priv.Fingerprint, pub.Fingerprint)
		}
		if !contains(priv.Links, pub.Identity) || !contains(pub.Links, priv.Identity) {
			t.Errorf("%s: links private %v public %v", label, priv.Links, pub.Links)
		}
	}
	cert := one(t, inv, inventory.ClassCertificate, "my-signing-key")
	priv := one(t, inv, inventory.ClassPrivateKey, "my-signing-key")
	if cert.Fingerprint != priv.Fingerprint || !contains(cert.Links, priv.Identity) || !contains(priv.Links, cert.Identity) {
		t.Errorf("certificate %s not tied to %s: fp %s vs %s, links %v / %v", cert.Identity, priv.Identity,
			cert.Fingerprint, priv.Fingerprint, cert.Links, priv.Links)
	}
	if cert.Subject != "CN=my-signing-key" || cert.Issuer != "CN=my-signing-key" || cert.Serial == "" || cert.NotAfter == "" {
		t.Errorf("certificate fields: %+v", cert)
	}
	// imported-ec-x (id 21) has no public key with its ID: no fingerprint.
	if r := one(t, inv, inventory.ClassPrivateKey, "imported-ec-x"); r.Fingerprint != "" || len(r.Links) != 0 {
		t.Errorf("imported-ec-x: fingerprint %q links %v, want none", r.Fingerprint, r.Links)
	}
	h20 := one(t, inv, inventory.ClassSecretKey, "hmac20-x")
	if h20.Size != "GENERIC_SECRET-160" || h20.Bytes != 20 || !strings.Contains(h20.Reason, "zero-pads this 20-byte key to 24") {
		t.Errorf("hmac20-x: size %q bytes %d reason %q", h20.Size, h20.Bytes, h20.Reason)
	}
}

// assertCheckValues recomputes the check values in Go from key values the
// test can read (extractable, non-sensitive keys) or knows (kek-known).
func assertCheckValues(t *testing.T, inv *inventory.Inventory, tok *softhsmtest.Token) {
	t.Helper()
	values := map[string][]byte{"kek-known": softhsmtest.KnownKEK}
	tok.Do(func(s *p11.Session) {
		for _, label := range []string{"aes128-x", "hmac-x", "hmac20-x"} {
			hs, err := s.FindAll([]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, label), pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY)})
			if err != nil || len(hs) != 1 {
				t.Fatalf("find %s: %v %d", label, err, len(hs))
			}
			a, err := p11.ReadAttrs(s.M, s.H, hs[0], pkcs11.CKA_VALUE)
			if err != nil || !a.Has(pkcs11.CKA_VALUE) {
				t.Fatalf("read %s: %v %v", label, err, a.Unavailable)
			}
			values[label] = a.Bytes(pkcs11.CKA_VALUE)
		}
	})
	want := map[string]struct{ method, value string }{
		"kek-known": {"AES-ECB(0^128)[:8]", aesKCV(values["kek-known"])},
		"aes128-x":  {"AES-ECB(0^128)[:8]", aesKCV(values["aes128-x"])},
		"hmac-x":    {"HMAC-SHA256(0^128)[:8]", hmacKCV(sha256.New, values["hmac-x"])},
		"hmac20-x":  {"HMAC-SHA1(0^128)[:8]", hmacKCV(sha1.New, values["hmac20-x"])}, // SoftHSM: SHA256-HMAC needs >= 32 bytes
	}
	for label, w := range want {
		r := one(t, inv, inventory.ClassSecretKey, label)
		if r.CheckMethod != w.method || r.CheckValue != w.value {
			t.Errorf("%s: check %s %s, want %s %s", label, r.CheckMethod, r.CheckValue, w.method, w.value)
		}
	}
	// kek-known's standard 3-byte KCV is SoftHSM's CKA_CHECK_VALUE f29000 (facts §8).
	if !strings.HasPrefix(one(t, inv, inventory.ClassSecretKey, "kek-known").CheckValue, "f29000") {
		t.Errorf("kek-known check value does not start with SoftHSM's KCV f29000")
	}
	for _, r := range inv.Records {
		if r.Class == inventory.ClassSecretKey && len(r.CheckValue) != 16 {
			t.Errorf("%s: check value %q (%s)", r.Identity, r.CheckValue, r.CheckMethod)
		}
	}
}

func aesKCV(key []byte) string {
	b, _ := aes.NewCipher(key)
	out := make([]byte, 16)
	b.Encrypt(out, make([]byte, 16))
	return hex.EncodeToString(out[:8])
}

func hmacKCV(h func() hash.Hash, key []byte) string {
	m := hmac.New(h, key)
	m.Write(make([]byte, 16))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

func testPublicOnly(t *testing.T, src source) {
	inv, _ := src.take(t, inventory.Options{})
	manifest := src.manifest
	public := 0
	for _, e := range manifest {
		if !e.Private {
			public++
		}
	}
	if len(inv.Records) != public {
		t.Errorf("%d records without PIN, want the %d public objects", len(inv.Records), public)
	}
	for _, r := range inv.Records {
		if inventory.Is(r.Private) {
			t.Errorf("private object %s listed without login", r.Identity)
		}
	}
	if inv.LoggedIn || len(inv.Warnings) == 0 || !strings.Contains(inv.Warnings[0], "no PIN") {
		t.Errorf("LoggedIn=%v warnings=%v", inv.LoggedIn, inv.Warnings)
	}
}

func TestTakeWrongPINIsPropagatedOnce(t *testing.T) {
	f := softhsmtest.New(t)
	tok := f.EmptyToken("inv-wrong-pin")
	softhsmtest.PopulateTarget(tok) // one object; the populating session logged out
	cm := &loginCounting{countingModule: countingModule{m: f.Module()}}
	_, err := inventory.Take(cm, tok.P11(), inventory.Options{PIN: "0000"})
	if errs.KindOf(err) != errs.KindAuth || !strings.Contains(err.Error(), "CKR_PIN_INCORRECT") {
		t.Fatalf("err = %v (kind %d), want KindAuth with CKR_PIN_INCORRECT", err, errs.KindOf(err))
	}
	if cm.logins != 1 {
		t.Errorf("C_Login called %d times, want 1", cm.logins)
	}
}

type loginCounting struct {
	countingModule
	logins int
	fail   uint // CK_RV to return instead of logging in, 0 = pass through
}

func (c *loginCounting) Login(sh pkcs11.SessionHandle, userType uint, pin string) error {
	c.logins++
	if c.fail != 0 {
		return pkcs11.Error(c.fail)
	}
	return c.countingModule.Login(sh, userType, pin)
}

func TestTakeLockedPIN(t *testing.T) {
	f := softhsmtest.New(t)
	tok := f.EmptyToken("inv-locked")
	cm := &loginCounting{countingModule: countingModule{m: f.Module()}, fail: pkcs11.CKR_PIN_LOCKED}
	_, err := inventory.Take(cm, tok.P11(), inventory.Options{PIN: softhsmtest.UserPIN})
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.KindPINLocked || e.RV != pkcs11.CKR_PIN_LOCKED {
		t.Fatalf("err = %v, want KindPINLocked with CKR_PIN_LOCKED", err)
	}
	if cm.logins != 1 {
		t.Errorf("C_Login called %d times, want 1", cm.logins)
	}
}

func TestTakeEmptyToken(t *testing.T) {
	f := softhsmtest.New(t)
	tok := f.EmptyToken("inv-empty")
	inv, err := inventory.Take(f.Module(), tok.P11(), inventory.Options{PIN: softhsmtest.UserPIN})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Records) != 0 || len(inv.Warnings) != 1 || !strings.Contains(inv.Warnings[0], "holds no objects") {
		t.Errorf("records %d warnings %v", len(inv.Records), inv.Warnings)
	}
}

func testTargetCapabilities(t *testing.T, src source) {
	// A target like Craton's FIPS mode: no Ed25519, and no AES-KWP unwrap.
	var mechs []inventory.MechInfo
	for _, m := range []struct {
		code  uint
		flags []string
	}{
		{pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, []string{"generate_key_pair"}},
		{pkcs11.CKM_EC_KEY_PAIR_GEN, []string{"generate_key_pair"}},
		{pkcs11.CKM_AES_KEY_GEN, []string{"generate"}},
		{pkcs11.CKM_GENERIC_SECRET_KEY_GEN, []string{"generate"}},
		{pkcs11.CKM_AES_KEY_WRAP, []string{"wrap", "unwrap"}},
	} {
		mechs = append(mechs, inventory.MechInfo{Name: ck.MechName(m.code), Code: m.code, Flags: m.flags})
	}
	target := inventory.CapabilitiesFrom("fips-target", mechs)
	inv, _ := src.take(t, inventory.Options{PIN: softhsmtest.UserPIN, Target: target})
	for _, r := range inv.Records {
		switch {
		case r.KeyType == "EC_EDWARDS":
			if r.Disposition != inventory.Blocked || !strings.Contains(r.Reason, "fips-target lacks key type CKK_EC_EDWARDS") {
				t.Errorf("%s: %s %q, want blocked for the key type", r.Identity, r.Disposition, r.Reason)
			}
		case r.Class == inventory.ClassPrivateKey && inventory.Is(r.Extractable):
			if r.Disposition != inventory.Blocked || !strings.Contains(r.Reason, "cannot unwrap CKM_AES_KEY_WRAP_PAD") ||
				!strings.Contains(r.Reason, "from the source: wrap") {
				t.Errorf("%s: %s %q, want blocked for the unwrap mechanism", r.Identity, r.Disposition, r.Reason)
			}
		case r.Class == inventory.ClassPrivateKey:
			if r.Disposition != inventory.Regenerate {
				t.Errorf("%s: %s %q, want regenerate", r.Identity, r.Disposition, r.Reason)
			}
		}
	}
}

func testBatching(t *testing.T, src source) {
	inv, cm := src.take(t, inventory.Options{PIN: softhsmtest.UserPIN})
	n := len(inv.Records)
	// Fixed: info, token info, mechanism list + one info per mechanism,
	// session, login, find. Per object: 2 batched reads (+1 fallback for
	// certificates and data, which have no CKA_KEY_TYPE), 2-4 for a secret
	// key's check value.
	perObject := float64(cm.calls.Load()-int64(2+len(inv.Token.Mechanisms))) / float64(n)
	if perObject > 4 {
		t.Errorf("%.1f PKCS#11 calls per object; attribute reads are not batched", perObject)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func fmtBool(p *bool) string {
	if p == nil {
		return "nil"
	}
	if *p {
		return "true"
	}
	return "false"
}

func itoa(n int) string { return strconv.Itoa(n) }
