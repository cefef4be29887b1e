package mech

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"

	"github.com/miekg/pkcs11"
)

// Key is the parsed key material of one object. The engine caches it per object.
type Key struct {
	Class, KeyType uint // CKO_*, CKK_*
	Secret         []byte
	RSA            *rsa.PrivateKey
	RSAPub         *rsa.PublicKey
	EC             *ecdsa.PrivateKey
	ECPub          *ecdsa.PublicKey
	Ed             ed25519.PrivateKey
	EdPub          ed25519.PublicKey
}

var errNotSupported = pkcs11.Error(pkcs11.CKR_FUNCTION_NOT_SUPPORTED)

// ParseKey builds a Key from an object's stored attribute values.
func ParseKey(class, keyType uint, attrs map[uint][]byte) (*Key, error) { return nil, errNotSupported }

// KeyAttrs returns the attribute values describing k (the inverse of ParseKey).
func KeyAttrs(k *Key) map[uint][]byte { return nil }

// PublicAttrs returns the CKO_PUBLIC_KEY object's attributes for a private key's public half.
func PublicAttrs(k *Key) map[uint][]byte { return nil }

// SignOp is a signing or MACing operation in progress.
type SignOp interface {
	Update(p []byte) error
	Final() ([]byte, error)
	Len() int
}

// VerifyOp is a verification operation in progress.
type VerifyOp interface {
	Update(p []byte) error
	Final(sig []byte) error
}

// NewSign starts a signature or MAC operation.
func NewSign(m *pkcs11.Mechanism, k *Key) (SignOp, error) { return nil, errNotSupported }

// NewVerify starts a verification operation.
func NewVerify(m *pkcs11.Mechanism, k *Key) (VerifyOp, error) { return nil, errNotSupported }

// CipherOp is an encryption or decryption operation in progress.
type CipherOp interface {
	Update(p []byte) ([]byte, error)
	Final() ([]byte, error)
	OutLen(inLen int, final bool) int
}

// NonceSource supplies Craton's deterministic per-key GCM nonce (12 bytes).
type NonceSource func() ([]byte, error)

// NewEncrypt starts an encryption.
func NewEncrypt(m *pkcs11.Mechanism, k *Key, nonces NonceSource) (CipherOp, error) {
	return nil, errNotSupported
}

// NewDecrypt starts a decryption.
func NewDecrypt(m *pkcs11.Mechanism, k *Key) (CipherOp, error) { return nil, errNotSupported }

// DigestOp is a digest in progress.
type DigestOp interface {
	Update(p []byte) error
	Final() ([]byte, error)
	Len() int
}

// NewDigest starts a digest.
func NewDigest(m *pkcs11.Mechanism) (DigestOp, error) { return nil, errNotSupported }

// GenerateKey generates a secret key.
func GenerateKey(m *pkcs11.Mechanism, tmpl map[uint][]byte) (*Key, error) {
	return nil, errNotSupported
}

// GenerateKeyPair generates a key pair.
func GenerateKeyPair(m *pkcs11.Mechanism, pubTmpl, privTmpl map[uint][]byte) (*Key, error) {
	return nil, errNotSupported
}

// Wrap wraps target under wrapping.
func Wrap(m *pkcs11.Mechanism, wrapping *Key, target *Key) ([]byte, error) {
	return nil, errNotSupported
}

// Unwrap unwraps blob into a key of the given class and type.
func Unwrap(m *pkcs11.Mechanism, unwrapping *Key, blob []byte, class, keyType uint, valueLen int) (*Key, error) {
	return nil, errNotSupported
}

// ECDH1Params is the decoded form of CK_ECDH1_DERIVE_PARAMS.
type ECDH1Params struct {
	KDF                    uint
	SharedData, PublicData []byte
}

// ParseECDH1Params decodes a CK_ECDH1_DERIVE_PARAMS.
func ParseECDH1Params(b []byte) (kdf uint, shared, public []byte, err error) {
	return 0, nil, nil, errNotSupported
}

// Derive derives a secret key from base.
func Derive(m *pkcs11.Mechanism, base *Key, keyType uint, valueLen int) (*Key, error) {
	return nil, errNotSupported
}

// Info describes one supported mechanism.
type Info struct {
	Type     uint
	Min, Max uint
	Flags    uint
	FIPS     bool
}

// Mechanisms lists every supported mechanism, sorted by type.
func Mechanisms() []Info { return nil }

// Lookup returns the Info of mechanism t.
func Lookup(t uint) (Info, bool) { return Info{}, false }

// SelfTest is one power-on self-test.
type SelfTest struct {
	Num  int
	Name string
	Run  func() error
}

// SelfTests returns the power-on self-tests in order.
func SelfTests(integrity func() error) []SelfTest { return nil }
