package mech

import (
	"crypto/ed25519"

	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

// edSig is CKM_EDDSA: pure Ed25519 (no CK_EDDSA_PARAMS, so no Ed25519ph or
// context), 64-byte signatures. Ed25519 hashes the whole message twice, so
// multi-part input is accumulated.
type edSig struct {
	buf  []byte
	priv ed25519.PrivateKey
	pub  ed25519.PublicKey
}

func newEdSig(m *pkcs11.Mechanism, k *Key) (*edSig, error) {
	if err := noParam(m); err != nil {
		return nil, err
	}
	if k == nil || k.KeyType != ck.CKK_EC_EDWARDS {
		return nil, errKeyType
	}
	return &edSig{priv: k.Ed, pub: k.EdPub}, nil
}

func newEdSign(m *pkcs11.Mechanism, k *Key) (SignOp, error) {
	s, err := newEdSig(m, k)
	if err != nil {
		return nil, err
	}
	if len(s.priv) != ed25519.PrivateKeySize {
		return nil, errKeyType
	}
	return s, nil
}

func newEdVerify(m *pkcs11.Mechanism, k *Key) (VerifyOp, error) {
	s, err := newEdSig(m, k)
	if err != nil {
		return nil, err
	}
	if len(s.pub) != ed25519.PublicKeySize {
		return nil, errKeyType
	}
	return edVerifier{s}, nil
}

func (s *edSig) Update(p []byte) error {
	var err error
	s.buf, err = appendBounded(s.buf, p)
	return err
}

func (s *edSig) Final() ([]byte, error) { return ed25519.Sign(s.priv, s.buf), nil }

func (s *edSig) Len() int { return ed25519.SignatureSize }

// edVerifier adapts edSig to VerifyOp, whose Final takes the signature.
type edVerifier struct{ *edSig }

func (v edVerifier) Final(sig []byte) error {
	if len(sig) != ed25519.SignatureSize {
		return errSignatureLen
	}
	if !ed25519.Verify(v.pub, v.buf, sig) {
		return errSignature
	}
	return nil
}
