package mech

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"

	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

// marshalPKCS8 encodes a private key as PKCS#8 PrivateKeyInfo DER, the
// payload SoftHSMv2 and OpenSC use for wrapped private keys.
func marshalPKCS8(k *Key) ([]byte, error) {
	var priv any
	switch {
	case k.PQ != nil:
		return marshalPQPKCS8(k.PQ)
	case k.RSA != nil:
		priv = k.RSA
	case k.EC != nil:
		priv = k.EC
	case k.Ed != nil:
		priv = k.Ed
	default:
		return nil, errNotWrappable
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, errNotWrappable
	}
	return der, nil
}

// derLen returns the length of the DER TLV starting b (definite lengths up
// to four length octets), or -1.
func derLen(b []byte) int {
	if len(b) < 2 {
		return -1
	}
	n, hdr := int(b[1]), 2
	if n >= 0x80 {
		octets := n & 0x7f
		if octets == 0 || octets > 4 || len(b) < 2+octets {
			return -1
		}
		n = 0
		for _, o := range b[2 : 2+octets] {
			n = n<<8 | int(o)
		}
		hdr += octets
	}
	if hdr+n > len(b) {
		return -1
	}
	return hdr + n
}

// parsePKCS8 parses a PrivateKeyInfo that may be followed by up to seven
// zero bytes: SoftHSMv2 2.6.1 zero-pads the payload to a multiple of 8
// before KW/KWP (so the KWP MLI is the padded length), and so does our own
// KW wrap. The DER's own length decides where the key ends.
func parsePKCS8(b []byte, keyType uint) (*Key, error) {
	if IsPQKeyType(keyType) {
		return parsePQPKCS8(b, keyType, 0)
	}
	n := derLen(b)
	if n < 0 || len(b)-n > 7 || b[0] != 0x30 {
		return nil, errWrappedKey
	}
	for _, z := range b[n:] {
		if z != 0 {
			return nil, errWrappedKey
		}
	}
	priv, err := x509.ParsePKCS8PrivateKey(b[:n])
	if err != nil {
		return nil, errWrappedKey
	}
	var k *Key
	switch priv := priv.(type) {
	case *rsa.PrivateKey:
		if len(priv.Primes) != 2 {
			return nil, errWrappedKey
		}
		k = rsaKey(priv)
	case *ecdsa.PrivateKey:
		if curveOf(priv.Curve) == nil {
			return nil, errCurve
		}
		k = ecKey(priv)
	case ed25519.PrivateKey:
		k = edKey(priv)
	default:
		return nil, errWrappedKey
	}
	if k.KeyType != keyType {
		return nil, errTmplInconsist
	}
	return k, nil
}

// isPrivateType reports the key types Unwrap builds from PKCS#8.
func isPrivateType(t uint) bool {
	return t == pkcs11.CKK_RSA || t == pkcs11.CKK_EC || t == ck.CKK_EC_EDWARDS || IsPQKeyType(t)
}
