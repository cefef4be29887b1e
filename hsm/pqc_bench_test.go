package hsm

import (
	"crypto/rand"
	"slices"
	"testing"
	"time"

	"github.com/cloudflare/circl/kem/mlkem/mlkem768"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/slhdsa"
	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

// Paired PQC benchmarks (docs/pqc.md, "Performance"): each PKCS#11
// operation through the engine (hsm.Ctx, session objects) next to the same
// cryptographic work done with circl directly.
//
//   - Audit: the engine runs as in the other engine benchmarks (testConfig:
//     audit.enabled=false), i.e. every audited call still encodes its line
//     and extends the SHA-256 hash chain of the in-memory log; only the
//     file write and its fsync (audit.enabled=true, the default; measured
//     in docs/benchmarks.md) are absent.
//   - What is timed on the engine side is what the caller's call does:
//     *Init + the single-part call for signatures; C_EncapsulateKey /
//     C_DecapsulateKey including the creation of the shared-secret key
//     object (part of the operation); C_GenerateKeyPair including the two
//     key objects and the pairwise consistency test. Destroying the created
//     objects is the caller's separate C_DestroyObject: it runs untimed, in
//     batches (StopTimer/StartTimer read the memory statistics, so once per
//     call would cost more than a KEM operation), and is measured on its
//     own by BenchmarkPQCDestroySecretKeyEngine.
//   - The circl side uses parsed (expanded) keys, as the engine caches the
//     parsed key of each object: circl's ML-KEM decapsulation from a
//     parsed private key; the seed expansion the cache avoids is
//     BenchmarkPQCMLKEM768ExpandSeedCircl.
//
//	go test ./hsm -run '^$' -bench 'PQC' -count 6 | benchstat -col /side -

var benchMsg = []byte("a 32-byte message to be signed..")

// fatalIf is must without t.Helper (runtime.Callers) in timed loops.
func fatalIf(b *testing.B, err error) {
	if err != nil {
		b.Fatal(err)
	}
}

// benchUndoBatch is how many created objects are destroyed per untimed pause.
const benchUndoBatch = 512

// benchCreating runs op b.N times, timing op only; op returns the objects
// it created, which are destroyed untimed in batches of benchUndoBatch.
func benchCreating(b *testing.B, c *Ctx, sh pkcs11.SessionHandle, op func() []pkcs11.ObjectHandle) {
	b.Helper()
	made := make([]pkcs11.ObjectHandle, 0, 2*benchUndoBatch)
	undo := func() {
		b.StopTimer()
		for _, h := range made {
			must(b, c.DestroyObject(sh, h))
		}
		made = made[:0]
		b.StartTimer()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		made = append(made, op()...)
		if len(made) >= benchUndoBatch {
			undo()
		}
	}
	undo()
}

func BenchmarkPQCMLDSA65SignEngine(b *testing.B) {
	c, sh := ready(b, b.TempDir())
	_, hq := genPQPair(b, c, sh, ck.CKM_ML_DSA_KEY_PAIR_GEN, ck.CKP_ML_DSA_65, false)
	m := mk(ck.CKM_ML_DSA, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fatalIf(b, c.SignInit(sh, m, hq))
		if _, err := c.Sign(sh, benchMsg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPQCMLDSA65SignCircl(b *testing.B) {
	_, sk, _ := mldsa65.GenerateKey(rand.Reader)
	b.ReportAllocs()
	b.ResetTimer()
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
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fatalIf(b, c.VerifyInit(sh, m, hp))
		fatalIf(b, c.Verify(sh, benchMsg, sig))
	}
}

func BenchmarkPQCMLDSA65VerifyCircl(b *testing.B) {
	pk, sk, _ := mldsa65.GenerateKey(rand.Reader)
	sig := make([]byte, mldsa65.SignatureSize)
	_ = mldsa65.SignTo(sk, benchMsg, nil, true, sig)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !mldsa65.Verify(pk, benchMsg, nil, sig) {
			b.Fatal("verify")
		}
	}
}

// Key generation in the engine includes the FIPS 140-3 pairwise
// consistency test (one sign + verify), so its circl baseline does the same.
// The engine also encodes both keys (its objects' CKA_VALUE); the circl
// baseline does not.
func BenchmarkPQCMLDSA65KeyGenEngine(b *testing.B) {
	c, sh := ready(b, b.TempDir())
	m := mk(ck.CKM_ML_DSA_KEY_PAIR_GEN, nil)
	pub := []*pkcs11.Attribute{pkcs11.NewAttribute(ck.CKA_PARAMETER_SET, ck.CKP_ML_DSA_65)}
	benchCreating(b, c, sh, func() []pkcs11.ObjectHandle {
		hp, hq, err := c.GenerateKeyPair(sh, m, pub, nil)
		fatalIf(b, err)
		return []pkcs11.ObjectHandle{hp, hq}
	})
}

func BenchmarkPQCMLDSA65KeyGenCirclWithPCT(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		pk, sk, _ := mldsa65.GenerateKey(rand.Reader)
		sig := make([]byte, mldsa65.SignatureSize)
		_ = mldsa65.SignTo(sk, benchMsg, nil, false, sig)
		if !mldsa65.Verify(pk, benchMsg, nil, sig) {
			b.Fatal("pct")
		}
	}
}

// C_EncapsulateKey: encapsulation plus the new shared-secret key object
// (destroyed untimed).
func BenchmarkPQCMLKEM768EncapsulateEngine(b *testing.B) {
	c, sh := ready(b, b.TempDir())
	hp, _ := genPQPair(b, c, sh, ck.CKM_ML_KEM_KEY_PAIR_GEN, ck.CKP_ML_KEM_768, false)
	m := mk(ck.CKM_ML_KEM, nil)
	benchCreating(b, c, sh, func() []pkcs11.ObjectHandle {
		_, h, err := c.EncapsulateKey(sh, m, hp, nil)
		fatalIf(b, err)
		return []pkcs11.ObjectHandle{h}
	})
}

func BenchmarkPQCMLKEM768EncapsulateCircl(b *testing.B) {
	pk, _, _ := mlkem768.GenerateKeyPair(rand.Reader)
	s := mlkem768.Scheme()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := s.Encapsulate(pk); err != nil {
			b.Fatal(err)
		}
	}
}

// kemBenchEngine is the engine side of the ML-KEM-768 benchmarks: a
// session key pair (CKM_ML_KEM_KEY_PAIR_GEN), the mechanism CKM_ML_KEM and
// a ciphertext for the private key.
type kemBenchEngine struct {
	c      *Ctx
	sh     pkcs11.SessionHandle
	hp, hq pkcs11.ObjectHandle
	m      []*pkcs11.Mechanism
	ct     []byte
}

func newKEMBenchEngine(b *testing.B) kemBenchEngine {
	c, sh := ready(b, b.TempDir())
	hp, hq := genPQPair(b, c, sh, ck.CKM_ML_KEM_KEY_PAIR_GEN, ck.CKP_ML_KEM_768, false)
	m := mk(ck.CKM_ML_KEM, nil)
	ct, h0, err := c.EncapsulateKey(sh, m, hp, nil)
	must(b, err)
	must(b, c.DestroyObject(sh, h0))
	return kemBenchEngine{c, sh, hp, hq, m, ct}
}

// C_DecapsulateKey: decapsulation plus the new shared-secret key object
// (destroyed untimed).
func BenchmarkPQCMLKEM768DecapsulateEngine(b *testing.B) {
	e := newKEMBenchEngine(b)
	c, sh, hq, m, ct := e.c, e.sh, e.hq, e.m, e.ct
	benchCreating(b, c, sh, func() []pkcs11.ObjectHandle {
		h, err := c.DecapsulateKey(sh, m, hq, nil, ct)
		fatalIf(b, err)
		return []pkcs11.ObjectHandle{h}
	})
}

// circl decapsulation with a parsed private key (the engine's per-object
// cache holds one).
func BenchmarkPQCMLKEM768DecapsulateCircl(b *testing.B) {
	pk, sk, _ := mlkem768.GenerateKeyPair(rand.Reader)
	s := mlkem768.Scheme()
	ct, _, _ := s.Encapsulate(pk)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Decapsulate(sk, ct); err != nil {
			b.Fatal(err)
		}
	}
}

// The expansion of a 64-byte ML-KEM seed into the key pair: what each
// decapsulation would add if the engine did not cache parsed keys.
func BenchmarkPQCMLKEM768ExpandSeedCircl(b *testing.B) {
	seed := make([]byte, mlkem768.KeySeedSize)
	_, _ = rand.Read(seed)
	s := mlkem768.Scheme()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.DeriveKeyPair(seed)
	}
}

// C_DestroyObject of a KEM shared-secret key (the objects are created
// untimed, in batches): the caller's separate call after a KEM operation.
func BenchmarkPQCDestroySecretKeyEngine(b *testing.B) {
	c, sh := ready(b, b.TempDir())
	hp, _ := genPQPair(b, c, sh, ck.CKM_ML_KEM_KEY_PAIR_GEN, ck.CKP_ML_KEM_768, false)
	m := mk(ck.CKM_ML_KEM, nil)
	hs := make([]pkcs11.ObjectHandle, 0, benchUndoBatch)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if len(hs) == 0 {
			b.StopTimer()
			for j := 0; j < benchUndoBatch; j++ {
				_, h, err := c.EncapsulateKey(sh, m, hp, nil)
				fatalIf(b, err)
				hs = append(hs, h)
			}
			b.StartTimer()
		}
		fatalIf(b, c.DestroyObject(sh, hs[len(hs)-1]))
		hs = hs[:len(hs)-1]
	}
}

func BenchmarkPQCSLHDSA128fSignEngine(b *testing.B) {
	c, sh := ready(b, b.TempDir())
	_, hq := genPQPair(b, c, sh, ck.CKM_SLH_DSA_KEY_PAIR_GEN, ck.CKP_SLH_DSA_SHA2_128F, false)
	m := mk(ck.CKM_SLH_DSA, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fatalIf(b, c.SignInit(sh, m, hq))
		if _, err := c.Sign(sh, benchMsg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPQCSLHDSA128fSignCircl(b *testing.B) {
	_, sk, _ := slhdsa.GenerateKey(rand.Reader, slhdsa.SHA2_128f)
	b.ReportAllocs()
	b.ResetTimer()
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
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fatalIf(b, c.VerifyInit(sh, m, hp))
		fatalIf(b, c.Verify(sh, benchMsg, sig))
	}
}

func BenchmarkPQCSLHDSA128fVerifyCircl(b *testing.B) {
	pk, sk, _ := slhdsa.GenerateKey(rand.Reader, slhdsa.SHA2_128f)
	sig, _ := slhdsa.SignRandomized(&sk, rand.Reader, slhdsa.NewMessage(benchMsg), nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !slhdsa.Verify(&pk, slhdsa.NewMessage(benchMsg), sig, nil) {
			b.Fatal("verify")
		}
	}
}

// BenchmarkPQCMLKEM768Interleaved measures the engine/circl ratio of
// C_EncapsulateKey and C_DecapsulateKey on a loaded machine: the paired
// benchmarks above run seconds apart, so a change of load between them
// moves the ratio. Here each of b.N rounds times one block of engine calls
// and one block of the same circl calls right after each other (the order
// alternating between rounds), and the reported ratio is the median of
// the per-round ratios; enc-engine-ns etc. are the medians of the per-call
// times. The work timed on each side is that of the paired benchmarks
// (engine: the call including its new key object and audit record; the
// objects are destroyed between blocks, untimed).
//
//	go test ./hsm -run '^$' -bench PQCMLKEM768Interleaved -benchtime 400x -count 8
func BenchmarkPQCMLKEM768Interleaved(b *testing.B) {
	const block = 64
	e := newKEMBenchEngine(b)
	c, sh, hp, hq, m, ct := e.c, e.sh, e.hp, e.hq, e.m, e.ct
	pk, sk, _ := mlkem768.GenerateKeyPair(rand.Reader)
	s := mlkem768.Scheme()
	cct, _, _ := s.Encapsulate(pk)

	made := make([]pkcs11.ObjectHandle, 0, block)
	engine := func(dec bool) time.Duration {
		t0 := time.Now()
		for i := 0; i < block; i++ {
			var h pkcs11.ObjectHandle
			var err error
			if dec {
				h, err = c.DecapsulateKey(sh, m, hq, nil, ct)
			} else {
				_, h, err = c.EncapsulateKey(sh, m, hp, nil)
			}
			fatalIf(b, err)
			made = append(made, h)
		}
		d := time.Since(t0)
		for _, h := range made {
			fatalIf(b, c.DestroyObject(sh, h))
		}
		made = made[:0]
		return d
	}
	circl := func(dec bool) time.Duration {
		t0 := time.Now()
		for i := 0; i < block; i++ {
			var err error
			if dec {
				_, err = s.Decapsulate(sk, cct)
			} else {
				_, _, err = s.Encapsulate(pk)
			}
			fatalIf(b, err)
		}
		return time.Since(t0)
	}
	type side struct{ eng, cir, ratio []float64 }
	var enc, dec side
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, x := range []struct {
			d bool
			s *side
		}{{false, &enc}, {true, &dec}} {
			var te, tc time.Duration
			if i%2 == 0 {
				te, tc = engine(x.d), circl(x.d)
			} else {
				tc, te = circl(x.d), engine(x.d)
			}
			x.s.eng = append(x.s.eng, float64(te.Nanoseconds())/block)
			x.s.cir = append(x.s.cir, float64(tc.Nanoseconds())/block)
			x.s.ratio = append(x.s.ratio, float64(te)/float64(tc))
		}
	}
	b.StopTimer()
	med := func(v []float64) float64 {
		slices.Sort(v)
		return v[len(v)/2]
	}
	b.ReportMetric(med(enc.ratio), "enc-ratio")
	b.ReportMetric(med(dec.ratio), "dec-ratio")
	b.ReportMetric(med(enc.eng), "enc-engine-ns")
	b.ReportMetric(med(enc.cir), "enc-circl-ns")
	b.ReportMetric(med(dec.eng), "dec-engine-ns")
	b.ReportMetric(med(dec.cir), "dec-circl-ns")
	b.ReportMetric(0, "ns/op")
}
