package mech

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/cloudflare/circl/kem/mlkem/mlkem768"
	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/miekg/pkcs11"
)

// SelfTest is one power-on self-test (craton-hsm-reference.md §7).
type SelfTest struct {
	Num  int
	Name string
	Run  func() error
}

var errKAT = errors.New("known-answer mismatch")

// SelfTests returns the 17 power-on self-tests in order. Test 0 runs
// integrity, the engine's software-integrity check; a nil integrity fails
// it. The KATs go through this package's own mechanism code, so they test
// what the engine uses.
func SelfTests(integrity func() error) []SelfTest {
	return []SelfTest{
		{0, "Software integrity", func() error {
			if integrity == nil {
				return errors.New("no integrity check configured")
			}
			return integrity()
		}},
		{1, "SHA-256 KAT", func() error { return digestKAT(pkcs11.CKM_SHA256, kats.sha256) }},
		{2, "SHA-384 KAT", func() error { return digestKAT(pkcs11.CKM_SHA384, kats.sha384) }},
		{3, "SHA-512 KAT", func() error { return digestKAT(pkcs11.CKM_SHA512, kats.sha512) }},
		{4, "SHA3-256 KAT", func() error { return digestKAT(pkcs11.CKM_SHA3_256, kats.sha3_256) }},
		{5, "HMAC-SHA256 KAT", func() error { return hmacKAT(pkcs11.CKM_SHA256_HMAC, kats.hmac256) }},
		{6, "HMAC-SHA384 KAT", func() error { return hmacKAT(pkcs11.CKM_SHA384_HMAC, kats.hmac384) }},
		{7, "HMAC-SHA512 KAT", func() error { return hmacKAT(pkcs11.CKM_SHA512_HMAC, kats.hmac512) }},
		{8, "AES-256-GCM", gcmSelfTest},
		{9, "AES-256-CBC KAT", func() error {
			return cipherKAT(NewMechanism(pkcs11.CKM_AES_CBC_PAD, bytes.Repeat([]byte{0xaa}, 16)),
				bytes.Repeat([]byte{0x55}, 32), []byte("FIPS POST AES-CBC test data!!!!"), kats.cbcCT)
		}},
		{10, "AES-256-CTR KAT", func() error {
			return cipherKAT(NewMechanism(pkcs11.CKM_AES_CTR, bytes.Repeat([]byte{0xbb}, 16)),
				bytes.Repeat([]byte{0x77}, 32), []byte("FIPS POST AES-CTR self-test"), kats.ctrCT)
		}},
		{11, "RSA-2048 PKCS#1 v1.5 SHA-256", rsaSelfTest},
		{12, "ECDSA P-256", ecdsaSelfTest},
		{13, "ML-DSA-44", mldsaSelfTest},
		{14, "ML-KEM-768", mlkemSelfTest},
		{15, "RNG health", rngSelfTest},
		{16, "HMAC_DRBG health", drbgSelfTest},
	}
}

func digestKAT(m uint, want []byte) error {
	d, err := NewDigest(NewMechanism(m, nil))
	if err != nil {
		return err
	}
	d.Update([]byte("abc"))
	got, err := d.Final()
	return expect(got, want, err)
}

// expect checks a known answer.
func expect(got, want []byte, err error) error {
	if err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return errKAT
	}
	return nil
}

func hmacKAT(m uint, want []byte) error {
	k := newSecretKey(pkcs11.CKK_GENERIC_SECRET, []byte("Jefe"))
	s, err := NewSign(NewMechanism(m, nil), k)
	if err != nil {
		return err
	}
	s.Update([]byte("what do ya want for nothing?"))
	got, err := s.Final()
	return expect(got, want, err)
}

// encryptDecrypt runs a one-shot encryption, compares it with want (if
// given), and decrypts it back to pt.
func encryptDecrypt(m *pkcs11.Mechanism, k *Key, nonces NonceSource, pt, want []byte) ([]byte, error) {
	ct, err := oneShotCipher(NewEncrypt(m, k, nonces))(pt)
	if err != nil {
		return nil, err
	}
	if want != nil && !bytes.Equal(ct, want) {
		return nil, errKAT
	}
	back, err := oneShotCipher(NewDecrypt(m, k))(ct)
	return ct, expect(back, pt, err)
}

// oneShotCipher turns a CipherOp constructor's result into Update+Final.
func oneShotCipher(op CipherOp, err error) func([]byte) ([]byte, error) {
	return func(in []byte) ([]byte, error) {
		if err != nil {
			return nil, err
		}
		out, err := op.Update(in)
		if err != nil {
			return nil, err
		}
		tail, err := op.Final()
		return append(out, tail...), err
	}
}

func cipherKAT(m *pkcs11.Mechanism, key, pt, want []byte) error {
	_, err := encryptDecrypt(m, newSecretKey(pkcs11.CKK_AES, key), nil, pt, want)
	return err
}

// gcmSelfTest: the GCM spec's AES-256 test case 16 through CK_GCM_PARAMS,
// then Craton's parameterless mode with a fixed nonce.
func gcmSelfTest() error {
	m := NewMechanism(pkcs11.CKM_AES_GCM, GCMParams{IV: gcmIV, AAD: gcmAAD, TagBits: 128})
	if _, err := encryptDecrypt(m, newSecretKey(pkcs11.CKK_AES, gcmKey), nil, gcmPT, kats.gcmCT); err != nil {
		return err
	}
	nonce := bytes.Repeat([]byte{0x24}, gcmNonceSize)
	fixed := func() ([]byte, error) { return nonce, nil }
	k := newSecretKey(pkcs11.CKK_AES, bytes.Repeat([]byte{0x42}, 32))
	ct, err := encryptDecrypt(NewMechanism(pkcs11.CKM_AES_GCM, nil), k, fixed, gcmPT, nil)
	if err != nil {
		return err
	}
	if !bytes.Equal(ct[:gcmNonceSize], nonce) || len(ct) != len(gcmPT)+cratonOverhead {
		return errKAT
	}
	return nil
}

func rsaSelfTest() error {
	der, err := base64.StdEncoding.DecodeString(rsaKATKey)
	if err != nil {
		return err
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return err
	}
	k := rsaKey(priv.(*rsa.PrivateKey))
	return signKAT(NewMechanism(pkcs11.CKM_SHA256_RSA_PKCS, nil), k, rsaMsg, kats.rsaSig, true)
}

// signKAT signs msg, compares with want when the scheme is deterministic,
// verifies the new signature and then want.
func signKAT(m *pkcs11.Mechanism, k *Key, msg, want []byte, deterministic bool) error {
	s, err := NewSign(m, k)
	if err != nil {
		return err
	}
	s.Update(msg)
	sig, err := s.Final()
	if err != nil {
		return err
	}
	if deterministic && !bytes.Equal(sig, want) {
		return errKAT
	}
	for _, sg := range [][]byte{sig, want} {
		v, err := NewVerify(m, k)
		if err != nil {
			return err
		}
		v.Update(msg)
		if err := v.Final(sg); err != nil {
			return fmt.Errorf("%w: %v", errKAT, err)
		}
	}
	return nil
}

func ecdsaSelfTest() error {
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), ecdsaKey)
	if err != nil {
		return err
	}
	return signKAT(NewMechanism(pkcs11.CKM_ECDSA_SHA256, nil), ecKey(priv), []byte("sample"), kats.ecdsaSig, false)
}

func mldsaSelfTest() error {
	pk, sk, err := mldsa44.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	msg := []byte("Craton POST ML-DSA-44")
	sig := make([]byte, mldsa44.SignatureSize)
	if err := mldsa44.SignTo(sk, msg, nil, true, sig); err != nil {
		return err
	}
	if !mldsa44.Verify(pk, msg, nil, sig) {
		return errKAT
	}
	sig[0] ^= 1
	if mldsa44.Verify(pk, msg, nil, sig) {
		return errKAT
	}
	return nil
}

func mlkemSelfTest() error {
	pk, sk, err := mlkem768.GenerateKeyPair(rand.Reader)
	if err != nil {
		return err
	}
	ct := make([]byte, mlkem768.CiphertextSize)
	ss1 := make([]byte, mlkem768.SharedKeySize)
	ss2 := make([]byte, mlkem768.SharedKeySize)
	pk.EncapsulateTo(ct, ss1, nil)
	sk.DecapsulateTo(ss2, ct)
	if subtle.ConstantTimeCompare(ss1, ss2) != 1 {
		return errKAT
	}
	return nil
}

// healthy reports that b is not constant (all zero or one repeated byte).
func healthy(b []byte) bool {
	return len(b) > 0 && !bytes.Equal(b, bytes.Repeat(b[:1], len(b)))
}

func rngSelfTest() error {
	a, b := make([]byte, 256), make([]byte, 256)
	rand.Read(a)
	rand.Read(b)
	if !healthy(a) || bytes.Equal(a, b) {
		return errors.New("RNG output stuck")
	}
	return nil
}

// drbgSelfTest: the CAVP known answer (instantiate, reseed, generate twice,
// compare the second block), then a live instance seeded from the OS RNG
// must give two distinct, non-constant blocks.
func drbgSelfTest() error {
	d := newHMACDRBG(drbgEntropy, drbgNonce, nil)
	d.reseed(drbgReseed)
	out := make([]byte, len(kats.drbg))
	d.generate(out)
	d.generate(out)
	if err := expect(out, kats.drbg, nil); err != nil {
		return err
	}
	seed := make([]byte, 48)
	rand.Read(seed)
	live := newHMACDRBG(seed[:32], seed[32:], []byte("craton POST"))
	a, b := make([]byte, 32), make([]byte, 32)
	live.generate(a)
	live.generate(b)
	if !healthy(a) || bytes.Equal(a, b) {
		return errors.New("HMAC_DRBG output stuck")
	}
	return nil
}
