package mech

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/hkdf"
	"crypto/mlkem"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/cloudflare/circl/kem/mlkem/mlkem768"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/slhdsa"
	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

// pqKAT is testdata/pqc_kat.json: NIST ACVP vectors extracted from the
// ones circl ships (first case of each group, large outputs hashed).
type pqKAT struct {
	MLKEMKeyGen []struct{ Set, D, Z, EkSHA256, DkSHA256 string }
	MLKEMDecap  []struct{ Set, Dk, C, K string }
	MLDSAKeyGen []struct{ Set, Seed, PkSHA256, SkSHA256 string }
}

func loadKAT(t *testing.T) pqKAT {
	t.Helper()
	b, err := os.ReadFile("testdata/pqc_kat.json")
	if err != nil {
		t.Fatal(err)
	}
	var k pqKAT
	if err := json.Unmarshal(b, &k); err != nil {
		t.Fatal(err)
	}
	return k
}

func khex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

var kemSetByName = map[string]uint{"ML-KEM-512": ck.CKP_ML_KEM_512, "ML-KEM-768": ck.CKP_ML_KEM_768, "ML-KEM-1024": ck.CKP_ML_KEM_1024}
var dsaSetByName = map[string]uint{"ML-DSA-44": ck.CKP_ML_DSA_44, "ML-DSA-65": ck.CKP_ML_DSA_65, "ML-DSA-87": ck.CKP_ML_DSA_87}

func rvIs(err error, rv uint) bool {
	var e pkcs11.Error
	return errors.As(err, &e) && uint(e) == rv
}

// TestMLKEMKeyGenKAT: a private key object holding the ACVP seed d‖z
// (Craton's CKA_VALUE format, and the 3.2 CKA_SEED) gives the expected ek
// and dk.
func TestMLKEMKeyGenKAT(t *testing.T) {
	for _, v := range loadKAT(t).MLKEMKeyGen {
		set := kemSetByName[v.Set]
		seed := append(khex(t, v.D), khex(t, v.Z)...)
		// Vendor type: CKA_VALUE is the seed.
		k, err := ParseKey(pkcs11.CKO_PRIVATE_KEY, ck.CKK_CRATON_ML_KEM, map[uint][]byte{
			pkcs11.CKA_VALUE: seed, ck.CKA_PARAMETER_SET: ulongBytes(uint64(set))})
		if err != nil {
			t.Fatalf("%s: %v", v.Set, err)
		}
		if got := sha(PublicAttrs(k)[pkcs11.CKA_VALUE]); got != v.EkSHA256 {
			t.Errorf("%s: ek hash %s, want %s", v.Set, got, v.EkSHA256)
		}
		if !bytes.Equal(KeyAttrs(k)[pkcs11.CKA_VALUE], seed) {
			t.Errorf("%s: vendor CKA_VALUE is not the seed", v.Set)
		}
		// 3.2 type: CKA_SEED, and CKA_VALUE the expanded dk.
		k2, err := ParseKey(pkcs11.CKO_PRIVATE_KEY, ck.CKK_ML_KEM, map[uint][]byte{
			ck.CKA_SEED: seed, ck.CKA_PARAMETER_SET: ulongBytes(uint64(set))})
		if err != nil {
			t.Fatal(err)
		}
		if got := sha(KeyAttrs(k2)[pkcs11.CKA_VALUE]); got != v.DkSHA256 {
			t.Errorf("%s: dk hash %s, want %s", v.Set, got, v.DkSHA256)
		}
	}
}

// TestMLKEMDecapKAT decapsulates ACVP ciphertexts with the ACVP dk (set
// inferred from the expanded key's length) through the engine's API.
func TestMLKEMDecapKAT(t *testing.T) {
	for _, v := range loadKAT(t).MLKEMDecap {
		k, err := ParseKey(pkcs11.CKO_PRIVATE_KEY, ck.CKK_ML_KEM, map[uint][]byte{pkcs11.CKA_VALUE: khex(t, v.Dk)})
		if err != nil {
			t.Fatalf("%s: %v", v.Set, err)
		}
		if k.PQ.Set != kemSetByName[v.Set] {
			t.Fatalf("%s: inferred set %d", v.Set, k.PQ.Set)
		}
		s, err := Decapsulate(pkcs11.NewMechanism(ck.CKM_ML_KEM, nil), k, khex(t, v.C), pkcs11.CKK_GENERIC_SECRET, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(s.Secret, khex(t, v.K)) {
			t.Errorf("%s: shared secret %x, want %s", v.Set, s.Secret, v.K)
		}
	}
}

// TestMLDSAKeyGenKAT: seed ξ → expected pk and sk.
func TestMLDSAKeyGenKAT(t *testing.T) {
	for _, v := range loadKAT(t).MLDSAKeyGen {
		k, err := ParseKey(pkcs11.CKO_PRIVATE_KEY, ck.CKK_ML_DSA, map[uint][]byte{
			ck.CKA_SEED: khex(t, v.Seed), ck.CKA_PARAMETER_SET: ulongBytes(uint64(dsaSetByName[v.Set]))})
		if err != nil {
			t.Fatalf("%s: %v", v.Set, err)
		}
		if got := sha(PublicAttrs(k)[pkcs11.CKA_VALUE]); got != v.PkSHA256 {
			t.Errorf("%s: pk hash %s, want %s", v.Set, got, v.PkSHA256)
		}
		if got := sha(KeyAttrs(k)[pkcs11.CKA_VALUE]); got != v.SkSHA256 {
			t.Errorf("%s: sk hash %s, want %s", v.Set, got, v.SkSHA256)
		}
	}
}

func genPQ(t testing.TB, m uint, set uint) *Key {
	t.Helper()
	pub := map[uint][]byte{}
	if set != 0 {
		pub[ck.CKA_PARAMETER_SET] = ulongBytes(uint64(set))
	}
	k, err := GenerateKeyPair(pkcs11.NewMechanism(m, nil), pub, nil)
	if err != nil {
		t.Fatalf("generate %s set %d: %v", ck.MechName(m), set, err)
	}
	return k
}

func publicOf(t testing.TB, k *Key) *Key {
	t.Helper()
	pk, err := ParseKey(pkcs11.CKO_PUBLIC_KEY, k.KeyType, PublicAttrs(k))
	if err != nil {
		t.Fatal(err)
	}
	return pk
}

// TestMLKEMCrossGo cross-checks ML-KEM-768/1024 with Go's crypto/mlkem in
// both directions, and the seed format (Go's dk.Bytes() is d‖z).
func TestMLKEMCrossGo(t *testing.T) {
	m := pkcs11.NewMechanism(ck.CKM_ML_KEM, nil)
	for _, set := range []uint{ck.CKP_ML_KEM_768, ck.CKP_ML_KEM_1024} {
		k := genPQ(t, ck.CKM_ML_KEM_KEY_PAIR_GEN, set)
		ek := PublicAttrs(k)[pkcs11.CKA_VALUE]
		var goSS, goCT []byte
		var goDK interface {
			Bytes() []byte
			Decapsulate([]byte) ([]byte, error)
		}
		var goEK []byte
		if set == ck.CKP_ML_KEM_768 {
			e, err := mlkem.NewEncapsulationKey768(ek)
			if err != nil {
				t.Fatal(err)
			}
			goSS, goCT = e.Encapsulate()
			d, _ := mlkem.GenerateKey768()
			goDK, goEK = d, d.EncapsulationKey().Bytes()
		} else {
			e, err := mlkem.NewEncapsulationKey1024(ek)
			if err != nil {
				t.Fatal(err)
			}
			goSS, goCT = e.Encapsulate()
			d, _ := mlkem.GenerateKey1024()
			goDK, goEK = d, d.EncapsulationKey().Bytes()
		}
		// Go encapsulates to our key, we decapsulate.
		s, err := Decapsulate(m, k, goCT, pkcs11.CKK_GENERIC_SECRET, 0)
		if err != nil || !bytes.Equal(s.Secret, goSS) {
			t.Fatalf("set %d: engine decapsulation of Go ciphertext: %v", set, err)
		}
		// We encapsulate to Go's key, Go decapsulates.
		pub, err := ParseKey(pkcs11.CKO_PUBLIC_KEY, ck.CKK_ML_KEM, map[uint][]byte{pkcs11.CKA_VALUE: goEK})
		if err != nil {
			t.Fatal(err)
		}
		ct, s2, err := Encapsulate(m, pub, pkcs11.CKK_AES, 32)
		if err != nil {
			t.Fatal(err)
		}
		ss, err := goDK.Decapsulate(ct)
		if err != nil || !bytes.Equal(ss, s2.Secret) {
			t.Fatalf("set %d: Go decapsulation of engine ciphertext: %v", set, err)
		}
		// Go's seed imports as our CKA_SEED and gives Go's ek.
		imp, err := ParseKey(pkcs11.CKO_PRIVATE_KEY, ck.CKK_ML_KEM, map[uint][]byte{
			ck.CKA_SEED: goDK.Bytes(), ck.CKA_PARAMETER_SET: ulongBytes(uint64(set))})
		if err != nil || !bytes.Equal(PublicAttrs(imp)[pkcs11.CKA_VALUE], goEK) {
			t.Fatalf("set %d: Go seed import: %v", set, err)
		}
	}
}

// TestMLDSAVerifiedByCircl: engine signatures (hedged and deterministic,
// with a 3.2 context) verify with circl directly, and the deterministic one
// equals circl's.
func TestMLDSAVerifiedByCircl(t *testing.T) {
	k := genPQ(t, ck.CKM_CRATON_ML_DSA_65, 0)
	pub := new(mldsa65.PublicKey)
	if err := pub.UnmarshalBinary(PublicAttrs(k)[pkcs11.CKA_VALUE]); err != nil {
		t.Fatal(err)
	}
	msg, ctx := []byte("message to sign"), []byte("craton-ctx")
	for _, hedge := range []uint{ck.CKH_HEDGE_PREFERRED, ck.CKH_HEDGE_REQUIRED, ck.CKH_DETERMINISTIC_REQUIRED} {
		m := NewMechanism(ck.CKM_ML_DSA, SignContext{Hedge: hedge, Context: ctx})
		sig := signAll(t, m, k, msg)
		if !mldsa65.Verify(pub, msg, ctx, sig) {
			t.Fatalf("hedge %d: circl rejects the engine's signature", hedge)
		}
		if mldsa65.Verify(pub, msg, nil, sig) {
			t.Fatal("context ignored")
		}
		if hedge == ck.CKH_DETERMINISTIC_REQUIRED {
			want := make([]byte, mldsa65.SignatureSize)
			if err := mldsa65.SignTo(k.PQ.dsa.priv.(*mldsa65.PrivateKey), msg, ctx, false, want); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(sig, want) {
				t.Fatal("deterministic signature differs from circl's")
			}
		}
		if err := verifyAll(m, publicOf(t, k), msg, sig); err != nil {
			t.Fatal(err)
		}
	}
	// A vendor mechanism of another parameter set is refused (Craton would
	// reinterpret the seed).
	if _, err := NewSign(pkcs11.NewMechanism(ck.CKM_CRATON_ML_DSA_44, nil), k); !rvIs(err, pkcs11.CKR_KEY_TYPE_INCONSISTENT) {
		t.Fatalf("ML-DSA-44 mechanism on an ML-DSA-65 key: %v", err)
	}
	// Bad parameters.
	for _, sc := range []SignContext{{Hedge: 3}, {Context: make([]byte, 256)}} {
		if _, err := NewSign(NewMechanism(ck.CKM_ML_DSA, sc), k); !rvIs(err, pkcs11.CKR_MECHANISM_PARAM_INVALID) {
			t.Fatalf("%+v: %v", sc.Hedge, err)
		}
	}
}

func signAll(t testing.TB, m *pkcs11.Mechanism, k *Key, msg []byte) []byte {
	t.Helper()
	s, err := NewSign(m, k)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(msg); err != nil {
		t.Fatal(err)
	}
	sig, err := s.Final()
	if err != nil {
		t.Fatal(err)
	}
	if len(sig) > s.Len() {
		t.Fatalf("signature %d bytes, Len %d", len(sig), s.Len())
	}
	return sig
}

func verifyAll(m *pkcs11.Mechanism, k *Key, msg, sig []byte) error {
	v, err := NewVerify(m, k)
	if err != nil {
		return err
	}
	if err := v.Update(msg); err != nil {
		return err
	}
	return v.Final(sig)
}

// TestSLHDSA signs and verifies with fast sets through CKM_SLH_DSA and the
// vendor SHA2-128s code, and checks with circl directly.
func TestSLHDSA(t *testing.T) {
	cases := []struct{ gen, op, set uint }{
		{ck.CKM_SLH_DSA_KEY_PAIR_GEN, ck.CKM_SLH_DSA, ck.CKP_SLH_DSA_SHA2_128F},
		{ck.CKM_SLH_DSA_KEY_PAIR_GEN, ck.CKM_SLH_DSA, ck.CKP_SLH_DSA_SHAKE_128F},
	}
	if !testing.Short() {
		cases = append(cases, struct{ gen, op, set uint }{ck.CKM_CRATON_SLH_DSA_SHA2_128S, ck.CKM_CRATON_SLH_DSA_SHA2_128S, 0})
	}
	msg := []byte("slh-dsa message")
	for _, c := range cases {
		k := genPQ(t, c.gen, c.set)
		m := pkcs11.NewMechanism(c.op, nil)
		sig := signAll(t, m, k, msg)
		pub := slhdsa.PublicKey{ID: slhSets[k.PQ.Set].id}
		if err := pub.UnmarshalBinary(PublicAttrs(k)[pkcs11.CKA_VALUE]); err != nil {
			t.Fatal(err)
		}
		if !slhdsa.Verify(&pub, slhdsa.NewMessage(msg), sig, nil) {
			t.Fatalf("set %d: circl rejects the signature", k.PQ.Set)
		}
		if err := verifyAll(m, publicOf(t, k), msg, sig); err != nil {
			t.Fatal(err)
		}
		sig[10] ^= 1
		if err := verifyAll(m, publicOf(t, k), msg, sig); !rvIs(err, pkcs11.CKR_SIGNATURE_INVALID) {
			t.Fatalf("tampered signature: %v", err)
		}
	}
	// Twelve parameter sets mapped to circl IDs with the 3.2 numbering.
	if len(slhSets) != 12 {
		t.Fatal("not all SLH-DSA parameter sets")
	}
	for set, s := range slhSets {
		if uint(s.id) != set {
			t.Errorf("CKP %d maps to circl ID %d", set, s.id)
		}
	}
}

// TestHybridKEM checks Craton's §5.3 layout by recomputing the secret from
// the parts.
func TestHybridKEM(t *testing.T) {
	for _, m := range []uint{ck.CKM_CRATON_HYBRID_X25519_MLKEM768, ck.CKM_CRATON_HYBRID_X25519_MLKEM1024} {
		k := genPQ(t, m, 0)
		mm := pkcs11.NewMechanism(m, nil)
		priv := KeyAttrs(k)[pkcs11.CKA_VALUE]
		if len(priv) != 96 {
			t.Fatalf("private key %d bytes", len(priv))
		}
		pubv := PublicAttrs(k)[pkcs11.CKA_VALUE]
		ct, s, err := Encapsulate(mm, publicOf(t, k), pkcs11.CKK_AES, 0)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := CiphertextLen(mm, k)
		if len(ct) != n {
			t.Fatalf("ciphertext %d bytes, CiphertextLen %d", len(ct), n)
		}
		s2, err := Decapsulate(mm, k, ct, pkcs11.CKK_AES, 0)
		if err != nil || !bytes.Equal(s.Secret, s2.Secret) {
			t.Fatalf("decapsulate: %v", err)
		}
		// Recompute: X25519(priv[:32], ct[:32]) ‖ ML-KEM.Decaps(seed, ct[32:]).
		xp, _ := ecdh.X25519().NewPrivateKey(priv[:32])
		if !bytes.Equal(xp.PublicKey().Bytes(), pubv[:32]) {
			t.Fatal("public key does not start with the X25519 public key")
		}
		eph, _ := ecdh.X25519().NewPublicKey(ct[:32])
		xss, _ := xp.ECDH(eph)
		set := ck.CKP_ML_KEM_768
		if m == ck.CKM_CRATON_HYBRID_X25519_MLKEM1024 {
			set = ck.CKP_ML_KEM_1024
		}
		sch := mlkemSets[uint(set)].scheme
		_, dk := sch.DeriveKeyPair(priv[32:])
		kss, _ := sch.Decapsulate(dk, ct[32:])
		want, _ := hkdf.Key(sha256.New, append(xss, kss...), []byte("CratonHSM-HybridKEM-v1"), "hybrid-kem-shared-secret", 32)
		if !bytes.Equal(want, s.Secret) {
			t.Fatal("shared secret does not follow Craton's construction")
		}
		// Derive route: private base + ciphertext parameter.
		d, ct2, err := DeriveKEM(pkcs11.NewMechanism(m, ct), k, pkcs11.CKK_AES, 0)
		if err != nil || ct2 != nil || !bytes.Equal(d.Secret, s.Secret) {
			t.Fatalf("DeriveKEM decapsulation: %v", err)
		}
		if _, err := Decapsulate(mm, k, ct[:len(ct)-1], pkcs11.CKK_AES, 0); !rvIs(err, pkcs11.CKR_ENCRYPTED_DATA_INVALID) {
			t.Fatalf("short ciphertext: %v", err)
		}
	}
}

// TestKEMDeriveRoute: C_DeriveKey on the public key encapsulates (the 3.0
// route), on the private key with the ciphertext decapsulates.
func TestKEMDeriveRoute(t *testing.T) {
	k := genPQ(t, ck.CKM_CRATON_ML_KEM_768, 0)
	mm := pkcs11.NewMechanism(ck.CKM_CRATON_ML_KEM_768, nil)
	s, ct, err := DeriveKEM(mm, publicOf(t, k), pkcs11.CKK_AES, 0)
	if err != nil || len(ct) != mlkem768.CiphertextSize {
		t.Fatalf("encapsulate via derive: %v", err)
	}
	d, _, err := DeriveKEM(pkcs11.NewMechanism(ck.CKM_CRATON_ML_KEM_768, ct), k, pkcs11.CKK_AES, 16)
	if err != nil || !bytes.Equal(d.Secret, s.Secret[:16]) {
		t.Fatalf("decapsulate via derive: %v", err)
	}
	if _, _, err := DeriveKEM(mm, k, pkcs11.CKK_AES, 0); !rvIs(err, pkcs11.CKR_MECHANISM_PARAM_INVALID) {
		t.Fatalf("private key without ciphertext: %v", err)
	}
	if _, _, err := DeriveKEM(pkcs11.NewMechanism(ck.CKM_CRATON_ML_KEM_512, ct), k, pkcs11.CKK_AES, 0); !rvIs(err, pkcs11.CKR_KEY_TYPE_INCONSISTENT) {
		t.Fatalf("512 mechanism on a 768 key: %v", err)
	}
}

// TestHybridSignature checks the §1.4 layout: len ‖ ML-DSA-65 ‖ ECDSA DER.
func TestHybridSignature(t *testing.T) {
	k := genPQ(t, ck.CKM_CRATON_HYBRID_ML_DSA_ECDSA, 0)
	if k.KeyType != ck.CKK_CRATON_ML_DSA || k.PQ.Set != ck.CKP_ML_DSA_65 || !k.PQ.HasECCompanion() {
		t.Fatal("hybrid key pair is not an ML-DSA-65 key with an ECDSA half")
	}
	m := pkcs11.NewMechanism(ck.CKM_CRATON_HYBRID_ML_DSA_ECDSA, nil)
	msg := []byte("hybrid")
	sig := signAll(t, m, k, msg)
	n := binary.BigEndian.Uint32(sig)
	if n != mldsa65.SignatureSize {
		t.Fatalf("length prefix %d", n)
	}
	pk := publicOf(t, k)
	var pub mldsa65.PublicKey
	_ = pub.UnmarshalBinary(PublicAttrs(k)[pkcs11.CKA_VALUE])
	if !mldsa65.Verify(&pub, msg, nil, sig[4:4+n]) {
		t.Fatal("ML-DSA half does not verify with circl")
	}
	h := sha256.Sum256(msg)
	if !ecdsa.VerifyASN1(pk.PQ.ecPub, h[:], sig[4+n:]) {
		t.Fatal("ECDSA half does not verify")
	}
	if err := verifyAll(m, pk, msg, sig); err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(sig)
	bad[len(bad)-3] ^= 1
	if err := verifyAll(m, pk, msg, bad); !rvIs(err, pkcs11.CKR_SIGNATURE_INVALID) {
		t.Fatalf("tampered ECDSA half: %v", err)
	}
	// Plain ML-DSA-65 with the same key still works; a key without an
	// ECDSA half cannot do the hybrid.
	signAll(t, pkcs11.NewMechanism(ck.CKM_CRATON_ML_DSA_65, nil), k, msg)
	if _, err := NewSign(m, genPQ(t, ck.CKM_CRATON_ML_DSA_65, 0)); !rvIs(err, pkcs11.CKR_KEY_TYPE_INCONSISTENT) {
		t.Fatalf("hybrid without ECDSA half: %v", err)
	}
	// Private attributes round-trip through ParseKey.
	k2, err := ParseKey(pkcs11.CKO_PRIVATE_KEY, k.KeyType, KeyAttrs(k))
	if err != nil || !k2.PQ.HasECCompanion() {
		t.Fatalf("reparse: %v", err)
	}
	if err := verifyAll(m, pk, msg, signAll(t, m, k2, msg)); err != nil {
		t.Fatal(err)
	}
}

// TestPQWrapUnwrap wraps each family under AES-KWP and unwraps into either
// code family; the PKCS#8 carries the parameter set.
func TestPQWrapUnwrap(t *testing.T) {
	kek, _ := GenerateKey(pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil), nil)
	wm := pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_WRAP_PAD, nil)
	cases := []struct {
		gen, set, into uint
	}{
		{ck.CKM_CRATON_ML_KEM_512, 0, ck.CKK_ML_KEM},
		{ck.CKM_ML_KEM_KEY_PAIR_GEN, ck.CKP_ML_KEM_1024, ck.CKK_CRATON_ML_KEM},
		{ck.CKM_CRATON_ML_DSA_87, 0, ck.CKK_ML_DSA},
		{ck.CKM_SLH_DSA_KEY_PAIR_GEN, ck.CKP_SLH_DSA_SHAKE_128F, ck.CKK_SLH_DSA},
		{ck.CKM_CRATON_HYBRID_X25519_MLKEM768, 0, ck.CKK_CRATON_HYBRID_X25519_ML_KEM},
	}
	for _, c := range cases {
		k := genPQ(t, c.gen, c.set)
		blob, err := Wrap(wm, kek, k)
		if err != nil {
			t.Fatalf("%s: wrap: %v", ck.MechName(c.gen), err)
		}
		var u *Key
		if c.into == ck.CKK_CRATON_HYBRID_X25519_ML_KEM {
			if _, err := UnwrapPQ(wm, kek, blob, c.into, 0); err == nil {
				t.Fatal("hybrid unwrap without a parameter set")
			}
			u, err = UnwrapPQ(wm, kek, blob, c.into, k.PQ.Set)
		} else {
			u, err = Unwrap(wm, kek, blob, pkcs11.CKO_PRIVATE_KEY, c.into, 0)
		}
		if err != nil {
			t.Fatalf("%s: unwrap: %v", ck.MechName(c.gen), err)
		}
		if u.KeyType != c.into || u.PQ.Set != k.PQ.Set || !bytes.Equal(u.PQ.Public, k.PQ.Public) {
			t.Fatalf("%s: unwrapped key differs", ck.MechName(c.gen))
		}
		if c.into != ck.CKK_CRATON_HYBRID_X25519_ML_KEM {
			other := uint(ck.CKP_ML_KEM_768)
			if u.PQ.Set == other {
				other = ck.CKP_ML_KEM_512
			}
			if _, err := UnwrapPQ(wm, kek, blob, c.into, other+100); !rvIs(err, pkcs11.CKR_TEMPLATE_INCONSISTENT) {
				t.Fatalf("%s: mismatching CKA_PARAMETER_SET: %v", ck.MechName(c.gen), err)
			}
		}
	}
	// The ML-DSA seed form is RFC 9881's [0] IMPLICIT OCTET STRING.
	k := genPQ(t, ck.CKM_CRATON_ML_DSA_44, 0)
	der, _ := marshalPQPKCS8(k.PQ)
	if !bytes.Contains(der, append([]byte{0x04, 0x22, 0x80, 0x20}, k.PQ.Seed...)) {
		t.Fatalf("ML-DSA PKCS#8 does not hold the seed choice: %x", der)
	}
}

// TestPQTable: every PQC mechanism is listed, none FIPS-approved.
func TestPQTable(t *testing.T) {
	for m := range pqMechs {
		i, ok := Lookup(m)
		if !ok || i.FIPS {
			t.Errorf("%s: listed %v, FIPS %v", ck.MechName(m), ok, i.FIPS)
		}
	}
}
