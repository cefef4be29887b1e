package inventory

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"math/big"
	"time"

	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

var oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}

type algID struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type spki struct {
	Algorithm algID
	PublicKey asn1.BitString
}

// spkiOf builds the SubjectPublicKeyInfo DER of a key object from its
// public attributes, or nil when they are not all there (EC private keys:
// no CKA_EC_POINT; their fingerprint comes from the public key object).
func spkiOf(o object) []byte {
	a := o.a
	switch o.keyType {
	case pkcs11.CKK_RSA:
		n, e := a.Bytes(pkcs11.CKA_MODULUS), a.Bytes(pkcs11.CKA_PUBLIC_EXPONENT)
		if len(n) == 0 || len(e) == 0 {
			return nil
		}
		der, err := x509.MarshalPKIXPublicKey(&rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())})
		if err != nil {
			return nil
		}
		return der
	case pkcs11.CKK_EC, ck.CKK_EC_EDWARDS, ck.CKK_EC_MONTGOMERY:
		return ecSPKI(o.keyType, a.Bytes(pkcs11.CKA_EC_PARAMS), a.Bytes(pkcs11.CKA_EC_POINT))
	}
	return nil
}

// ecSPKI: id-ecPublicKey with the token's own ECParameters for CKK_EC
// (works for any named curve), the RFC 8410 OIDs without parameters for
// Edwards and Montgomery keys (whatever encoding CKA_EC_PARAMS used).
func ecSPKI(keyType uint, params, point []byte) []byte {
	if len(params) == 0 || len(point) == 0 {
		return nil
	}
	c, known := curveOf(params)
	alg := algID{Algorithm: oidECPublicKey, Parameters: asn1.RawValue{FullBytes: params}}
	if keyType != pkcs11.CKK_EC {
		if !known || c.printable == "" {
			return nil
		}
		alg = algID{Algorithm: c.oid}
	}
	raw := trimPoint(point, c)
	der, err := asn1.Marshal(spki{Algorithm: alg, PublicKey: asn1.BitString{Bytes: raw, BitLength: 8 * len(raw)}})
	if err != nil {
		return nil
	}
	return der
}

func fingerprintOf(spkiDER []byte) string {
	if spkiDER == nil {
		return ""
	}
	sum := sha256.Sum256(spkiDER)
	return hex.EncodeToString(sum[:])
}

// certFields fills the certificate columns from CKA_VALUE.
func certFields(r *Record, der []byte) error {
	if len(der) == 0 {
		return fmt.Errorf("certificate %s has no readable CKA_VALUE", r.Identity)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("certificate %q: %w", r.Label, err)
	}
	r.Fingerprint = fingerprintOf(c.RawSubjectPublicKeyInfo)
	r.Subject = EncodeText([]byte(c.Subject.String()))
	r.Issuer = EncodeText([]byte(c.Issuer.String()))
	r.Serial = serialHex(c.SerialNumber)
	r.NotAfter = c.NotAfter.UTC().Format(time.RFC3339)
	return nil
}

// serialHex writes whole bytes (an even number of hex digits) so that the
// CSV reader's hex check and any byte-wise comparison hold: a serial with
// a leading zero nibble must not lose it.
func serialHex(n *big.Int) string {
	if n.Sign() < 0 { // not allowed by RFC 5280, but seen in the wild
		return "-" + evenHex(new(big.Int).Neg(n))
	}
	return evenHex(n)
}

func evenHex(n *big.Int) string {
	s := n.Text(16)
	if len(s)%2 == 1 {
		s = "0" + s
	}
	return s
}
