package mech

import (
	"bytes"
	"crypto/aes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"testing"

	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

// sameKey compares the private/secret material of two keys.
func sameKey(a, b *Key) bool {
	switch {
	case a.RSA != nil:
		return b.RSA != nil && a.RSA.Equal(b.RSA)
	case a.EC != nil:
		return b.EC != nil && a.EC.Equal(b.EC)
	case a.Ed != nil:
		return b.Ed != nil && a.Ed.Equal(b.Ed)
	}
	return bytes.Equal(a.Secret, b.Secret) && a.KeyType == b.KeyType
}

func TestWrapRoundTrips(t *testing.T) {
	testKeys(t)
	kek := newSecretKey(pkcs11.CKK_AES, bytes.Repeat([]byte{9}, 32))
	targets := []*Key{testRSA, testEC, testEC384, testEd,
		newSecretKey(pkcs11.CKK_AES, bytes.Repeat([]byte{1}, 16)),
		newSecretKey(pkcs11.CKK_GENERIC_SECRET, bytes.Repeat([]byte{2}, 24)),
	}
	mechs := []*pkcs11.Mechanism{
		NewMechanism(pkcs11.CKM_AES_KEY_WRAP, nil),
		NewMechanism(pkcs11.CKM_AES_KEY_WRAP_PAD, nil),
		NewMechanism(ck.CKM_AES_KEY_WRAP_KWP, nil),
		NewMechanism(pkcs11.CKM_AES_CBC_PAD, bytes.Repeat([]byte{3}, 16)),
	}
	for _, m := range mechs {
		for _, target := range targets {
			blob, err := Wrap(m, kek, target)
			if err != nil {
				t.Fatalf("wrap %#x of key type %#x: %v", m.Mechanism, target.KeyType, err)
			}
			got, err := Unwrap(m, kek, blob, target.Class, target.KeyType, len(target.Secret))
			if err != nil || !sameKey(got, target) {
				t.Fatalf("unwrap %#x of key type %#x: %v", m.Mechanism, target.KeyType, err)
			}
		}
	}
	blob, _ := Wrap(mechs[1], kek, testRSA)
	_, err := Unwrap(mechs[1], kek, blob, pkcs11.CKO_PRIVATE_KEY, pkcs11.CKK_EC, 0)
	wantRV(t, err, pkcs11.CKR_TEMPLATE_INCONSISTENT)
	_, err = Wrap(mechs[0], kek, publicOnly(t, testEC))
	wantRV(t, err, pkcs11.CKR_KEY_NOT_WRAPPABLE)
	_, err = Wrap(mechs[0], testRSA, targets[4])
	wantRV(t, err, pkcs11.CKR_WRAPPING_KEY_TYPE_INCONSISTENT)

	// RSA-OAEP wraps secret keys only.
	oaep := NewMechanism(pkcs11.CKM_RSA_PKCS_OAEP, OAEPParams{Hash: pkcs11.CKM_SHA256, MGF: pkcs11.CKG_MGF1_SHA256, Source: pkcs11.CKZ_DATA_SPECIFIED})
	blob, err = Wrap(oaep, publicOnly(t, testRSA), targets[4])
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unwrap(oaep, testRSA, blob, pkcs11.CKO_SECRET_KEY, pkcs11.CKK_AES, 0)
	if err != nil || !sameKey(got, targets[4]) {
		t.Fatalf("OAEP unwrap: %v", err)
	}
	_, err = Wrap(oaep, testRSA, testEC)
	wantRV(t, err, pkcs11.CKR_KEY_NOT_WRAPPABLE)
}

// TestUnwrapSoftHSMQuirk unwraps blobs made the way SoftHSMv2 2.6.1 makes
// them: the payload zero-padded to a multiple of 8 first, then RFC 5649
// (so the MLI is the padded length) or RFC 3394.
func TestUnwrapSoftHSMQuirk(t *testing.T) {
	kekBytes := bytes.Repeat([]byte{0x5a}, 32)
	kek := newSecretKey(pkcs11.CKK_AES, kekBytes)
	block, _ := aes.NewCipher(kekBytes)
	pad8 := func(b []byte) []byte { return append(append([]byte(nil), b...), make([]byte, (8-len(b)%8)%8)...) }
	secret := bytes.Repeat([]byte{0xc3}, 20)
	// The fixed POST key: its 1217-byte PKCS#8 is not a multiple of 8.
	der, _ := base64.StdEncoding.DecodeString(rsaKATKey)
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	want := rsaKey(priv.(*rsa.PrivateKey))
	if len(der)%8 == 0 {
		t.Fatal("test needs a PKCS#8 that is not a multiple of 8")
	}
	kwp := NewMechanism(pkcs11.CKM_AES_KEY_WRAP_PAD, nil)
	blob := kwpWrap(block, kwpDefaultAIV, pad8(secret))
	k, err := Unwrap(kwp, kek, blob, pkcs11.CKO_SECRET_KEY, pkcs11.CKK_GENERIC_SECRET, 20)
	if err != nil || !bytes.Equal(k.Secret, secret) {
		t.Fatalf("20-byte secret: %v", err)
	}
	k, err = Unwrap(kwp, kek, blob, pkcs11.CKO_SECRET_KEY, pkcs11.CKK_GENERIC_SECRET, 0)
	if err != nil || len(k.Secret) != 24 {
		t.Fatal("without valueLen the padded value is returned")
	}
	k, err = Unwrap(kwp, kek, kwpWrap(block, kwpDefaultAIV, pad8(der)), pkcs11.CKO_PRIVATE_KEY, pkcs11.CKK_RSA, 0)
	if err != nil || !sameKey(k, want) {
		t.Fatalf("padded PKCS#8 via KWP: %v", err)
	}
	kw := NewMechanism(pkcs11.CKM_AES_KEY_WRAP, nil)
	k, err = Unwrap(kw, kek, kwWrap(block, kwDefaultIV, pad8(der)), pkcs11.CKO_PRIVATE_KEY, pkcs11.CKK_RSA, 0)
	if err != nil || !sameKey(k, want) {
		t.Fatalf("padded PKCS#8 via KW: %v", err)
	}
	// Non-zero trailing bytes are not padding.
	junk := append(append([]byte(nil), der...), 1)
	_, err = Unwrap(kwp, kek, kwpWrap(block, kwpDefaultAIV, junk), pkcs11.CKO_PRIVATE_KEY, pkcs11.CKK_RSA, 0)
	wantRV(t, err, pkcs11.CKR_WRAPPED_KEY_INVALID)
	// Wrong transport key: integrity failure.
	other := newSecretKey(pkcs11.CKK_AES, bytes.Repeat([]byte{0x5b}, 32))
	_, err = Unwrap(kwp, other, blob, pkcs11.CKO_SECRET_KEY, pkcs11.CKK_GENERIC_SECRET, 20)
	wantRV(t, err, pkcs11.CKR_WRAPPED_KEY_INVALID)
}

// TestParseKeyRoundTrip stores keys as attributes and parses them back,
// including the SoftHSMv2/OpenSC encodings.
func TestParseKeyRoundTrip(t *testing.T) {
	testKeys(t)
	for _, k := range []*Key{testRSA, testEC, testEC384, testEd, newSecretKey(pkcs11.CKK_AES, make([]byte, 24))} {
		got, err := ParseKey(k.Class, k.KeyType, KeyAttrs(k))
		if err != nil || !sameKey(got, k) {
			t.Fatalf("key type %#x: %v", k.KeyType, err)
		}
	}
	if _, ok := KeyAttrs(testRSA)[pkcs11.CKA_MODULUS_BITS]; ok {
		t.Error("CKA_MODULUS_BITS on an RSA private key")
	}
	if bits := PublicAttrs(testRSA)[pkcs11.CKA_MODULUS_BITS]; getUlong(bits, 0) != 2048 {
		t.Error("CKA_MODULUS_BITS")
	}
	ecPub := PublicAttrs(testEC)
	if pt := ecPub[pkcs11.CKA_EC_POINT]; len(pt) != 67 || pt[0] != 4 || pt[1] != 65 {
		t.Errorf("EC point not a DER OCTET STRING: %x", pt)
	}
	raw := map[uint][]byte{pkcs11.CKA_EC_PARAMS: oidP256, pkcs11.CKA_EC_POINT: ecPub[pkcs11.CKA_EC_POINT][2:]}
	if k, err := ParseKey(pkcs11.CKO_PUBLIC_KEY, pkcs11.CKK_EC, raw); err != nil || !k.ECPub.Equal(testEC.ECPub) {
		t.Errorf("raw EC point: %v", err)
	}
	ed := map[uint][]byte{pkcs11.CKA_EC_PARAMS: nameEd25519, pkcs11.CKA_EC_POINT: testEd.EdPub}
	if k, err := ParseKey(pkcs11.CKO_PUBLIC_KEY, ck.CKK_EC_EDWARDS, ed); err != nil || !k.EdPub.Equal(testEd.EdPub) {
		t.Errorf("edwards25519 name + raw point: %v", err)
	}
	short := KeyAttrs(testEC)
	short[pkcs11.CKA_VALUE] = bytes.TrimLeft(short[pkcs11.CKA_VALUE], "\x00")
	if _, err := ParseKey(pkcs11.CKO_PRIVATE_KEY, pkcs11.CKK_EC, short); err != nil {
		t.Errorf("minimal-length scalar: %v", err)
	}
	_, err := ParseKey(pkcs11.CKO_PRIVATE_KEY, pkcs11.CKK_RSA, map[uint][]byte{pkcs11.CKA_MODULUS: {1}})
	wantRV(t, err, pkcs11.CKR_TEMPLATE_INCOMPLETE)
	_, err = ParseKey(pkcs11.CKO_SECRET_KEY, pkcs11.CKK_AES, map[uint][]byte{pkcs11.CKA_VALUE: make([]byte, 20)})
	wantRV(t, err, pkcs11.CKR_ATTRIBUTE_VALUE_INVALID)
}

func TestMechanismTable(t *testing.T) {
	list := Mechanisms()
	for i := 1; i < len(list); i++ {
		if list[i-1].Type >= list[i].Type {
			t.Fatalf("not sorted at %#x", list[i].Type)
		}
	}
	for _, info := range list {
		if got, ok := Lookup(info.Type); !ok || got != info {
			t.Errorf("Lookup(%#x)", info.Type)
		}
	}
	if _, ok := Lookup(pkcs11.CKM_RSA_X_509); ok {
		t.Error("CKM_RSA_X_509 is advertised")
	}
	if i, _ := Lookup(pkcs11.CKM_ECDSA); i.Flags&pkcs11.CKF_EC_NAMEDCURVE == 0 || !i.FIPS {
		t.Error("CKM_ECDSA flags")
	}
	if i, _ := Lookup(ck.CKM_EDDSA); i.FIPS {
		t.Error("EdDSA marked FIPS")
	}
}

// TestParamForms checks the miekg objects that carry no C bytes and the
// C struct decoders.
func TestParamForms(t *testing.T) {
	m := pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, pkcs11.NewGCMParams([]byte{1, 2}, []byte{3}, 96))
	if m.Parameter != nil {
		t.Fatal("miekg now serialises GCM params eagerly; revisit gcmParams")
	}
	p, ok, err := gcmParams(m)
	if err != nil || !ok || !bytes.Equal(p.IV, []byte{1, 2}) || !bytes.Equal(p.AAD, []byte{3}) || p.TagBits != 96 {
		t.Fatalf("miekg GCM: %+v %v", p, err)
	}
	pss, err := ParsePSSParams(pkcs11.NewPSSParams(pkcs11.CKM_SHA384, pkcs11.CKG_MGF1_SHA384, 48))
	if err != nil || pss != (PSSParams{pkcs11.CKM_SHA384, pkcs11.CKG_MGF1_SHA384, 48}) {
		t.Fatalf("PSS: %+v %v", pss, err)
	}
	_, err = ParseGCMParams(make([]byte, 7))
	wantRV(t, err, pkcs11.CKR_MECHANISM_PARAM_INVALID)
	bad := gcmCStruct(nil, nil, 128)
	putUlong(bad, ptrSize, 12) // 12-byte IV at a NULL pointer
	_, err = ParseGCMParams(bad)
	wantRV(t, err, pkcs11.CKR_MECHANISM_PARAM_INVALID)
	_, err = NewEncrypt(pkcs11.NewMechanism(pkcs11.CKM_AES_CBC, pkcs11.NewGCMParams(nil, nil, 0)), newSecretKey(pkcs11.CKK_AES, make([]byte, 16)), nil)
	wantRV(t, err, pkcs11.CKR_MECHANISM_PARAM_INVALID)
}
