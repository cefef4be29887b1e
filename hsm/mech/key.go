package mech

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"math/big"
	"sync"

	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

// Key is the parsed key material of one object. The engine caches it per
// object. Keys returned by this package also cache their AES schedule; a Key
// built as a literal works too, it just recomputes it per operation.
type Key struct {
	Class, KeyType uint   // CKO_*, CKK_*
	Secret         []byte // CKK_AES, CKK_GENERIC_SECRET, CKK_SHA*_HMAC
	RSA            *rsa.PrivateKey
	RSAPub         *rsa.PublicKey
	EC             *ecdsa.PrivateKey
	ECPub          *ecdsa.PublicKey
	Ed             ed25519.PrivateKey
	EdPub          ed25519.PublicKey
	// PQ is the material of a PQC or hybrid KEM key (pqc.go).
	PQ *PQKey

	aes *aesCache
}

// aesCache holds the expanded AES key and the default (96-bit nonce,
// 128-bit tag) GCM instance, both safe for concurrent use.
type aesCache struct {
	once  sync.Once
	block cipher.Block
	gcm   cipher.AEAD
	err   error
}

// newSecretKey returns a secret Key owning value.
func newSecretKey(keyType uint, value []byte) *Key {
	k := &Key{Class: pkcs11.CKO_SECRET_KEY, KeyType: keyType, Secret: value}
	if keyType == pkcs11.CKK_AES {
		k.aes = new(aesCache)
	}
	return k
}

// aesKey returns the AES block cipher and default GCM of k. typeErr and
// sizeErr are the CK_RVs for a non-AES key and a bad length, which differ
// between ordinary use and wrapping.
func aesKey(k *Key, typeErr, sizeErr error) (cipher.Block, cipher.AEAD, error) {
	if k == nil || k.Class != pkcs11.CKO_SECRET_KEY || k.KeyType != pkcs11.CKK_AES {
		return nil, nil, typeErr
	}
	if n := len(k.Secret); n != 16 && n != 24 && n != 32 {
		return nil, nil, sizeErr
	}
	if k.aes == nil {
		return expandAES(k.Secret)
	}
	k.aes.once.Do(func() { k.aes.block, k.aes.gcm, k.aes.err = expandAES(k.Secret) })
	return k.aes.block, k.aes.gcm, k.aes.err
}

func expandAES(key []byte) (cipher.Block, cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, nil, errKeySize
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		return nil, nil, errGeneral
	}
	return b, g, nil
}

// isSecretType reports the key types held as raw secret bytes.
func isSecretType(t uint) bool {
	switch t {
	case pkcs11.CKK_AES, pkcs11.CKK_GENERIC_SECRET, pkcs11.CKK_SHA_1_HMAC, pkcs11.CKK_SHA224_HMAC,
		pkcs11.CKK_SHA256_HMAC, pkcs11.CKK_SHA384_HMAC, pkcs11.CKK_SHA512_HMAC:
		return true
	}
	return false
}

// ParseKey builds a Key from an object's stored attribute values. Missing
// components give CKR_TEMPLATE_INCOMPLETE, malformed ones
// CKR_ATTRIBUTE_VALUE_INVALID (CKR_CURVE_NOT_SUPPORTED for another curve).
func ParseKey(class, keyType uint, attrs map[uint][]byte) (*Key, error) {
	switch {
	case class == pkcs11.CKO_SECRET_KEY && isSecretType(keyType):
		return parseSecret(keyType, attrs)
	case class != pkcs11.CKO_PUBLIC_KEY && class != pkcs11.CKO_PRIVATE_KEY:
		return nil, errTmplInconsist
	case keyType == pkcs11.CKK_RSA:
		return parseRSA(class, attrs)
	case keyType == pkcs11.CKK_EC:
		return parseEC(class, attrs)
	case keyType == ck.CKK_EC_EDWARDS:
		return parseEd(class, attrs)
	case IsPQKeyType(keyType):
		return parsePQ(class, keyType, attrs)
	}
	return nil, errKeyType
}

// maxSecretLen bounds a stored secret (the Craton engine's CKA_VALUE limit).
const maxSecretLen = 8192

func need(attrs map[uint][]byte, t uint) ([]byte, error) {
	v := attrs[t]
	if len(v) == 0 {
		return nil, errTmplIncomplete
	}
	return v, nil
}

func parseSecret(keyType uint, attrs map[uint][]byte) (*Key, error) {
	v, err := need(attrs, pkcs11.CKA_VALUE)
	if err != nil {
		return nil, err
	}
	if n := len(v); keyType == pkcs11.CKK_AES && n != 16 && n != 24 && n != 32 || n > maxSecretLen {
		return nil, errAttrValue
	}
	return newSecretKey(keyType, append([]byte(nil), v...)), nil
}

// bigAttrs reads big-endian integer attributes; all must be present.
func bigAttrs(attrs map[uint][]byte, types ...uint) ([]*big.Int, error) {
	out := make([]*big.Int, len(types))
	for i, t := range types {
		v, err := need(attrs, t)
		if err != nil {
			return nil, err
		}
		out[i] = new(big.Int).SetBytes(v)
	}
	return out, nil
}

func parseRSA(class uint, attrs map[uint][]byte) (*Key, error) {
	nv, err := bigAttrs(attrs, pkcs11.CKA_MODULUS, pkcs11.CKA_PUBLIC_EXPONENT)
	if err != nil {
		return nil, err
	}
	e := nv[1]
	if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 || e.Bit(0) == 0 {
		return nil, errAttrValue
	}
	pub := rsa.PublicKey{N: nv[0], E: int(e.Int64())}
	if class == pkcs11.CKO_PUBLIC_KEY {
		return &Key{Class: class, KeyType: pkcs11.CKK_RSA, RSAPub: &pub}, nil
	}
	// The CRT values are derived from d, p and q; stored ones are not trusted.
	dpq, err := bigAttrs(attrs, pkcs11.CKA_PRIVATE_EXPONENT, pkcs11.CKA_PRIME_1, pkcs11.CKA_PRIME_2)
	if err != nil {
		return nil, err
	}
	priv := &rsa.PrivateKey{PublicKey: pub, D: dpq[0], Primes: dpq[1:]}
	if err := priv.Validate(); err != nil {
		return nil, errAttrValue
	}
	priv.Precompute()
	return rsaKey(priv), nil
}

// rsaKey wraps an RSA private key (the public half is filled in too).
func rsaKey(priv *rsa.PrivateKey) *Key {
	return &Key{Class: pkcs11.CKO_PRIVATE_KEY, KeyType: pkcs11.CKK_RSA, RSA: priv, RSAPub: &priv.PublicKey}
}

func parseEC(class uint, attrs map[uint][]byte) (*Key, error) {
	params, err := need(attrs, pkcs11.CKA_EC_PARAMS)
	if err != nil {
		return nil, err
	}
	c, ed, err := parseECParams(params)
	if err != nil {
		return nil, err
	}
	if ed {
		return nil, errAttrValue
	}
	if class == pkcs11.CKO_PUBLIC_KEY {
		pt, err := need(attrs, pkcs11.CKA_EC_POINT)
		if err != nil {
			return nil, err
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(c.ec, unwrapPoint(pt, c.pointLen()))
		if err != nil {
			return nil, errAttrValue
		}
		return &Key{Class: class, KeyType: pkcs11.CKK_EC, ECPub: pub}, nil
	}
	d, err := need(attrs, pkcs11.CKA_VALUE)
	if err != nil {
		return nil, err
	}
	priv, err := ecdsa.ParseRawPrivateKey(c.ec, fixedScalar(d, c.size))
	if err != nil {
		return nil, errAttrValue
	}
	return ecKey(priv), nil
}

// fixedScalar left-pads or strips leading zeros so that d is exactly size
// bytes (other producers store the scalar as a minimal big-endian integer).
// A value that does not fit is returned as is and fails to parse.
func fixedScalar(d []byte, size int) []byte {
	for len(d) > size && d[0] == 0 {
		d = d[1:]
	}
	if len(d) >= size {
		return d
	}
	out := make([]byte, size)
	copy(out[size-len(d):], d)
	return out
}

func ecKey(priv *ecdsa.PrivateKey) *Key {
	return &Key{Class: pkcs11.CKO_PRIVATE_KEY, KeyType: pkcs11.CKK_EC, EC: priv, ECPub: &priv.PublicKey}
}

func parseEd(class uint, attrs map[uint][]byte) (*Key, error) {
	if params, ok := attrs[pkcs11.CKA_EC_PARAMS]; ok {
		if _, ed, err := parseECParams(params); err != nil || !ed {
			return nil, errCurve
		}
	}
	if class == pkcs11.CKO_PUBLIC_KEY {
		pt, err := need(attrs, pkcs11.CKA_EC_POINT)
		if err != nil {
			return nil, err
		}
		pub := unwrapPoint(pt, ed25519.PublicKeySize)
		if pub == nil {
			return nil, errAttrValue
		}
		return &Key{Class: class, KeyType: ck.CKK_EC_EDWARDS, EdPub: append(ed25519.PublicKey(nil), pub...)}, nil
	}
	seed, err := need(attrs, pkcs11.CKA_VALUE)
	if err != nil {
		return nil, err
	}
	if len(seed) != ed25519.SeedSize {
		return nil, errAttrValue
	}
	return edKey(ed25519.NewKeyFromSeed(seed)), nil
}

func edKey(priv ed25519.PrivateKey) *Key {
	return &Key{Class: pkcs11.CKO_PRIVATE_KEY, KeyType: ck.CKK_EC_EDWARDS, Ed: priv, EdPub: priv.Public().(ed25519.PublicKey)}
}

// KeyAttrs returns the attribute values describing k, the inverse of
// ParseKey: for secrets CKA_VALUE and CKA_VALUE_LEN; for RSA private keys all
// CRT components plus modulus and public exponent; for RSA public keys also
// CKA_MODULUS_BITS; for EC/Ed25519 CKA_EC_PARAMS (OID DER) plus CKA_EC_POINT
// (DER OCTET STRING) on public keys and CKA_VALUE (fixed-length scalar /
// 32-byte seed) on private keys.
func KeyAttrs(k *Key) map[uint][]byte {
	switch {
	case k.Class == pkcs11.CKO_SECRET_KEY:
		return map[uint][]byte{
			pkcs11.CKA_VALUE:     append([]byte(nil), k.Secret...),
			pkcs11.CKA_VALUE_LEN: ulongBytes(uint64(len(k.Secret))),
		}
	case k.Class == pkcs11.CKO_PUBLIC_KEY:
		return PublicAttrs(k)
	case k.PQ != nil:
		return pqKeyAttrs(k)
	case k.RSA != nil:
		return rsaPrivateAttrs(k.RSA)
	case k.EC != nil:
		d, _ := k.EC.Bytes() // fixed length; cannot fail for a parsed key
		return map[uint][]byte{pkcs11.CKA_EC_PARAMS: bytes.Clone(curveOf(k.EC.Curve).oid), pkcs11.CKA_VALUE: d}
	case k.Ed != nil:
		return map[uint][]byte{pkcs11.CKA_EC_PARAMS: bytes.Clone(oidEd25519), pkcs11.CKA_VALUE: k.Ed.Seed()}
	}
	return nil
}

func rsaPrivateAttrs(priv *rsa.PrivateKey) map[uint][]byte {
	p, q := priv.Primes[0], priv.Primes[1]
	one := big.NewInt(1)
	dp := new(big.Int).Mod(priv.D, new(big.Int).Sub(p, one))
	dq := new(big.Int).Mod(priv.D, new(big.Int).Sub(q, one))
	qinv := new(big.Int).ModInverse(q, p)
	return map[uint][]byte{
		pkcs11.CKA_MODULUS:          priv.N.Bytes(),
		pkcs11.CKA_PUBLIC_EXPONENT:  big.NewInt(int64(priv.E)).Bytes(),
		pkcs11.CKA_PRIVATE_EXPONENT: priv.D.Bytes(),
		pkcs11.CKA_PRIME_1:          p.Bytes(),
		pkcs11.CKA_PRIME_2:          q.Bytes(),
		pkcs11.CKA_EXPONENT_1:       dp.Bytes(),
		pkcs11.CKA_EXPONENT_2:       dq.Bytes(),
		pkcs11.CKA_COEFFICIENT:      qinv.Bytes(),
	}
}

// PublicAttrs returns the attributes of the CKO_PUBLIC_KEY object holding
// the public half of k (k may be the private or the public key); nil for
// secret keys.
func PublicAttrs(k *Key) map[uint][]byte {
	switch {
	case k.PQ != nil:
		return pqPublicAttrs(k)
	case k.RSAPub != nil:
		return map[uint][]byte{
			pkcs11.CKA_MODULUS:         k.RSAPub.N.Bytes(),
			pkcs11.CKA_PUBLIC_EXPONENT: big.NewInt(int64(k.RSAPub.E)).Bytes(),
			pkcs11.CKA_MODULUS_BITS:    ulongBytes(uint64(k.RSAPub.N.BitLen())),
		}
	case k.ECPub != nil:
		pt, _ := k.ECPub.Bytes() // uncompressed; cannot fail for a parsed key
		return map[uint][]byte{pkcs11.CKA_EC_PARAMS: bytes.Clone(curveOf(k.ECPub.Curve).oid), pkcs11.CKA_EC_POINT: derOctetString(pt)}
	case k.EdPub != nil:
		return map[uint][]byte{pkcs11.CKA_EC_PARAMS: bytes.Clone(oidEd25519), pkcs11.CKA_EC_POINT: derOctetString(k.EdPub)}
	}
	return nil
}
