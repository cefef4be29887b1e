package mech

import (
	"bytes"
	"crypto/subtle"

	"github.com/cloudflare/circl/kem"
	"github.com/cloudflare/circl/kem/mlkem/mlkem1024"
	"github.com/cloudflare/circl/kem/mlkem/mlkem512"
	"github.com/cloudflare/circl/kem/mlkem/mlkem768"
	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/hsm/internal/avxstate"
	"github.com/miekg/pkcs11"
)

// ML-KEM (FIPS 203) through circl. Private keys are kept as the 64-byte
// seed d‖z when known (Craton's format and the 3.2 CKA_SEED); the expanded
// decapsulation key dk is accepted too.

// mlkemSet describes one ML-KEM parameter set.
type mlkemSet struct {
	level  int // 512, 768, 1024
	scheme kem.Scheme
}

var mlkemSets = map[uint]mlkemSet{
	ck.CKP_ML_KEM_512:  {512, mlkem512.Scheme()},
	ck.CKP_ML_KEM_768:  {768, mlkem768.Scheme()},
	ck.CKP_ML_KEM_1024: {1024, mlkem1024.Scheme()},
}

// mlkemSeedSize is the d‖z seed length of every ML-KEM parameter set.
const mlkemSeedSize = 64

// mlkemKey is a parsed ML-KEM key (priv nil for a public key).
type mlkemKey struct {
	scheme kem.Scheme
	pub    kem.PublicKey
	priv   kem.PrivateKey
}

// mlkemSetByLen finds the parameter set whose encoding of one kind has
// length n (size returns it for a scheme).
func mlkemSetByLen(n int, size func(kem.Scheme) int) uint {
	return setByLen(mlkemSets, n, func(s mlkemSet) int { return size(s.scheme) })
}

func generateMLKEM(set uint) (*PQKey, error) {
	return fromRandomSeed(mlkemSeedSize, func(seed []byte) (*PQKey, error) { return mlkemFromSeed(set, seed) })
}

// mlkemFromSeed derives the key pair of seed (FIPS 203 ML-KEM.KeyGen_internal).
func mlkemFromSeed(set uint, seed []byte) (*PQKey, error) {
	defer avxstate.Clean() // circl AVX2 leaves the upper YMM state dirty
	s, ok := mlkemSets[set]
	if !ok {
		return nil, errAttrValue
	}
	if len(seed) != mlkemSeedSize {
		return nil, errAttrValue
	}
	pub, priv := s.scheme.DeriveKeyPair(seed)
	return mlkemPQ(set, s.scheme, pub, priv, bytes.Clone(seed)), nil
}

func mlkemPQ(set uint, s kem.Scheme, pub kem.PublicKey, priv kem.PrivateKey, seed []byte) *PQKey {
	p := &PQKey{family: famMLKEM, Set: set, Seed: seed, kem: &mlkemKey{scheme: s, pub: pub, priv: priv}}
	p.Public, _ = pub.MarshalBinary()
	if priv != nil {
		p.Private, _ = priv.MarshalBinary()
	}
	return p
}

func mlkemPublic(set uint, v []byte) (*PQKey, error) {
	defer avxstate.Clean() // circl AVX2 leaves the upper YMM state dirty
	if set == 0 {
		set = mlkemSetByLen(len(v), kem.Scheme.PublicKeySize)
	}
	s, ok := mlkemSets[set]
	if !ok || len(v) != s.scheme.PublicKeySize() {
		return nil, errAttrValue
	}
	pub, err := s.scheme.UnmarshalBinaryPublicKey(v)
	if err != nil {
		return nil, errAttrValue
	}
	return mlkemPQ(set, s.scheme, pub, nil, nil), nil
}

// mlkemPrivate parses a private key from its seed and/or its value (the
// seed again, or the expanded dk).
func mlkemPrivate(set uint, seed, value []byte) (*PQKey, error) {
	defer avxstate.Clean() // circl AVX2 leaves the upper YMM state dirty
	if len(seed) == 0 && len(value) == mlkemSeedSize {
		seed, value = value, nil
	}
	if len(seed) != 0 {
		if set == 0 {
			if set = mlkemSetByLen(len(value), kem.Scheme.PrivateKeySize); set == 0 {
				return nil, errTmplIncomplete // a seed alone does not say the set
			}
		}
		p, err := mlkemFromSeed(set, seed)
		if err != nil {
			return nil, err
		}
		if len(value) != 0 && subtle.ConstantTimeCompare(value, p.Private) != 1 {
			return nil, errAttrValue
		}
		return p, nil
	}
	if set == 0 {
		set = mlkemSetByLen(len(value), kem.Scheme.PrivateKeySize)
	}
	s, ok := mlkemSets[set]
	if !ok || len(value) != s.scheme.PrivateKeySize() {
		return nil, errAttrValue
	}
	priv, err := s.scheme.UnmarshalBinaryPrivateKey(value)
	if err != nil {
		return nil, errAttrValue
	}
	return mlkemPQ(set, s.scheme, priv.Public(), priv, nil), nil
}

// encapsulate runs ML-KEM.Encaps (or the hybrid KEM) with the public key.
func (p *PQKey) encapsulate() (ct, ss []byte, err error) {
	defer avxstate.Clean() // circl AVX2 leaves the upper YMM state dirty
	if p.family == famHybridKEM {
		return p.hybridEncapsulate()
	}
	ct, ss, err = p.kem.scheme.Encapsulate(p.kem.pub)
	if err != nil {
		return nil, nil, errGeneral
	}
	return ct, ss, nil
}

// decapsulate runs ML-KEM.Decaps (or the hybrid KEM) with the private key.
// A ciphertext of the wrong length is CKR_ENCRYPTED_DATA_INVALID (reference
// §5.2); a wrong ciphertext of the right length yields ML-KEM's implicit
// rejection secret, as FIPS 203 specifies.
func (p *PQKey) decapsulate(ct []byte) ([]byte, error) {
	defer avxstate.Clean() // circl AVX2 leaves the upper YMM state dirty
	if !p.IsPrivate() {
		return nil, errKeyType
	}
	if p.family == famHybridKEM {
		return p.hybridDecapsulate(ct)
	}
	if len(ct) != p.kem.scheme.CiphertextSize() {
		return nil, errEncData
	}
	ss, err := p.kem.scheme.Decapsulate(p.kem.priv, ct)
	if err != nil {
		return nil, errEncData
	}
	return ss, nil
}

// CiphertextLen is the KEM ciphertext length of key k for mechanism m (the
// size query of C_EncapsulateKey).
func CiphertextLen(m *pkcs11.Mechanism, k *Key) (int, error) {
	if !IsKEM(m.Mechanism) {
		return 0, errMechInvalid
	}
	p, _, err := pqOpKey(m.Mechanism, k)
	if err != nil {
		return 0, err
	}
	n := p.kem.scheme.CiphertextSize()
	if p.family == famHybridKEM {
		n += x25519Size
	}
	return n, nil
}

// Encapsulate runs a KEM mechanism (ML-KEM of either family or the hybrid
// X25519+ML-KEM) with public key k and returns the ciphertext and a secret
// key of keyType holding the shared secret (cut to valueLen when given;
// AES keys 16, 24 or 32 bytes). The mechanism has no parameter.
func Encapsulate(m *pkcs11.Mechanism, k *Key, keyType uint, valueLen int) (ct []byte, secret *Key, err error) {
	if !IsKEM(m.Mechanism) {
		return nil, nil, errMechInvalid
	}
	if err := noParam(m); err != nil {
		return nil, nil, err
	}
	p, _, err := pqOpKey(m.Mechanism, k)
	if err != nil {
		return nil, nil, err
	}
	ct, ss, err := p.encapsulate()
	if err != nil {
		return nil, nil, err
	}
	secret, err = kemSecret(ss, keyType, valueLen)
	return ct, secret, err
}

// Decapsulate runs a KEM mechanism with private key k on ciphertext ct.
func Decapsulate(m *pkcs11.Mechanism, k *Key, ct []byte, keyType uint, valueLen int) (*Key, error) {
	if !IsKEM(m.Mechanism) {
		return nil, errMechInvalid
	}
	if err := noParam(m); err != nil {
		return nil, err
	}
	p, _, err := pqOpKey(m.Mechanism, k)
	if err != nil {
		return nil, err
	}
	ss, err := p.decapsulate(ct)
	if err != nil {
		return nil, err
	}
	return kemSecret(ss, keyType, valueLen)
}

// DeriveKEM is Craton's C_DeriveKey route for KEM mechanisms (reference
// §5.2, docs/pqc.md). With a private base key the mechanism parameter is
// the ciphertext and the result is the decapsulated secret (ct is nil).
// With a public base key (this engine's route to encapsulation for PKCS#11
// 3.0 callers) the parameter must be empty; the result is a fresh shared
// secret and the ciphertext to send to the private key's holder.
func DeriveKEM(m *pkcs11.Mechanism, base *Key, keyType uint, valueLen int) (secret *Key, ct []byte, err error) {
	if !IsKEM(m.Mechanism) {
		return nil, nil, errMechInvalid
	}
	if base == nil || base.PQ == nil {
		return nil, nil, errKeyType
	}
	if !base.PQ.IsPrivate() {
		ct, secret, err = Encapsulate(m, base, keyType, valueLen)
		return secret, ct, err
	}
	param, err := plainParam(m)
	if err != nil {
		return nil, nil, err
	}
	if len(param) == 0 {
		return nil, nil, errParamInvalid
	}
	secret, err = Decapsulate(pkcs11.NewMechanism(m.Mechanism, nil), base, param, keyType, valueLen)
	return secret, nil, err
}

// kemSecret makes the secret key holding shared secret ss, which it takes
// over: the whole of ss becomes the key's value, or a copy of its leading
// valueLen bytes does and ss is cleared. On error ss is cleared.
func kemSecret(ss []byte, keyType uint, valueLen int) (*Key, error) {
	n := len(ss)
	if valueLen > 0 {
		n = valueLen
	}
	switch {
	case keyType != pkcs11.CKK_AES && keyType != pkcs11.CKK_GENERIC_SECRET:
		clear(ss)
		return nil, errTmplInconsist
	case n > len(ss), keyType == pkcs11.CKK_AES && n != 16 && n != 24 && n != 32:
		clear(ss)
		return nil, errKeySize
	case n == len(ss):
		return newSecretKey(keyType, ss), nil
	}
	defer clear(ss)
	return newSecretKey(keyType, bytes.Clone(ss[:n])), nil
}
