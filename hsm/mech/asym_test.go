package mech

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"math/big"
	"sync"
	"testing"

	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

var (
	keysOnce                sync.Once
	testRSA, testEC, testEd *Key
	testEC384               *Key
)

// testKeys generates one key pair per type through GenerateKeyPair.
func testKeys(t testing.TB) {
	keysOnce.Do(func() {
		gen := func(m uint, pub map[uint][]byte) *Key {
			k, err := GenerateKeyPair(NewMechanism(m, nil), pub, nil)
			if err != nil {
				panic(err)
			}
			return k
		}
		testRSA = gen(pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, map[uint][]byte{pkcs11.CKA_MODULUS_BITS: ulongBytes(2048), pkcs11.CKA_PUBLIC_EXPONENT: {1, 0, 1}})
		testEC = gen(pkcs11.CKM_EC_KEY_PAIR_GEN, map[uint][]byte{pkcs11.CKA_EC_PARAMS: oidP256})
		testEC384 = gen(pkcs11.CKM_EC_KEY_PAIR_GEN, map[uint][]byte{pkcs11.CKA_EC_PARAMS: oidP384})
		testEd = gen(ck.CKM_EC_EDWARDS_KEY_PAIR_GEN, map[uint][]byte{pkcs11.CKA_EC_PARAMS: nameEd25519})
	})
}

// publicOnly reparses k's public attributes into a public-key Key.
func publicOnly(t testing.TB, k *Key) *Key {
	p, err := ParseKey(pkcs11.CKO_PUBLIC_KEY, k.KeyType, PublicAttrs(k))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRSASignatures(t *testing.T) {
	testKeys(t)
	pub := publicOnly(t, testRSA)
	msg := []byte("message to sign")
	h256 := sha256.Sum256(msg)
	h512 := sha512.Sum512(msg)
	digestInfo := append([]byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}, h256[:]...)
	pssSHA256 := PSSParams{Hash: pkcs11.CKM_SHA256, MGF: pkcs11.CKG_MGF1_SHA256, SaltLen: 32}
	for _, c := range []struct {
		name  string
		m     *pkcs11.Mechanism
		input []byte
		check func(sig []byte) error
	}{
		{"RSA_PKCS raw DigestInfo", NewMechanism(pkcs11.CKM_RSA_PKCS, nil), digestInfo,
			func(sig []byte) error { return rsa.VerifyPKCS1v15(testRSA.RSAPub, crypto.SHA256, h256[:], sig) }},
		{"SHA256_RSA_PKCS", NewMechanism(pkcs11.CKM_SHA256_RSA_PKCS, nil), msg,
			func(sig []byte) error { return rsa.VerifyPKCS1v15(testRSA.RSAPub, crypto.SHA256, h256[:], sig) }},
		{"SHA512_RSA_PKCS", NewMechanism(pkcs11.CKM_SHA512_RSA_PKCS, nil), msg,
			func(sig []byte) error { return rsa.VerifyPKCS1v15(testRSA.RSAPub, crypto.SHA512, h512[:], sig) }},
		{"RSA_PKCS_PSS (miekg bytes)", pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_PSS, pkcs11.NewPSSParams(pkcs11.CKM_SHA256, pkcs11.CKG_MGF1_SHA256, 32)), h256[:],
			func(sig []byte) error {
				return rsa.VerifyPSS(testRSA.RSAPub, crypto.SHA256, h256[:], sig, &rsa.PSSOptions{SaltLength: 32})
			}},
		{"SHA256_RSA_PKCS_PSS default", NewMechanism(pkcs11.CKM_SHA256_RSA_PKCS_PSS, nil), msg,
			func(sig []byte) error {
				return rsa.VerifyPSS(testRSA.RSAPub, crypto.SHA256, h256[:], sig, &rsa.PSSOptions{SaltLength: 32})
			}},
		{"SHA256_RSA_PKCS_PSS params", NewMechanism(pkcs11.CKM_SHA256_RSA_PKCS_PSS, PSSParams{Hash: pkcs11.CKM_SHA256, MGF: pkcs11.CKG_MGF1_SHA256, SaltLen: 20}), msg,
			func(sig []byte) error {
				return rsa.VerifyPSS(testRSA.RSAPub, crypto.SHA256, h256[:], sig, &rsa.PSSOptions{SaltLength: 20})
			}},
	} {
		sig := signOnce(t, c.m, testRSA, c.input)
		if err := c.check(sig); err != nil {
			t.Errorf("%s: Go rejects the signature: %v", c.name, err)
		}
		if err := verifyOnce(c.m, pub, c.input, sig); err != nil {
			t.Errorf("%s: verify: %v", c.name, err)
		}
		sig[10] ^= 1
		wantRV(t, verifyOnce(c.m, pub, c.input, sig), pkcs11.CKR_SIGNATURE_INVALID)
		wantRV(t, verifyOnce(c.m, pub, c.input, sig[1:]), pkcs11.CKR_SIGNATURE_LEN_RANGE)
	}
	for name, m := range map[string]*pkcs11.Mechanism{
		"hash mismatch": NewMechanism(pkcs11.CKM_SHA384_RSA_PKCS_PSS, pssSHA256),
		"mgf mismatch":  NewMechanism(pkcs11.CKM_RSA_PKCS_PSS, PSSParams{Hash: pkcs11.CKM_SHA256, MGF: pkcs11.CKG_MGF1_SHA1, SaltLen: 32}),
		"no params":     NewMechanism(pkcs11.CKM_RSA_PKCS_PSS, nil),
		"salt too long": NewMechanism(pkcs11.CKM_RSA_PKCS_PSS, PSSParams{Hash: pkcs11.CKM_SHA256, MGF: pkcs11.CKG_MGF1_SHA256, SaltLen: 300}),
	} {
		_, err := NewSign(m, testRSA)
		if err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	_, err := NewSign(NewMechanism(pkcs11.CKM_RSA_X_509, nil), testRSA)
	wantRV(t, err, pkcs11.CKR_MECHANISM_INVALID)
}

func TestRSAEncryption(t *testing.T) {
	testKeys(t)
	pub := publicOnly(t, testRSA)
	label := []byte("label")
	for name, m := range map[string]*pkcs11.Mechanism{
		"PKCS":               NewMechanism(pkcs11.CKM_RSA_PKCS, nil),
		"OAEP SHA-256 miekg": pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_OAEP, pkcs11.NewOAEPParams(pkcs11.CKM_SHA256, pkcs11.CKG_MGF1_SHA256, pkcs11.CKZ_DATA_SPECIFIED, label)),
		"OAEP SHA-1":         NewMechanism(pkcs11.CKM_RSA_PKCS_OAEP, OAEPParams{Hash: pkcs11.CKM_SHA_1, MGF: pkcs11.CKG_MGF1_SHA1, Source: pkcs11.CKZ_DATA_SPECIFIED}),
	} {
		pt := []byte("secret message")
		ct := encrypt(t, m, pub, nil, pt)
		got, err := decrypt(m, testRSA, ct)
		if err != nil || !bytes.Equal(got, pt) {
			t.Errorf("%s: %v", name, err)
		}
		ct[5] ^= 1
		_, err = decrypt(m, testRSA, ct)
		wantRV(t, err, pkcs11.CKR_ENCRYPTED_DATA_INVALID)
	}
	// Interop: Go's own OAEP with the label decrypts through the mechanism.
	ct, _ := rsa.EncryptOAEP(sha256.New(), rand.Reader, testRSA.RSAPub, []byte("x"), label)
	m := NewMechanism(pkcs11.CKM_RSA_PKCS_OAEP, OAEPParams{Hash: pkcs11.CKM_SHA256, MGF: pkcs11.CKG_MGF1_SHA256, Source: pkcs11.CKZ_DATA_SPECIFIED, Label: label})
	if got, err := decrypt(m, testRSA, ct); err != nil || string(got) != "x" {
		t.Errorf("OAEP interop: %v", err)
	}
	op, _ := NewEncrypt(NewMechanism(pkcs11.CKM_RSA_PKCS_OAEP, OAEPParams{Hash: pkcs11.CKM_SHA256, MGF: pkcs11.CKG_MGF1_SHA256, Source: pkcs11.CKZ_DATA_SPECIFIED}), pub, nil)
	op.Update(make([]byte, 256-2*32-1))
	_, err := op.Final()
	wantRV(t, err, pkcs11.CKR_DATA_LEN_RANGE)
	_, err = NewEncrypt(NewMechanism(pkcs11.CKM_RSA_PKCS_OAEP, nil), pub, nil)
	wantRV(t, err, pkcs11.CKR_MECHANISM_PARAM_INVALID)
}

func TestECDSA(t *testing.T) {
	testKeys(t)
	msg := []byte("ecdsa message")
	for _, k := range []*Key{testEC, testEC384} {
		pub := publicOnly(t, k)
		size := curveOf(k.ECPub.Curve).size
		h := sha256.Sum256(msg)
		for name, c := range map[string]struct {
			m      *pkcs11.Mechanism
			input  []byte
			digest []byte
		}{
			"ECDSA (input is the hash)": {NewMechanism(pkcs11.CKM_ECDSA, nil), h[:], h[:]},
			"ECDSA_SHA256":              {NewMechanism(pkcs11.CKM_ECDSA_SHA256, nil), msg, h[:]},
			"ECDSA_SHA512":              {NewMechanism(pkcs11.CKM_ECDSA_SHA512, nil), msg, sha512Of(msg)},
			"ECDSA long hash truncated": {NewMechanism(pkcs11.CKM_ECDSA, nil), sha512Of(msg), sha512Of(msg)},
		} {
			sig := signOnce(t, c.m, k, c.input)
			if len(sig) != 2*size {
				t.Fatalf("%s: %d-byte signature", name, len(sig))
			}
			r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
			if !ecdsa.Verify(k.ECPub, c.digest, r, s) {
				t.Errorf("%s: Go rejects r||s", name)
			}
			if err := verifyOnce(c.m, pub, c.input, sig); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			sig[3] ^= 1
			wantRV(t, verifyOnce(c.m, pub, c.input, sig), pkcs11.CKR_SIGNATURE_INVALID)
		}
	}
}

func sha512Of(b []byte) []byte {
	h := sha512.Sum512(b)
	return h[:]
}

func TestEdDSA(t *testing.T) {
	testKeys(t)
	m := NewMechanism(ck.CKM_EDDSA, nil)
	msg := bytes.Repeat([]byte("ed25519 "), 100)
	s, _ := NewSign(m, testEd)
	s.Update(msg[:100])
	s.Update(msg[100:])
	sig, _ := s.Final()
	if !ed25519.Verify(testEd.EdPub, msg, sig) {
		t.Fatal("Go rejects the multi-part signature")
	}
	if err := verifyOnce(m, publicOnly(t, testEd), msg, sig); err != nil {
		t.Fatal(err)
	}
	sig[0] ^= 1
	wantRV(t, verifyOnce(m, testEd, msg, sig), pkcs11.CKR_SIGNATURE_INVALID)
	_, err := NewSign(NewMechanism(ck.CKM_EDDSA, []byte{1}), testEd)
	wantRV(t, err, pkcs11.CKR_MECHANISM_PARAM_INVALID)
}

// TestECDH derives on both sides with each parameter form and KDF.
func TestECDH(t *testing.T) {
	testKeys(t)
	other, err := GenerateKeyPair(NewMechanism(pkcs11.CKM_EC_KEY_PAIR_GEN, nil), map[uint][]byte{pkcs11.CKA_EC_PARAMS: oidP256}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ptA, _ := testEC.ECPub.Bytes()
	ptB, _ := other.ECPub.Bytes()
	shared := []byte("shared info")
	for _, c := range []struct {
		name    string
		kdf     uint
		shared  []byte
		keyType uint
		n       int
	}{
		{"CKD_NULL AES-256", pkcs11.CKD_NULL, nil, pkcs11.CKK_AES, 32},
		{"CKD_NULL AES-128 leading bytes", pkcs11.CKD_NULL, nil, pkcs11.CKK_AES, 16},
		{"SHA256 KDF generic 40", pkcs11.CKD_SHA256_KDF, shared, pkcs11.CKK_GENERIC_SECRET, 40},
	} {
		a, err := Derive(pkcs11.NewMechanism(pkcs11.CKM_ECDH1_DERIVE, pkcs11.NewECDH1DeriveParams(c.kdf, c.shared, ptB)), testEC, c.keyType, c.n)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		// The other side passes the DER-wrapped point through the Go form.
		b, err := Derive(NewMechanism(pkcs11.CKM_ECDH1_COFACTOR_DERIVE, ECDH1Params{KDF: c.kdf, SharedData: c.shared, PublicData: derOctetString(ptA)}), other, c.keyType, c.n)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !bytes.Equal(a.Secret, b.Secret) || len(a.Secret) != c.n || a.KeyType != c.keyType {
			t.Fatalf("%s: sides differ", c.name)
		}
		z := rawECDH(t, testEC, ptB)
		want := z[:min(c.n, len(z))]
		if c.kdf == pkcs11.CKD_SHA256_KDF {
			want = x963Reference(z, c.shared, c.n)
		}
		if !bytes.Equal(a.Secret, want) {
			t.Errorf("%s: wrong value", c.name)
		}
	}
	// Craton's legacy parameter: the bare point.
	k, err := Derive(NewMechanism(pkcs11.CKM_ECDH1_DERIVE, ptB), testEC, pkcs11.CKK_AES, 32)
	if err != nil || !bytes.Equal(k.Secret, rawECDH(t, testEC, ptB)) {
		t.Fatalf("bare point: %v", err)
	}
	_, err = Derive(NewMechanism(pkcs11.CKM_ECDH1_DERIVE, ECDH1Params{KDF: pkcs11.CKD_NULL, PublicData: []byte{4, 1, 2}}), testEC, pkcs11.CKK_AES, 32)
	wantRV(t, err, pkcs11.CKR_MECHANISM_PARAM_INVALID)
}

func rawECDH(t *testing.T, k *Key, peer []byte) []byte {
	priv, _ := k.EC.ECDH()
	pub, err := ecdh.P256().NewPublicKey(peer)
	if err != nil {
		t.Fatal(err)
	}
	z, _ := priv.ECDH(pub)
	return z
}

// x963Reference computes the X9.63 KDF independently of x963KDF.
func x963Reference(z, info []byte, n int) []byte {
	var out []byte
	for i := byte(1); len(out) < n; i++ {
		h := sha256.Sum256(append(append(append([]byte(nil), z...), 0, 0, 0, i), info...))
		out = append(out, h[:]...)
	}
	return out[:n]
}

func TestGenerateErrors(t *testing.T) {
	for name, c := range map[string]struct {
		m   uint
		pub map[uint][]byte
		rv  uint
	}{
		"RSA 1024":     {pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, map[uint][]byte{pkcs11.CKA_MODULUS_BITS: ulongBytes(1024)}, pkcs11.CKR_KEY_SIZE_RANGE},
		"RSA e=3":      {pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, map[uint][]byte{pkcs11.CKA_PUBLIC_EXPONENT: {3}}, pkcs11.CKR_ATTRIBUTE_VALUE_INVALID},
		"EC no params": {pkcs11.CKM_EC_KEY_PAIR_GEN, nil, pkcs11.CKR_TEMPLATE_INCOMPLETE},
		"EC P-521":     {pkcs11.CKM_EC_KEY_PAIR_GEN, map[uint][]byte{pkcs11.CKA_EC_PARAMS: {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23}}, pkcs11.CKR_CURVE_NOT_SUPPORTED},
		"EC garbage":   {pkcs11.CKM_EC_KEY_PAIR_GEN, map[uint][]byte{pkcs11.CKA_EC_PARAMS: {1, 2, 3}}, pkcs11.CKR_ATTRIBUTE_VALUE_INVALID},
		"Ed448":        {ck.CKM_EC_EDWARDS_KEY_PAIR_GEN, map[uint][]byte{pkcs11.CKA_EC_PARAMS: {0x06, 0x03, 0x2b, 0x65, 0x71}}, pkcs11.CKR_CURVE_NOT_SUPPORTED},
	} {
		_, err := GenerateKeyPair(NewMechanism(c.m, nil), c.pub, nil)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		wantRV(t, err, c.rv)
	}
	k, err := GenerateKey(NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil), nil)
	if err != nil || len(k.Secret) != 32 {
		t.Fatal("AES default length")
	}
	_, err = GenerateKey(NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil), map[uint][]byte{pkcs11.CKA_VALUE_LEN: ulongBytes(20)})
	wantRV(t, err, pkcs11.CKR_KEY_SIZE_RANGE)
	_, err = GenerateKey(NewMechanism(pkcs11.CKM_GENERIC_SECRET_KEY_GEN, nil), nil)
	wantRV(t, err, pkcs11.CKR_TEMPLATE_INCOMPLETE)
	k, err = GenerateKey(NewMechanism(pkcs11.CKM_GENERIC_SECRET_KEY_GEN, nil), map[uint][]byte{pkcs11.CKA_VALUE_LEN: ulongBytes(20)})
	if err != nil || len(k.Secret) != 20 || k.KeyType != pkcs11.CKK_GENERIC_SECRET {
		t.Fatal("generic secret")
	}
}
