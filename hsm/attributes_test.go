package hsm

import (
	"bytes"
	"crypto/aes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"math/big"
	"testing"

	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

func TestSensitiveValueNeverRevealed(t *testing.T) {
	c, sh := ready(t, t.TempDir())
	key := bytes.Repeat([]byte{0x42}, 32)
	h, err := c.CreateObject(sh, aesTemplate("sens", "s1", key, false))
	must(t, err)

	// GetAttributeValue: the call fails with CKR_ATTRIBUTE_SENSITIVE, the
	// other attributes are still filled, the value is nil.
	got, err := c.GetAttributeValue(sh, h, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, nil), pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil),
		pkcs11.NewAttribute(pkcs11.CKA_MODULUS, nil)})
	wantRV(t, err, pkcs11.CKR_ATTRIBUTE_SENSITIVE)
	if len(got) != 3 || string(got[0].Value) != "sens" || got[1].Value != nil || got[2].Value != nil {
		t.Fatalf("partial result %+v", got)
	}
	det, err := c.GetAttributeValueDetailed(sh, h, []uint{pkcs11.CKA_LABEL, pkcs11.CKA_VALUE, pkcs11.CKA_MODULUS})
	must(t, err)
	if det[0].RV != 0 || det[1].RV != pkcs11.CKR_ATTRIBUTE_SENSITIVE || det[2].RV != pkcs11.CKR_ATTRIBUTE_TYPE_INVALID {
		t.Fatalf("detailed %+v", det)
	}
	// Not sensitive but unextractable: still hidden.
	h2, err := c.CreateObject(sh, aesTemplate("nx", "", key, false, pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, false)))
	must(t, err)
	_, err = c.GetAttributeValue(sh, h2, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)})
	wantRV(t, err, pkcs11.CKR_ATTRIBUTE_SENSITIVE)
	// Searching by the value finds nothing: find is no oracle.
	if hs := findAll(t, c, sh, pkcs11.NewAttribute(pkcs11.CKA_VALUE, key)); len(hs) != 0 {
		t.Fatalf("find by sensitive value matched %v", hs)
	}
	// Copy and set cannot undo sensitivity.
	_, err = c.CopyObject(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, false)})
	wantRV(t, err, pkcs11.CKR_ATTRIBUTE_READ_ONLY)
	_, err = c.CopyObject(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true)})
	wantRV(t, err, pkcs11.CKR_ATTRIBUTE_READ_ONLY)
	wantRV(t, c.SetAttributeValue(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, false)}), pkcs11.CKR_ATTRIBUTE_READ_ONLY)
	wantRV(t, c.SetAttributeValue(sh, h2, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true)}), pkcs11.CKR_ATTRIBUTE_READ_ONLY)
	// Wrapping a non-extractable key is refused.
	kek, err := c.GenerateKey(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)}, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32)})
	must(t, err)
	_, err = c.WrapKey(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_WRAP, nil)}, kek, h)
	wantRV(t, err, pkcs11.CKR_KEY_UNEXTRACTABLE)
}

func TestAttributeValidation(t *testing.T) {
	c, sh := ready(t, t.TempDir())
	key := bytes.Repeat([]byte{1}, 16)
	cases := []struct {
		name string
		tmpl []*pkcs11.Attribute
		rv   uint
	}{
		{"unknown type", aesTemplate("a", "", key, false, pkcs11.NewAttribute(0x7777, []byte{1})), pkcs11.CKR_ATTRIBUTE_TYPE_INVALID},
		{"no class", []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, "x")}, pkcs11.CKR_TEMPLATE_INCOMPLETE},
		{"no key type", []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY), pkcs11.NewAttribute(pkcs11.CKA_VALUE, key)}, pkcs11.CKR_TEMPLATE_INCOMPLETE},
		{"no value", aesTemplate("a", "", key, false)[:5], pkcs11.CKR_TEMPLATE_INCOMPLETE},
		{"bad AES length", aesTemplate("a", "", key[:15], false), pkcs11.CKR_ATTRIBUTE_VALUE_INVALID},
		{"2-byte bool", aesTemplate("a", "", key, false, &pkcs11.Attribute{Type: pkcs11.CKA_SENSITIVE, Value: []byte{1, 0}}), pkcs11.CKR_ATTRIBUTE_VALUE_INVALID},
		{"4-byte ulong", []*pkcs11.Attribute{{Type: pkcs11.CKA_CLASS, Value: []byte{4, 0, 0, 0}}}, pkcs11.CKR_ATTRIBUTE_VALUE_INVALID},
		{"engine LOCAL", aesTemplate("a", "", key, false, pkcs11.NewAttribute(pkcs11.CKA_LOCAL, true)), pkcs11.CKR_ATTRIBUTE_READ_ONLY},
		{"engine UNIQUE_ID", aesTemplate("a", "", key, false, pkcs11.NewAttribute(ck.CKA_UNIQUE_ID, "x")), pkcs11.CKR_ATTRIBUTE_READ_ONLY},
		{"engine ALWAYS_SENSITIVE", aesTemplate("a", "", key, false, pkcs11.NewAttribute(pkcs11.CKA_ALWAYS_SENSITIVE, true)), pkcs11.CKR_ATTRIBUTE_READ_ONLY},
		{"engine KEY_GEN_MECHANISM", aesTemplate("a", "", key, false, pkcs11.NewAttribute(pkcs11.CKA_KEY_GEN_MECHANISM, 0)), pkcs11.CKR_ATTRIBUTE_READ_ONLY},
		{"not for class", aesTemplate("a", "", key, false, pkcs11.NewAttribute(pkcs11.CKA_MODULUS, []byte{1})), pkcs11.CKR_ATTRIBUTE_TYPE_INVALID},
		{"conflicting duplicate", aesTemplate("a", "", key, false, pkcs11.NewAttribute(pkcs11.CKA_LABEL, "b")), pkcs11.CKR_TEMPLATE_INCONSISTENT},
		{"wrong VALUE_LEN", aesTemplate("a", "", key, false, pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32)), pkcs11.CKR_TEMPLATE_INCONSISTENT},
		{"trusted by user", aesTemplate("a", "", key, false, pkcs11.NewAttribute(pkcs11.CKA_TRUSTED, true)), pkcs11.CKR_ATTRIBUTE_READ_ONLY},
	}
	for _, tc := range cases {
		_, err := c.CreateObject(sh, tc.tmpl)
		if err == nil {
			t.Errorf("%s: created", tc.name)
			continue
		}
		wantRV(t, err, tc.rv)
	}
}

func TestAttributeDefaultsAndByteExactness(t *testing.T) {
	c, sh := ready(t, t.TempDir())
	key := make([]byte, 16)
	label, id := "l\x00bel \xff", "\x00\x01\x02id"
	h, err := c.CreateObject(sh, aesTemplate(label, id, key, false))
	must(t, err)
	a := func(typ uint) []byte { return attr(t, c, sh, h, typ) }
	if string(a(pkcs11.CKA_LABEL)) != label || string(a(pkcs11.CKA_ID)) != id {
		t.Fatal("label/ID not byte-exact")
	}
	block, _ := aes.NewCipher(key)
	kcv := make([]byte, 16)
	block.Encrypt(kcv, kcv)
	if !bytes.Equal(a(pkcs11.CKA_CHECK_VALUE), kcv[:3]) {
		t.Fatalf("check value %x want %x", a(pkcs11.CKA_CHECK_VALUE), kcv[:3])
	}
	for typ, want := range map[uint][]byte{
		pkcs11.CKA_TOKEN: {0}, pkcs11.CKA_PRIVATE: {1}, pkcs11.CKA_SENSITIVE: {1}, pkcs11.CKA_EXTRACTABLE: {0},
		pkcs11.CKA_LOCAL: {0}, pkcs11.CKA_ALWAYS_SENSITIVE: {0}, pkcs11.CKA_NEVER_EXTRACTABLE: {0},
		pkcs11.CKA_MODIFIABLE: {1}, pkcs11.CKA_COPYABLE: {1}, pkcs11.CKA_DESTROYABLE: {1}, pkcs11.CKA_DERIVE: {0},
		pkcs11.CKA_VALUE_LEN: encUlong(16), pkcs11.CKA_KEY_GEN_MECHANISM: encUlong(pkcs11.CK_UNAVAILABLE_INFORMATION),
		ck.CKA_VENDOR_FIPS_APPROVED: {1},
	} {
		if got := a(typ); !bytes.Equal(got, want) {
			t.Errorf("%s = %x, want %x", ck.AttrName(typ), got, want)
		}
	}
	if len(a(ck.CKA_UNIQUE_ID)) == 0 {
		t.Error("no CKA_UNIQUE_ID")
	}
	// One-way changes that are allowed.
	must(t, c.SetAttributeValue(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_COPYABLE, false)}))
	_, err = c.CopyObject(sh, h, nil)
	wantRV(t, err, pkcs11.CKR_ACTION_PROHIBITED)
	wantRV(t, c.SetAttributeValue(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_COPYABLE, true)}), pkcs11.CKR_ATTRIBUTE_READ_ONLY)
	wantRV(t, c.SetAttributeValue(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, key)}), pkcs11.CKR_ATTRIBUTE_READ_ONLY)
	wantRV(t, c.SetAttributeValue(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_DATA)}), pkcs11.CKR_ATTRIBUTE_READ_ONLY)
	must(t, c.SetAttributeValue(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_DESTROYABLE, false)}))
	wantRV(t, c.DestroyObject(sh, h), pkcs11.CKR_ACTION_PROHIBITED)
	must(t, c.SetAttributeValue(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_MODIFIABLE, false)}[:0]))
	d, err := c.CreateObject(sh, append(dataTemplate("ro", false, false), pkcs11.NewAttribute(pkcs11.CKA_MODIFIABLE, false)))
	must(t, err)
	wantRV(t, c.SetAttributeValue(sh, d, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, "x")}), pkcs11.CKR_ACTION_PROHIBITED)
	must(t, c.DestroyObject(sh, d))
}

func TestImportedKeysExposePublicComponents(t *testing.T) {
	c, sh := ready(t, t.TempDir())
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	h, err := c.CreateObject(sh, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA),
		pkcs11.NewAttribute(pkcs11.CKA_MODULUS, rk.N.Bytes()),
		pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, big.NewInt(int64(rk.E)).Bytes()),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE_EXPONENT, rk.D.Bytes()),
		pkcs11.NewAttribute(pkcs11.CKA_PRIME_1, rk.Primes[0].Bytes()),
		pkcs11.NewAttribute(pkcs11.CKA_PRIME_2, rk.Primes[1].Bytes()),
	})
	must(t, err)
	if got := attr(t, c, sh, h, pkcs11.CKA_MODULUS); !bytes.Equal(got, rk.N.Bytes()) {
		t.Fatal("modulus not readable")
	}
	_, err = c.GetAttributeValue(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_PRIVATE_EXPONENT, nil)})
	wantRV(t, err, pkcs11.CKR_ATTRIBUTE_SENSITIVE)
	_, err = c.GetAttributeValue(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_PRIME_1, nil)})
	wantRV(t, err, pkcs11.CKR_ATTRIBUTE_SENSITIVE)
	// Bad key material is refused.
	_, err = c.CreateObject(sh, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA),
		pkcs11.NewAttribute(pkcs11.CKA_MODULUS, []byte{1, 2, 3}),
	})
	if err == nil {
		t.Fatal("incomplete RSA key accepted")
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	eh, err := c.CreateObject(sh, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC),
		pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, ek.D.FillBytes(make([]byte, 32))),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
	})
	must(t, err)
	if len(attr(t, c, sh, eh, pkcs11.CKA_EC_POINT)) == 0 {
		t.Fatal("EC private key has no CKA_EC_POINT")
	}
}

func TestPrivateObjectsNeedLogin(t *testing.T) {
	c, sh := ready(t, t.TempDir())
	h, err := c.CreateObject(sh, dataTemplate("private", false, true))
	must(t, err)
	must(t, c.Logout(sh))
	if hs := findAll(t, c, sh); len(hs) != 0 {
		t.Fatalf("find without login returned %v", hs)
	}
	_, err = c.GetAttributeValue(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, nil)})
	wantRV(t, err, pkcs11.CKR_OBJECT_HANDLE_INVALID)
	_, err = c.CreateObject(sh, dataTemplate("p2", false, true))
	wantRV(t, err, pkcs11.CKR_USER_NOT_LOGGED_IN)
	ro, err := c.OpenSession(0, pkcs11.CKF_SERIAL_SESSION)
	must(t, err)
	_, err = c.CreateObject(ro, dataTemplate("tok", true, false))
	wantRV(t, err, pkcs11.CKR_SESSION_READ_ONLY)
	_, err = c.CreateObject(ro, dataTemplate("sess", false, false))
	must(t, err)
}
