package hsm

import (
	"crypto/rand"
	"testing"

	"github.com/cloudflare/circl/kem/mlkem/mlkem768"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/slhdsa"
	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

// Paired PQC benchmarks: each operation through the engine (hsm.Ctx, audit
// off as in the other engine benchmarks, session objects) next to the same
// circl call made directly. Engine numbers include the PKCS#11 work: the
// *Init call, key lookup, and for KEMs and key generation creating and
// destroying the key objects (timed: StopTimer/StartTimer per iteration
// would cost more than what it hides).
//
//	go test ./hsm -run '^$' -bench 'PQC' -benchtime 2s

var benchMsg = []byte("a 32-byte message to be signed..")

func BenchmarkPQCMLDSA65SignEngine(b *testing.B) {
	c, sh := ready(b, b.TempDir())
	_, hq := genPQPair(b, c, sh, ck.CKM_ML_DSA_KEY_PAIR_GEN, ck.CKP_ML_DSA_65, false)
	m := mk(ck.CKM_ML_DSA, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		must(b, c.SignInit(sh, m, hq))
		if _, err := c.Sign(sh, benchMsg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPQCMLDSA65SignCircl(b *testing.B) {
	_, sk, _ := mldsa65.GenerateKey(rand.Reader)
	for i := 0; i < b.N; i++ {
		sig := make([]byte, mldsa65.SignatureSize)
		if err := mldsa65.SignTo(sk, benchMsg, nil, true, sig); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPQCMLDSA65VerifyEngine(b *testing.B) {
	c, sh := ready(b, b.TempDir())
	hp, hq := genPQPair(b, c, sh, ck.CKM_ML_DSA_KEY_PAIR_GEN, ck.CKP_ML_DSA_65, false)
	m := mk(ck.CKM_ML_DSA, nil)
	must(b, c.SignInit(sh, m, hq))
	sig, err := c.Sign(sh, benchMsg)
	must(b, err)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		must(b, c.VerifyInit(sh, m, hp))
		must(b, c.Verify(sh, benchMsg, sig))
	}
}

func BenchmarkPQCMLDSA65VerifyCircl(b *testing.B) {
	pk, sk, _ := mldsa65.GenerateKey(rand.Reader)
	sig := make([]byte, mldsa65.SignatureSize)
	_ = mldsa65.SignTo(sk, benchMsg, nil, true, sig)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !mldsa65.Verify(pk, benchMsg, nil, sig) {
			b.Fatal("verify")
		}
	}
}

// Key generation in the engine includes the FIPS 140-3 pairwise
// consistency test (one sign + verify), so its circl baseline does the same.
func BenchmarkPQCMLDSA65KeyGenEngine(b *testing.B) {
	c, sh := ready(b, b.TempDir())
	m := mk(ck.CKM_ML_DSA_KEY_PAIR_GEN, nil)
	pub := []*pkcs11.Attribute{pkcs11.NewAttribute(ck.CKA_PARAMETER_SET, ck.CKP_ML_DSA_65)}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		hp, hq, err := c.GenerateKeyPair(sh, m, pub, nil)
		must(b, err)
		must(b, c.DestroyObject(sh, hp))
		must(b, c.DestroyObject(sh, hq))
	}
}

func BenchmarkPQCMLDSA65KeyGenCirclWithPCT(b *testing.B) {
	for i := 0; i < b.N; i++ {
		pk, sk, _ := mldsa65.GenerateKey(rand.Reader)
		sig := make([]byte, mldsa65.SignatureSize)
		_ = mldsa65.SignTo(sk, benchMsg, nil, false, sig)
		if !mldsa65.Verify(pk, benchMsg, nil, sig) {
			b.Fatal("pct")
		}
	}
}

func BenchmarkPQCMLKEM768EncapsulateEngine(b *testing.B) {
	c, sh := ready(b, b.TempDir())
	hp, _ := genPQPair(b, c, sh, ck.CKM_ML_KEM_KEY_PAIR_GEN, ck.CKP_ML_KEM_768, false)
	m := mk(ck.CKM_ML_KEM, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, h, err := c.EncapsulateKey(sh, m, hp, nil)
		must(b, err)
		must(b, c.DestroyObject(sh, h))
	}
}

func BenchmarkPQCMLKEM768EncapsulateCircl(b *testing.B) {
	pk, _, _ := mlkem768.GenerateKeyPair(rand.Reader)
	s := mlkem768.Scheme()
	for i := 0; i < b.N; i++ {
		if _, _, err := s.Encapsulate(pk); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPQCMLKEM768DecapsulateEngine(b *testing.B) {
	c, sh := ready(b, b.TempDir())
	hp, hq := genPQPair(b, c, sh, ck.CKM_ML_KEM_KEY_PAIR_GEN, ck.CKP_ML_KEM_768, false)
	m := mk(ck.CKM_ML_KEM, nil)
	ct, _, err := c.EncapsulateKey(sh, m, hp, nil)
	must(b, err)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h, err := c.DecapsulateKey(sh, m, hq, nil, ct)
		must(b, err)
		must(b, c.DestroyObject(sh, h))
	}
}

func BenchmarkPQCMLKEM768DecapsulateCircl(b *testing.B) {
	pk, sk, _ := mlkem768.GenerateKeyPair(rand.Reader)
	s := mlkem768.Scheme()
	ct, _, _ := s.Encapsulate(pk)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Decapsulate(sk, ct); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPQCSLHDSA128fSignEngine(b *testing.B) {
	c, sh := ready(b, b.TempDir())
	_, hq := genPQPair(b, c, sh, ck.CKM_SLH_DSA_KEY_PAIR_GEN, ck.CKP_SLH_DSA_SHA2_128F, false)
	m := mk(ck.CKM_SLH_DSA, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		must(b, c.SignInit(sh, m, hq))
		if _, err := c.Sign(sh, benchMsg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPQCSLHDSA128fSignCircl(b *testing.B) {
	_, sk, _ := slhdsa.GenerateKey(rand.Reader, slhdsa.SHA2_128f)
	for i := 0; i < b.N; i++ {
		if _, err := slhdsa.SignRandomized(&sk, rand.Reader, slhdsa.NewMessage(benchMsg), nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPQCSLHDSA128fVerifyEngine(b *testing.B) {
	c, sh := ready(b, b.TempDir())
	hp, hq := genPQPair(b, c, sh, ck.CKM_SLH_DSA_KEY_PAIR_GEN, ck.CKP_SLH_DSA_SHA2_128F, false)
	m := mk(ck.CKM_SLH_DSA, nil)
	must(b, c.SignInit(sh, m, hq))
	sig, err := c.Sign(sh, benchMsg)
	must(b, err)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		must(b, c.VerifyInit(sh, m, hp))
		must(b, c.Verify(sh, benchMsg, sig))
	}
}

func BenchmarkPQCSLHDSA128fVerifyCircl(b *testing.B) {
	pk, sk, _ := slhdsa.GenerateKey(rand.Reader, slhdsa.SHA2_128f)
	sig, _ := slhdsa.SignRandomized(&sk, rand.Reader, slhdsa.NewMessage(benchMsg), nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !slhdsa.Verify(&pk, slhdsa.NewMessage(benchMsg), sig, nil) {
			b.Fatal("verify")
		}
	}
}
