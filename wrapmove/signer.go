package wrapmove

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// p11Signer is a crypto.Signer (and crypto.MessageSigner) over a private
// key in a module, so that crypto/x509 can sign CSRs with keys that never
// leave the token.
type p11Signer struct {
	s       *p11.Session
	priv    pkcs11.ObjectHandle
	pub     crypto.PublicKey
	keyType string
}

var (
	_ crypto.Signer        = (*p11Signer)(nil)
	_ crypto.MessageSigner = (*p11Signer)(nil)
)

func (k *p11Signer) Public() crypto.PublicKey { return k.pub }

// SignMessage signs the whole message when the module can hash it itself:
// CKM_SHA256_RSA_PKCS for RSA and CKM_EDDSA for Ed25519. ECDSA hashes here
// and signs the digest, which is what CKM_ECDSA expects.
func (k *p11Signer) SignMessage(rand io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	switch {
	case k.keyType == KeyRSA && opts.HashFunc() == crypto.SHA256:
		return signOnce(k.s, k.priv, pkcs11.CKM_SHA256_RSA_PKCS, msg)
	case k.keyType == KeyEdwards:
		return signOnce(k.s, k.priv, ck.CKM_EDDSA, msg)
	}
	h := opts.HashFunc()
	if h == 0 || !h.Available() {
		return nil, fmt.Errorf("p11Signer: no hash for %s", k.keyType)
	}
	d := h.New()
	d.Write(msg)
	return k.Sign(rand, d.Sum(nil), opts)
}

// Sign signs a digest: RSA PKCS#1 v1.5 through CKM_RSA_PKCS over the
// DigestInfo, ECDSA through CKM_ECDSA with the r‖s result converted to
// ASN.1, Ed25519 (no pre-hash: the "digest" is the message) through
// CKM_EDDSA.
func (k *p11Signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	switch k.keyType {
	case KeyRSA:
		prefix, ok := digestInfoPrefix[opts.HashFunc()]
		if !ok {
			return nil, fmt.Errorf("p11Signer: RSA with %v is not supported", opts.HashFunc())
		}
		return signOnce(k.s, k.priv, pkcs11.CKM_RSA_PKCS, append(append([]byte{}, prefix...), digest...))
	case KeyEC:
		rs, err := signOnce(k.s, k.priv, pkcs11.CKM_ECDSA, digest)
		if err != nil {
			return nil, err
		}
		return ecdsaASN1(rs)
	case KeyEdwards:
		if opts.HashFunc() != 0 {
			return nil, errors.New("p11Signer: Ed25519 signs the message, not a digest")
		}
		return signOnce(k.s, k.priv, ck.CKM_EDDSA, digest)
	}
	return nil, fmt.Errorf("p11Signer: key type %s cannot sign", k.keyType)
}

// digestInfoPrefix is the DER DigestInfo header per hash (RFC 8017 §9.2).
var digestInfoPrefix = map[crypto.Hash][]byte{
	crypto.SHA256: mustHex("3031300d060960864801650304020105000420"),
	crypto.SHA384: mustHex("3041300d060960864801650304020205000430"),
	crypto.SHA512: mustHex("3051300d060960864801650304020305000440"),
}

// ecdsaASN1 converts PKCS#11's r‖s to the ASN.1 SEQUENCE x509 expects.
func ecdsaASN1(rs []byte) ([]byte, error) {
	if len(rs) == 0 || len(rs)%2 != 0 {
		return nil, fmt.Errorf("p11Signer: ECDSA signature of %d bytes", len(rs))
	}
	n := len(rs) / 2
	return asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(rs[:n]), new(big.Int).SetBytes(rs[n:])})
}

// publicKeyOf builds the Go public key of a public-key object.
func publicKeyOf(s *p11.Session, h pkcs11.ObjectHandle, keyType string) (crypto.PublicKey, error) {
	a, err := p11.ReadAttrs(s.M, s.H, h, pkcs11.CKA_MODULUS, pkcs11.CKA_PUBLIC_EXPONENT, pkcs11.CKA_EC_PARAMS, pkcs11.CKA_EC_POINT)
	if err != nil {
		return nil, err
	}
	switch keyType {
	case KeyRSA:
		e := new(big.Int).SetBytes(a.Bytes(pkcs11.CKA_PUBLIC_EXPONENT))
		return &rsa.PublicKey{N: new(big.Int).SetBytes(a.Bytes(pkcs11.CKA_MODULUS)), E: int(e.Int64())}, nil
	case KeyEC:
		curve, _ := curveOf(a.Bytes(pkcs11.CKA_EC_PARAMS))
		c := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}[curve]
		if c == nil {
			return nil, fmt.Errorf("unsupported EC curve %x", a.Bytes(pkcs11.CKA_EC_PARAMS))
		}
		return ecdsa.ParseUncompressedPublicKey(c, rawECPoint(a.Bytes(pkcs11.CKA_EC_POINT)))
	case KeyEdwards:
		pt := rawECPoint(a.Bytes(pkcs11.CKA_EC_POINT))
		if len(pt) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("Ed25519 public key of %d bytes", len(pt))
		}
		return ed25519.PublicKey(pt), nil
	}
	return nil, fmt.Errorf("key type %s has no Go public key", keyType)
}
