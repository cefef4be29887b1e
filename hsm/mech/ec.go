package mech

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"hash"
	"math/big"

	"github.com/miekg/pkcs11"
)

// ecdsaHashes maps CKM_ECDSA_SHAx to its hash; CKM_ECDSA (hash 0) signs the
// caller's input as the hash, without hashing it again.
var ecdsaHashes = map[uint]crypto.Hash{
	pkcs11.CKM_ECDSA:        0,
	pkcs11.CKM_ECDSA_SHA256: crypto.SHA256,
	pkcs11.CKM_ECDSA_SHA384: crypto.SHA384,
	pkcs11.CKM_ECDSA_SHA512: crypto.SHA512,
}

func isECDSA(t uint) bool {
	_, ok := ecdsaHashes[t]
	return ok
}

// maxECDSAInput bounds CKM_ECDSA input; longer "hashes" are nonsense (ECDSA
// truncates to the order length anyway).
const maxECDSAInput = 128

// ecdsaSig is shared by signing and verification. Signatures are raw r || s,
// each half the curve size (PKCS#11), not DER.
type ecdsaSig struct {
	h    hash.Hash
	buf  []byte
	size int
}

func newECDSASig(m *pkcs11.Mechanism, pub *ecdsa.PublicKey) (*ecdsaSig, error) {
	if err := noParam(m); err != nil {
		return nil, err
	}
	s := &ecdsaSig{size: curveOf(pub.Curve).size}
	if h := ecdsaHashes[m.Mechanism]; h != 0 {
		s.h = h.New()
	}
	return s, nil
}

func ecPublic(k *Key) (*ecdsa.PublicKey, error) {
	if k == nil || k.KeyType != pkcs11.CKK_EC || k.ECPub == nil {
		return nil, errKeyType
	}
	if curveOf(k.ECPub.Curve) == nil {
		return nil, errKeySize
	}
	return k.ECPub, nil
}

func (s *ecdsaSig) Update(p []byte) error {
	if s.h != nil {
		s.h.Write(p)
		return nil
	}
	if len(s.buf)+len(p) > maxECDSAInput {
		return errDataLen
	}
	s.buf = append(s.buf, p...)
	return nil
}

func (s *ecdsaSig) digest() []byte {
	if s.h != nil {
		return s.h.Sum(nil)
	}
	return s.buf
}

type ecdsaSigner struct {
	*ecdsaSig
	priv *ecdsa.PrivateKey
}

func newECDSASign(m *pkcs11.Mechanism, k *Key) (SignOp, error) {
	pub, err := ecPublic(k)
	if err != nil {
		return nil, err
	}
	if k.EC == nil {
		return nil, errKeyType
	}
	s, err := newECDSASig(m, pub)
	if err != nil {
		return nil, err
	}
	return &ecdsaSigner{s, k.EC}, nil
}

func (s *ecdsaSigner) Final() ([]byte, error) {
	r, ss, err := ecdsa.Sign(rand.Reader, s.priv, s.digest())
	if err != nil {
		return nil, errGeneral
	}
	out := make([]byte, 2*s.size)
	r.FillBytes(out[:s.size])
	ss.FillBytes(out[s.size:])
	return out, nil
}

func (s *ecdsaSigner) Len() int { return 2 * s.size }

type ecdsaVerifier struct {
	*ecdsaSig
	pub *ecdsa.PublicKey
}

func newECDSAVerify(m *pkcs11.Mechanism, k *Key) (VerifyOp, error) {
	pub, err := ecPublic(k)
	if err != nil {
		return nil, err
	}
	s, err := newECDSASig(m, pub)
	if err != nil {
		return nil, err
	}
	return &ecdsaVerifier{s, pub}, nil
}

func (v *ecdsaVerifier) Final(sig []byte) error {
	if len(sig) != 2*v.size {
		return errSignatureLen
	}
	r := new(big.Int).SetBytes(sig[:v.size])
	s := new(big.Int).SetBytes(sig[v.size:])
	if !ecdsa.Verify(v.pub, v.digest(), r, s) {
		return errSignature
	}
	return nil
}
