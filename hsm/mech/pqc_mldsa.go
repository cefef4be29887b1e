package mech

import (
	"bytes"
	"crypto/subtle"

	"github.com/cloudflare/circl/sign"
	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/hsm/internal/avxstate"
	"github.com/miekg/pkcs11"
)

// ML-DSA (FIPS 204), pure mode, through circl. Private keys are kept as
// the 32-byte seed ξ when known (Craton's format and the 3.2 CKA_SEED);
// the expanded sk is accepted too.

// mldsaSet describes one ML-DSA parameter set. signTo and verify are the
// typed circl functions behind a common signature.
type mldsaSet struct {
	level  int // 44, 65, 87
	scheme sign.Scheme
	signTo func(sk sign.PrivateKey, msg, ctx []byte, randomized bool, sig []byte) error
	verify func(pk sign.PublicKey, msg, ctx, sig []byte) bool
}

var mldsaSets = map[uint]mldsaSet{
	ck.CKP_ML_DSA_44: {44, mldsa44.Scheme(),
		func(sk sign.PrivateKey, msg, ctx []byte, r bool, sig []byte) error {
			return mldsa44.SignTo(sk.(*mldsa44.PrivateKey), msg, ctx, r, sig)
		},
		func(pk sign.PublicKey, msg, ctx, sig []byte) bool {
			return mldsa44.Verify(pk.(*mldsa44.PublicKey), msg, ctx, sig)
		}},
	ck.CKP_ML_DSA_65: {65, mldsa65.Scheme(),
		func(sk sign.PrivateKey, msg, ctx []byte, r bool, sig []byte) error {
			return mldsa65.SignTo(sk.(*mldsa65.PrivateKey), msg, ctx, r, sig)
		},
		func(pk sign.PublicKey, msg, ctx, sig []byte) bool {
			return mldsa65.Verify(pk.(*mldsa65.PublicKey), msg, ctx, sig)
		}},
	ck.CKP_ML_DSA_87: {87, mldsa87.Scheme(),
		func(sk sign.PrivateKey, msg, ctx []byte, r bool, sig []byte) error {
			return mldsa87.SignTo(sk.(*mldsa87.PrivateKey), msg, ctx, r, sig)
		},
		func(pk sign.PublicKey, msg, ctx, sig []byte) bool {
			return mldsa87.Verify(pk.(*mldsa87.PublicKey), msg, ctx, sig)
		}},
}

// mldsaSeedSize is the ξ length of every ML-DSA parameter set.
const mldsaSeedSize = 32

// mldsaKey is a parsed ML-DSA key (priv nil for a public key).
type mldsaKey struct {
	set  *mldsaSet
	pub  sign.PublicKey
	priv sign.PrivateKey
}

func (k *mldsaKey) sign(msg, ctx []byte, randomized bool) ([]byte, error) {
	defer avxstate.Clean() // circl AVX2 leaves the upper YMM state dirty
	sig := make([]byte, k.set.scheme.SignatureSize())
	if err := k.set.signTo(k.priv, msg, ctx, randomized, sig); err != nil {
		return nil, errParamInvalid
	}
	return sig, nil
}

func (k *mldsaKey) verify(msg, ctx, sig []byte) bool {
	defer avxstate.Clean() // circl AVX2 leaves the upper YMM state dirty
	return len(sig) == k.set.scheme.SignatureSize() && k.set.verify(k.pub, msg, ctx, sig)
}

func mldsaSetByLen(n int, size func(sign.Scheme) int) uint {
	return setByLen(mldsaSets, n, func(s mldsaSet) int { return size(s.scheme) })
}

func generateMLDSA(set uint) (*PQKey, error) {
	return fromRandomSeed(mldsaSeedSize, func(seed []byte) (*PQKey, error) { return mldsaFromSeed(set, seed) })
}

// mldsaFromSeed derives the key pair of seed (FIPS 204 ML-DSA.KeyGen_internal).
func mldsaFromSeed(set uint, seed []byte) (*PQKey, error) {
	defer avxstate.Clean() // circl AVX2 leaves the upper YMM state dirty
	s, ok := mldsaSets[set]
	if !ok || len(seed) != mldsaSeedSize {
		return nil, errAttrValue
	}
	pub, priv := s.scheme.DeriveKey(seed)
	return mldsaPQ(set, pub, priv, bytes.Clone(seed)), nil
}

func mldsaPQ(set uint, pub sign.PublicKey, priv sign.PrivateKey, seed []byte) *PQKey {
	s := mldsaSets[set]
	p := &PQKey{family: famMLDSA, Set: set, Seed: seed, dsa: &mldsaKey{set: &s, pub: pub, priv: priv}}
	p.Public, _ = pub.MarshalBinary()
	if priv != nil {
		p.Private, _ = priv.MarshalBinary()
	}
	return p
}

func mldsaPublic(set uint, v []byte) (*PQKey, error) {
	defer avxstate.Clean() // circl AVX2 leaves the upper YMM state dirty
	if set == 0 {
		set = mldsaSetByLen(len(v), sign.Scheme.PublicKeySize)
	}
	s, ok := mldsaSets[set]
	if !ok || len(v) != s.scheme.PublicKeySize() {
		return nil, errAttrValue
	}
	pub, err := s.scheme.UnmarshalBinaryPublicKey(v)
	if err != nil {
		return nil, errAttrValue
	}
	return mldsaPQ(set, pub, nil, nil), nil
}

func mldsaPrivate(set uint, seed, value []byte) (*PQKey, error) {
	defer avxstate.Clean() // circl AVX2 leaves the upper YMM state dirty
	if len(seed) == 0 && len(value) == mldsaSeedSize {
		seed, value = value, nil
	}
	if len(seed) != 0 {
		if set == 0 {
			if set = mldsaSetByLen(len(value), sign.Scheme.PrivateKeySize); set == 0 {
				return nil, errTmplIncomplete
			}
		}
		p, err := mldsaFromSeed(set, seed)
		if err != nil {
			return nil, err
		}
		if len(value) != 0 && subtle.ConstantTimeCompare(value, p.Private) != 1 {
			return nil, errAttrValue
		}
		return p, nil
	}
	if set == 0 {
		set = mldsaSetByLen(len(value), sign.Scheme.PrivateKeySize)
	}
	s, ok := mldsaSets[set]
	if !ok || len(value) != s.scheme.PrivateKeySize() {
		return nil, errAttrValue
	}
	priv, err := s.scheme.UnmarshalBinaryPrivateKey(value)
	if err != nil {
		return nil, errAttrValue
	}
	return mldsaPQ(set, priv.Public().(sign.PublicKey), priv, nil), nil
}

// pqSig is a PQC signature or verification in progress: pure ML-DSA and
// SLH-DSA sign the whole message, so multi-part input is accumulated (up
// to 64 MiB, as for EdDSA).
type pqSig struct {
	buf    []byte
	p      *PQKey
	ctx    SignContext
	hybrid bool
}

func newPQSig(m *pkcs11.Mechanism, k *Key, private bool) (*pqSig, error) {
	p, pm, err := pqOpKey(m.Mechanism, k)
	if err != nil {
		return nil, err
	}
	if private && !p.IsPrivate() {
		return nil, errKeyType
	}
	if pm.hybrid && (private && p.ec == nil || !private && p.ecPub == nil) {
		return nil, errKeyType
	}
	sc, err := signContext(m)
	if err != nil {
		return nil, err
	}
	return &pqSig{p: p, ctx: sc, hybrid: pm.hybrid}, nil
}

func newPQSign(m *pkcs11.Mechanism, k *Key) (SignOp, error) { return newPQSig(m, k, true) }

func newPQVerify(m *pkcs11.Mechanism, k *Key) (VerifyOp, error) {
	s, err := newPQSig(m, k, false)
	if err != nil {
		return nil, err
	}
	return pqVerifier{s}, nil
}

func (s *pqSig) Update(p []byte) error {
	var err error
	s.buf, err = appendBounded(s.buf, p)
	return err
}

// randomized is the FIPS 204/205 hedged variant unless the caller required
// a deterministic signature.
func (s *pqSig) randomized() bool { return s.ctx.Hedge != ck.CKH_DETERMINISTIC_REQUIRED }

func (s *pqSig) Final() ([]byte, error) {
	if s.hybrid {
		return s.p.hybridSign(s.buf, s.ctx)
	}
	if s.p.family == famSLHDSA {
		return s.p.slh.sign(s.buf, s.ctx.Context, s.randomized())
	}
	return s.p.dsa.sign(s.buf, s.ctx.Context, s.randomized())
}

// Len is the signature length: exact for ML-DSA and SLH-DSA, an upper
// bound for the hybrid (its ECDSA part is DER).
func (s *pqSig) Len() int {
	switch {
	case s.hybrid:
		return hybridSigMax
	case s.p.family == famSLHDSA:
		return s.p.slh.sigSize()
	}
	return s.p.dsa.set.scheme.SignatureSize()
}

// pqVerifier adapts pqSig to VerifyOp.
type pqVerifier struct{ *pqSig }

func (v pqVerifier) Final(sig []byte) error {
	var ok bool
	switch {
	case v.hybrid:
		return v.p.hybridVerify(v.buf, v.ctx, sig)
	case v.p.family == famSLHDSA:
		if len(sig) != v.p.slh.sigSize() {
			return errSignatureLen
		}
		ok = v.p.slh.verify(v.buf, v.ctx.Context, sig)
	default:
		if len(sig) != v.p.dsa.set.scheme.SignatureSize() {
			return errSignatureLen
		}
		ok = v.p.dsa.verify(v.buf, v.ctx.Context, sig)
	}
	if !ok {
		return errSignature
	}
	return nil
}
