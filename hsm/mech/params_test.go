package mech

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/miekg/pkcs11"
)

// TestMiekgLayout: the offsets of miekg/pkcs11's unexported fields were
// found with the expected types. If a dependency update changes them,
// every miekg parameter object would be refused: this test names the cause.
func TestMiekgLayout(t *testing.T) {
	if !miekgLayout.ok {
		t.Fatal("miekg/pkcs11's Mechanism.generator or GCMParams.iv/aad/tagSize changed: revisit miekgLayout")
	}
}

// TestMiekgParamsTyped reads the three miekg parameter objects, refuses
// the wrong object for a mechanism, a typed nil object, and a miekg object
// where a flat parameter is expected, and copies what it reads.
func TestMiekgParamsTyped(t *testing.T) {
	iv, aad := []byte{1, 2, 3}, []byte{4, 5}
	m := pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, pkcs11.NewGCMParams(iv, aad, 120))
	p, ok, err := gcmParams(m)
	if err != nil || !ok || !bytes.Equal(p.IV, iv) || !bytes.Equal(p.AAD, aad) || p.TagBits != 120 {
		t.Fatalf("GCM: %+v %v %v", p, ok, err)
	}
	iv[0], aad[0] = 9, 9
	if p.IV[0] != 1 || p.AAD[0] != 4 || len(p.IV) != cap(p.IV) {
		t.Fatalf("GCM parameters not copied apart: %+v", p)
	}
	if p, ok, err := gcmParams(pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, pkcs11.NewGCMParams(nil, nil, 128))); err != nil || !ok || p.IV != nil || p.AAD != nil {
		t.Fatalf("empty GCM: %+v %v %v", p, ok, err)
	}
	if _, ok, err := gcmParams(pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, nil)); err != nil || ok {
		t.Fatalf("no GCM parameter: %v %v", ok, err)
	}

	label := []byte("label")
	o, err := oaepParams(pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_OAEP, pkcs11.NewOAEPParams(pkcs11.CKM_SHA256, pkcs11.CKG_MGF1_SHA256, pkcs11.CKZ_DATA_SPECIFIED, label)))
	if err != nil || o.Hash != pkcs11.CKM_SHA256 || o.MGF != pkcs11.CKG_MGF1_SHA256 || o.Source != pkcs11.CKZ_DATA_SPECIFIED || !bytes.Equal(o.Label, label) || &o.Label[0] == &label[0] {
		t.Fatalf("OAEP: %+v %v", o, err)
	}
	shared, pub := []byte{1}, []byte{4, 1, 2}
	e, err := ecdh1Params(pkcs11.NewMechanism(pkcs11.CKM_ECDH1_DERIVE, pkcs11.NewECDH1DeriveParams(pkcs11.CKD_SHA256_KDF, shared, pub)))
	if err != nil || e.KDF != pkcs11.CKD_SHA256_KDF || !bytes.Equal(e.SharedData, shared) || !bytes.Equal(e.PublicData, pub) || &e.PublicData[0] == &pub[0] {
		t.Fatalf("ECDH1: %+v %v", e, err)
	}

	gcmObj := pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_OAEP, pkcs11.NewGCMParams(nil, nil, 128))
	_, err = oaepParams(gcmObj)
	wantRV(t, err, pkcs11.CKR_MECHANISM_PARAM_INVALID)
	_, err = ecdh1Params(gcmObj)
	wantRV(t, err, pkcs11.CKR_MECHANISM_PARAM_INVALID)
	_, _, err = gcmParams(pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, pkcs11.NewOAEPParams(0, 0, 0, nil)))
	wantRV(t, err, pkcs11.CKR_MECHANISM_PARAM_INVALID)
	_, _, err = gcmParams(pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, (*pkcs11.GCMParams)(nil)))
	wantRV(t, err, pkcs11.CKR_MECHANISM_PARAM_INVALID)
	_, err = oaepParams(pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_OAEP, (*pkcs11.OAEPParams)(nil)))
	wantRV(t, err, pkcs11.CKR_MECHANISM_PARAM_INVALID)
	_, err = ecdh1Params(pkcs11.NewMechanism(pkcs11.CKM_ECDH1_DERIVE, (*pkcs11.ECDH1DeriveParams)(nil)))
	wantRV(t, err, pkcs11.CKR_MECHANISM_PARAM_INVALID)
	wantRV(t, noParam(gcmObj), pkcs11.CKR_MECHANISM_PARAM_INVALID)
	if _, err := plainParam(gcmObj); err == nil {
		t.Fatal("plainParam took a miekg object")
	}
	if err := noParam(pkcs11.NewMechanism(pkcs11.CKM_SHA256, nil)); err != nil {
		t.Fatal(err)
	}
	wantRV(t, noParam(pkcs11.NewMechanism(pkcs11.CKM_SHA256, []byte{0})), pkcs11.CKR_MECHANISM_PARAM_INVALID)
}

// TestGCMOnce: the single-part path (SinglePart.Once, which works on the
// caller's input without copying it) gives what Update + Final gives,
// returns a buffer that shares no memory with the input, consumes one
// nonce per call in Craton's mode, and keeps the length and tag checks.
func TestGCMOnce(t *testing.T) {
	k := newSecretKey(pkcs11.CKK_AES, bytes.Repeat([]byte{3}, 32))
	var ctr uint64
	nonces := counterNonces(&ctr)
	in := bytes.Repeat([]byte{0x3c}, 4096)
	for name, m := range map[string]*pkcs11.Mechanism{
		"params":    pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, pkcs11.NewGCMParams(make([]byte, 12), []byte("aad"), 128)),
		"short tag": pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, pkcs11.NewGCMParams(make([]byte, 8), nil, 96)),
		"craton":    pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, nil),
	} {
		ctr = 0
		want := encrypt(t, m, k, nonces, in)
		ctr = 0
		op, err := NewEncrypt(m, k, nonces)
		if err != nil {
			t.Fatal(err)
		}
		got, err := op.(SinglePart).Once(in)
		wantNonces := uint64(0)
		if m.Parameter == nil && name == "craton" {
			wantNonces = 1
		}
		if err != nil || !bytes.Equal(got, want) || ctr != wantNonces {
			t.Fatalf("%s: Once encrypt differs (%v, %d nonces)", name, err, ctr)
		}
		if overlaps(got, in) {
			t.Fatalf("%s: output shares memory with the input", name)
		}
		dop, err := NewDecrypt(m, k)
		if err != nil {
			t.Fatal(err)
		}
		pt, err := dop.(SinglePart).Once(got)
		if err != nil || !bytes.Equal(pt, in) || overlaps(pt, got) {
			t.Fatalf("%s: Once decrypt: %v", name, err)
		}
		got[len(got)-1] ^= 1
		dop, _ = NewDecrypt(m, k)
		_, err = dop.(SinglePart).Once(got)
		wantRV(t, err, pkcs11.CKR_ENCRYPTED_DATA_INVALID)
		dop, _ = NewDecrypt(m, k)
		_, err = dop.(SinglePart).Once(got[:11])
		wantRV(t, err, pkcs11.CKR_ENCRYPTED_DATA_LEN_RANGE)
	}
}

// counterNonces is a NonceSource of 12-byte nonces holding the count *ctr
// (incremented per nonce) in their last 8 bytes, big-endian.
func counterNonces(ctr *uint64) NonceSource {
	return func() ([]byte, error) {
		*ctr++
		n := make([]byte, 12)
		binary.BigEndian.PutUint64(n[4:], *ctr)
		return n, nil
	}
}

// overlaps reports whether a and b share any byte of memory.
func overlaps(a, b []byte) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	a0, b0 := &a[0], &b[0]
	for i := range a {
		if &a[i] == b0 {
			return true
		}
	}
	for i := range b {
		if &b[i] == a0 {
			return true
		}
	}
	return false
}
