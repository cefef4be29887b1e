package mech

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"hash"
	"sync/atomic"

	"github.com/miekg/pkcs11"
)

// Backend performs the RSA private-key operations, the seam through which a
// faster implementation (e.g. OpenSSL) can replace crypto/rsa. Both methods
// take the options of crypto.Signer / crypto.Decrypter: crypto.Hash (0 for a
// caller-supplied DigestInfo) or *rsa.PSSOptions for signing; nil (PKCS#1
// v1.5) or *rsa.OAEPOptions for decryption.
type Backend interface {
	RSASign(k *rsa.PrivateKey, digest []byte, opts crypto.SignerOpts) ([]byte, error)
	RSADecrypt(k *rsa.PrivateKey, ct []byte, opts crypto.DecrypterOpts) ([]byte, error)
}

// goBackend is the pure-Go default.
type goBackend struct{}

func (goBackend) RSASign(k *rsa.PrivateKey, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return k.Sign(rand.Reader, digest, opts)
}

func (goBackend) RSADecrypt(k *rsa.PrivateKey, ct []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	return k.Decrypt(rand.Reader, ct, opts)
}

var backend atomic.Value // holds backendBox

type backendBox struct{ Backend }

func init() { backend.Store(backendBox{goBackend{}}) }

// SetBackend installs b for RSA private-key operations; nil restores the
// pure-Go default.
func SetBackend(b Backend) {
	if b == nil {
		b = goBackend{}
	}
	backend.Store(backendBox{b})
}

func currentBackend() Backend { return backend.Load().(backendBox).Backend }

// RSA modulus limits, in bits (as advertised in the mechanism table).
const (
	rsaMinBits = 2048
	rsaMaxBits = 4096
)

// rsaSignHashes maps the hash-and-sign mechanisms to their hash; the PSS
// flag distinguishes CKM_SHAx_RSA_PKCS_PSS.
var rsaSignHashes = map[uint]struct {
	hash crypto.Hash
	pss  bool
}{
	pkcs11.CKM_SHA224_RSA_PKCS:     {crypto.SHA224, false},
	pkcs11.CKM_SHA256_RSA_PKCS:     {crypto.SHA256, false},
	pkcs11.CKM_SHA384_RSA_PKCS:     {crypto.SHA384, false},
	pkcs11.CKM_SHA512_RSA_PKCS:     {crypto.SHA512, false},
	pkcs11.CKM_SHA224_RSA_PKCS_PSS: {crypto.SHA224, true},
	pkcs11.CKM_SHA256_RSA_PKCS_PSS: {crypto.SHA256, true},
	pkcs11.CKM_SHA384_RSA_PKCS_PSS: {crypto.SHA384, true},
	pkcs11.CKM_SHA512_RSA_PKCS_PSS: {crypto.SHA512, true},
}

func isRSASign(t uint) bool {
	_, ok := rsaSignHashes[t]
	return ok || t == pkcs11.CKM_RSA_PKCS || t == pkcs11.CKM_RSA_PKCS_PSS
}

// rsaSig carries what sign and verify share: the running hash (nil for
// CKM_RSA_PKCS and CKM_RSA_PKCS_PSS, whose input is the DigestInfo or the
// hash) and the signature options.
type rsaSig struct {
	h      hash.Hash
	buf    []byte
	opts   crypto.SignerOpts // crypto.Hash or *rsa.PSSOptions
	pssLen int               // hash length a raw CKM_RSA_PKCS_PSS input must have
	size   int               // modulus bytes
}

func rsaPublic(k *Key) (*rsa.PublicKey, error) {
	if k == nil || k.KeyType != pkcs11.CKK_RSA || k.RSAPub == nil {
		return nil, errKeyType
	}
	if b := k.RSAPub.N.BitLen(); b < rsaMinBits || b > rsaMaxBits {
		return nil, errKeySize
	}
	return k.RSAPub, nil
}

func newRSASig(m *pkcs11.Mechanism, pub *rsa.PublicKey, signing bool) (*rsaSig, error) {
	s := &rsaSig{size: pub.Size()}
	if m.Mechanism == pkcs11.CKM_RSA_PKCS {
		s.opts = crypto.Hash(0)
		return s, noParam(m)
	}
	hm, hashed := rsaSignHashes[m.Mechanism]
	if hashed {
		s.h = hm.hash.New()
		s.opts = hm.hash
		if !hm.pss {
			return s, noParam(m)
		}
	}
	pss, err := pssOptions(m, hm.hash, signing)
	if err != nil {
		return nil, err
	}
	if pss.SaltLength > (pub.N.BitLen()+6)/8-pss.Hash.Size()-2 {
		return nil, errParamInvalid // longer than EMSA-PSS can hold
	}
	if !hashed {
		s.pssLen = pss.Hash.Size()
	}
	s.opts = pss
	return s, nil
}

// pssOptions decodes CK_RSA_PKCS_PSS_PARAMS. For CKM_SHAx_RSA_PKCS_PSS
// (mechHash != 0) the parameter is optional (default: MGF1 with the same
// hash, salt = hash length) and, if given, must name the same hash.
func pssOptions(m *pkcs11.Mechanism, mechHash crypto.Hash, signing bool) (*rsa.PSSOptions, error) {
	b, err := plainParam(m)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 && mechHash != 0 {
		return &rsa.PSSOptions{Hash: mechHash, SaltLength: rsa.PSSSaltLengthEqualsHash}, nil
	}
	p, err := ParsePSSParams(b)
	if err != nil {
		return nil, err
	}
	h, mgf, err := paramHashes(p.Hash, p.MGF)
	// crypto/rsa runs MGF1 with the message hash, so other pairs are refused.
	if err != nil || mgf != h || mechHash != 0 && h != mechHash {
		return nil, errParamInvalid
	}
	salt := p.SaltLen
	if salt == 0 {
		// crypto/rsa reads 0 as "auto": verification then accepts any
		// salt length, but a zero-length salt cannot be produced.
		if signing {
			return nil, errParamInvalid
		}
		salt = rsa.PSSSaltLengthAuto
	}
	return &rsa.PSSOptions{Hash: h, SaltLength: salt}, nil
}

func (s *rsaSig) Update(p []byte) error {
	if s.h != nil {
		s.h.Write(p)
		return nil
	}
	var err error
	s.buf, err = appendBounded(s.buf, p)
	return err
}

// digest returns the hash to sign or the caller's raw input.
func (s *rsaSig) digest() ([]byte, error) {
	if s.h != nil {
		return s.h.Sum(nil), nil
	}
	if s.pssLen != 0 && len(s.buf) != s.pssLen || s.pssLen == 0 && len(s.buf) > s.size-11 {
		return nil, errDataLen
	}
	return s.buf, nil
}

type rsaSigner struct {
	*rsaSig
	priv *rsa.PrivateKey
}

func newRSASign(m *pkcs11.Mechanism, k *Key) (SignOp, error) {
	pub, err := rsaPublic(k)
	if err != nil {
		return nil, err
	}
	if k.RSA == nil {
		return nil, errKeyType
	}
	s, err := newRSASig(m, pub, true)
	if err != nil {
		return nil, err
	}
	return &rsaSigner{s, k.RSA}, nil
}

func (s *rsaSigner) Final() ([]byte, error) {
	d, err := s.digest()
	if err != nil {
		return nil, err
	}
	sig, err := currentBackend().RSASign(s.priv, d, s.opts)
	if err != nil {
		return nil, errGeneral
	}
	return sig, nil
}

func (s *rsaSigner) Len() int { return s.size }

type rsaVerifier struct {
	*rsaSig
	pub *rsa.PublicKey
}

func newRSAVerify(m *pkcs11.Mechanism, k *Key) (VerifyOp, error) {
	pub, err := rsaPublic(k)
	if err != nil {
		return nil, err
	}
	s, err := newRSASig(m, pub, false)
	if err != nil {
		return nil, err
	}
	return &rsaVerifier{s, pub}, nil
}

func (v *rsaVerifier) Final(sig []byte) error {
	if len(sig) != v.size {
		return errSignatureLen
	}
	d, err := v.digest()
	if err != nil {
		return err
	}
	if pss, ok := v.opts.(*rsa.PSSOptions); ok {
		err = rsa.VerifyPSS(v.pub, pss.Hash, d, sig, pss)
	} else {
		err = rsa.VerifyPKCS1v15(v.pub, v.opts.HashFunc(), d, sig)
	}
	if err != nil {
		return errSignature
	}
	return nil
}

// newRSACipher sets up CKM_RSA_PKCS (PKCS#1 v1.5) or CKM_RSA_PKCS_OAEP
// encryption/decryption; both are single-part.
func newRSACipher(m *pkcs11.Mechanism, k *Key, dec bool) (CipherOp, error) {
	pub, err := rsaPublic(k)
	if err != nil {
		return nil, err
	}
	var oaep *rsa.OAEPOptions
	if m.Mechanism == pkcs11.CKM_RSA_PKCS_OAEP {
		if oaep, err = oaepOptions(m); err != nil {
			return nil, err
		}
	} else if err = noParam(m); err != nil {
		return nil, err
	}
	size := pub.Size()
	if !dec {
		return &oneShot{run: func(in []byte) ([]byte, error) { return rsaEncrypt(pub, oaep, in) },
			outLen: func(int) int { return size }}, nil
	}
	if k.RSA == nil {
		return nil, errKeyType
	}
	return &oneShot{run: func(in []byte) ([]byte, error) { return rsaDecrypt(k.RSA, oaep, in) },
		outLen: func(int) int { return size }}, nil
}

// oaepOptions decodes the mandatory CK_RSA_PKCS_OAEP_PARAMS. A source type
// of 0 is tolerated when there is no label (some callers leave it unset).
func oaepOptions(m *pkcs11.Mechanism) (*rsa.OAEPOptions, error) {
	p, err := oaepParams(m)
	if err != nil {
		return nil, err
	}
	h, mgf, err := paramHashes(p.Hash, p.MGF)
	if err != nil || p.Source != pkcs11.CKZ_DATA_SPECIFIED && (p.Source != 0 || len(p.Label) != 0) {
		return nil, errParamInvalid
	}
	return &rsa.OAEPOptions{Hash: h, MGFHash: mgf, Label: p.Label}, nil
}

func rsaEncrypt(pub *rsa.PublicKey, oaep *rsa.OAEPOptions, in []byte) ([]byte, error) {
	var out []byte
	var err error
	if oaep != nil {
		if len(in) > pub.Size()-2*oaep.Hash.Size()-2 {
			return nil, errDataLen
		}
		out, err = rsa.EncryptOAEPWithOptions(rand.Reader, pub, in, oaep)
	} else {
		if len(in) > pub.Size()-11 {
			return nil, errDataLen
		}
		out, err = rsa.EncryptPKCS1v15(rand.Reader, pub, in) //nolint:staticcheck // CKM_RSA_PKCS is PKCS#1 v1.5 by definition
	}
	if err != nil {
		return nil, errGeneral
	}
	return out, nil
}

func rsaDecrypt(priv *rsa.PrivateKey, oaep *rsa.OAEPOptions, in []byte) ([]byte, error) {
	if len(in) != priv.Size() {
		return nil, errEncDataLen
	}
	var opts crypto.DecrypterOpts
	if oaep != nil {
		opts = oaep
	}
	out, err := currentBackend().RSADecrypt(priv, in, opts)
	if err != nil {
		return nil, errEncData
	}
	return out, nil
}
