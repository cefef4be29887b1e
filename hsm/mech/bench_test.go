package mech

import (
	"bytes"
	"testing"

	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

func benchSign(b *testing.B, m *pkcs11.Mechanism, k *Key, msg []byte) {
	b.ReportAllocs()
	for b.Loop() {
		s, _ := NewSign(m, k)
		s.Update(msg)
		if _, err := s.Final(); err != nil {
			b.Fatal(err)
		}
	}
}

func benchVerify(b *testing.B, m *pkcs11.Mechanism, k *Key, msg []byte) {
	sig := signOnce(b, m, k, msg)
	b.ReportAllocs()
	for b.Loop() {
		if err := verifyOnce(m, k, msg, sig); err != nil {
			b.Fatal(err)
		}
	}
}

var benchMsg = bytes.Repeat([]byte{0x5a}, 64)

func BenchmarkRSA2048Sign(b *testing.B) {
	testKeys(b)
	benchSign(b, NewMechanism(pkcs11.CKM_SHA256_RSA_PKCS, nil), testRSA, benchMsg)
}

func BenchmarkRSA2048Verify(b *testing.B) {
	testKeys(b)
	benchVerify(b, NewMechanism(pkcs11.CKM_SHA256_RSA_PKCS, nil), testRSA, benchMsg)
}

func BenchmarkECDSAP256Sign(b *testing.B) {
	testKeys(b)
	benchSign(b, NewMechanism(pkcs11.CKM_ECDSA_SHA256, nil), testEC, benchMsg)
}

func BenchmarkECDSAP256Verify(b *testing.B) {
	testKeys(b)
	benchVerify(b, NewMechanism(pkcs11.CKM_ECDSA_SHA256, nil), testEC, benchMsg)
}

func BenchmarkEd25519Sign(b *testing.B) {
	testKeys(b)
	benchSign(b, NewMechanism(ck.CKM_EDDSA, nil), testEd, benchMsg)
}

func BenchmarkEd25519Verify(b *testing.B) {
	testKeys(b)
	benchVerify(b, NewMechanism(ck.CKM_EDDSA, nil), testEd, benchMsg)
}

func BenchmarkSHA256_4KB(b *testing.B) {
	data := make([]byte, 4096)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	m := NewMechanism(pkcs11.CKM_SHA256, nil)
	for b.Loop() {
		d, _ := NewDigest(m)
		d.Update(data)
		d.Final()
	}
}

func BenchmarkHMACSHA256_1KB(b *testing.B) {
	data := make([]byte, 1024)
	b.SetBytes(int64(len(data)))
	benchSign(b, NewMechanism(pkcs11.CKM_SHA256_HMAC, nil), newSecretKey(pkcs11.CKK_GENERIC_SECRET, make([]byte, 32)), data)
}

func benchGCM(b *testing.B, dec bool) {
	k := newSecretKey(pkcs11.CKK_AES, make([]byte, 32))
	m := NewMechanism(pkcs11.CKM_AES_GCM, nil)
	nonce := make([]byte, 12)
	nonces := func() ([]byte, error) { return nonce, nil }
	pt := make([]byte, 4096)
	in := pt
	if dec {
		in = encrypt(b, m, k, nonces, pt)
	}
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	for b.Loop() {
		var op CipherOp
		if dec {
			op, _ = NewDecrypt(m, k)
		} else {
			op, _ = NewEncrypt(m, k, nonces)
		}
		op.Update(in)
		if _, err := op.Final(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAES256GCMEncrypt4KB(b *testing.B) { benchGCM(b, false) }
func BenchmarkAES256GCMDecrypt4KB(b *testing.B) { benchGCM(b, true) }

func BenchmarkKWPWrapRSA2048(b *testing.B) {
	testKeys(b)
	kek := newSecretKey(pkcs11.CKK_AES, make([]byte, 32))
	m := NewMechanism(pkcs11.CKM_AES_KEY_WRAP_PAD, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Wrap(m, kek, testRSA); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKWPUnwrapRSA2048(b *testing.B) {
	testKeys(b)
	kek := newSecretKey(pkcs11.CKK_AES, make([]byte, 32))
	m := NewMechanism(pkcs11.CKM_AES_KEY_WRAP_PAD, nil)
	blob, _ := Wrap(m, kek, testRSA)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Unwrap(m, kek, blob, pkcs11.CKO_PRIVATE_KEY, pkcs11.CKK_RSA, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func benchKeyPair(b *testing.B, m uint, pub map[uint][]byte) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := GenerateKeyPair(NewMechanism(m, nil), pub, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKeyGenRSA2048(b *testing.B) {
	benchKeyPair(b, pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, map[uint][]byte{pkcs11.CKA_MODULUS_BITS: ulongBytes(2048)})
}

func BenchmarkKeyGenECP256(b *testing.B) {
	benchKeyPair(b, pkcs11.CKM_EC_KEY_PAIR_GEN, map[uint][]byte{pkcs11.CKA_EC_PARAMS: oidP256})
}

func BenchmarkKeyGenAES256(b *testing.B) {
	m := NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := GenerateKey(m, nil); err != nil {
			b.Fatal(err)
		}
	}
}
