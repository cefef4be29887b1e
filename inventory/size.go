package inventory

import (
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

// curve is a named curve as CKA_EC_PARAMS can name it.
type curve struct {
	name      string
	bits      int
	oid       asn1.ObjectIdentifier
	printable string // RFC 8410 curves: the PrintableString form pkcs11-tool 0.23 writes
	pointLen  int    // raw public point length: uncompressed 04||X||Y, or the Edwards/Montgomery key size
}

var curves = []curve{
	{name: "P-256", bits: 256, oid: asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}, pointLen: 65},
	{name: "P-384", bits: 384, oid: asn1.ObjectIdentifier{1, 3, 132, 0, 34}, pointLen: 97},
	{name: "P-521", bits: 521, oid: asn1.ObjectIdentifier{1, 3, 132, 0, 35}, pointLen: 133},
	{name: "secp256k1", bits: 256, oid: asn1.ObjectIdentifier{1, 3, 132, 0, 10}, pointLen: 65},
	{name: "brainpoolP256r1", bits: 256, oid: asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 7}, pointLen: 65},
	{name: "brainpoolP384r1", bits: 384, oid: asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 11}, pointLen: 97},
	{name: "brainpoolP512r1", bits: 512, oid: asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 13}, pointLen: 129},
	{name: "X25519", bits: 256, oid: asn1.ObjectIdentifier{1, 3, 101, 110}, printable: "curve25519", pointLen: 32},
	{name: "X448", bits: 448, oid: asn1.ObjectIdentifier{1, 3, 101, 111}, printable: "curve448", pointLen: 56},
	{name: "Ed25519", bits: 256, oid: asn1.ObjectIdentifier{1, 3, 101, 112}, printable: "edwards25519", pointLen: 32},
	{name: "Ed448", bits: 448, oid: asn1.ObjectIdentifier{1, 3, 101, 113}, printable: "edwards448", pointLen: 57},
}

// curveOf decodes CKA_EC_PARAMS: a namedCurve OID, or for the RFC 8410
// curves also the PrintableString pkcs11-tool 0.23 writes (facts §5).
func curveOf(params []byte) (curve, bool) {
	var oid asn1.ObjectIdentifier
	if rest, err := asn1.Unmarshal(params, &oid); err == nil && len(rest) == 0 {
		for _, c := range curves {
			if c.oid.Equal(oid) {
				return c, true
			}
		}
		return curve{name: "EC-" + oid.String(), oid: oid}, false
	}
	var s string
	if rest, err := asn1.UnmarshalWithParams(params, &s, "printable"); err == nil && len(rest) == 0 {
		for _, c := range curves {
			if c.printable != "" && c.printable == s {
				return c, true
			}
		}
	}
	return curve{name: "EC-params-" + hex.EncodeToString(params)}, false
}

// keyTypeName is the CKK_ name without its prefix: RSA, EC, AES, ...
func keyTypeName(kt uint) string { return strings.TrimPrefix(ck.KeyTypeName(kt), "CKK_") }

// keyTypeByName reverses keyTypeName for the key types craton knows.
func keyTypeByName(s string) (uint, bool) {
	for _, kt := range knownKeyTypes {
		if keyTypeName(kt) == s {
			return kt, true
		}
	}
	return 0, false
}

var knownKeyTypes = []uint{pkcs11.CKK_RSA, pkcs11.CKK_DSA, pkcs11.CKK_DH, pkcs11.CKK_EC, ck.CKK_EC_EDWARDS,
	ck.CKK_EC_MONTGOMERY, pkcs11.CKK_GENERIC_SECRET, pkcs11.CKK_AES, pkcs11.CKK_DES, pkcs11.CKK_DES2,
	pkcs11.CKK_DES3, ck.CKK_CRATON_ML_KEM, ck.CKK_CRATON_ML_DSA, ck.CKK_CRATON_SLH_DSA}

// sizeOf names a key's size: RSA-2048, DSA-2048, P-256, Ed25519, AES-256,
// GENERIC_SECRET-160 (bits; 20 bytes). "" when the token does not tell.
func sizeOf(o object) string {
	a := o.a
	switch o.keyType {
	case pkcs11.CKK_RSA, pkcs11.CKK_DSA, pkcs11.CKK_DH:
		n := pkcs11.CKA_MODULUS
		if o.keyType != pkcs11.CKK_RSA {
			n = pkcs11.CKA_PRIME
		}
		if m := a.Bytes(uint(n)); len(m) > 0 {
			return fmt.Sprintf("%s-%d", keyTypeName(o.keyType), new(big.Int).SetBytes(m).BitLen())
		}
	case pkcs11.CKK_EC, ck.CKK_EC_EDWARDS, ck.CKK_EC_MONTGOMERY:
		if p := a.Bytes(pkcs11.CKA_EC_PARAMS); len(p) > 0 {
			c, _ := curveOf(p)
			return c.name
		}
	default:
		// SoftHSM reports CKA_VALUE_LEN = 0 for unwrapped secrets (facts §8):
		// 0 means unknown, not empty.
		if n, ok := a.Ulong(pkcs11.CKA_VALUE_LEN); ok && n > 0 && o.class == pkcs11.CKO_SECRET_KEY {
			return fmt.Sprintf("%s-%d", keyTypeName(o.keyType), 8*n)
		}
	}
	return ""
}

// sizeBits is the number of bits a Size names (curve size for curves),
// 0 when it names none. Record.Bits is always sizeBits(Record.Size), which
// is what lets the CSV omit it.
func sizeBits(size string) int {
	for _, c := range curves {
		if c.name == size {
			return c.bits
		}
	}
	i := strings.LastIndexByte(size, '-')
	if i < 0 {
		return 0
	}
	n, err := strconv.Atoi(size[i+1:])
	if err != nil || n < 0 || strings.HasPrefix(size, "EC-") {
		return 0
	}
	return n
}

// setSize fills Size, Bits and Bytes consistently.
func setSize(r *Record, size string) {
	r.Size, r.Bits, r.Bytes = size, sizeBits(size), 0
	if r.Class == ClassSecretKey {
		r.Bytes = r.Bits / 8
	}
}

// trimPoint unwraps CKA_EC_POINT: PKCS#11 v2.40 says DER OCTET STRING,
// v3.0 allows the raw point, SoftHSM returns DER. The raw form wins when
// its length is exactly the curve's, so a raw point that happens to parse
// as DER is not mistaken for one.
func trimPoint(point []byte, c curve) []byte {
	if c.pointLen > 0 && len(point) == c.pointLen && (c.pointLen < 64 || point[0] == 4) {
		return point
	}
	var inner []byte
	if rest, err := asn1.Unmarshal(point, &inner); err == nil && len(rest) == 0 {
		return inner
	}
	return point
}

// SetSize sets r.Size and the fields derived from it (Bits, Bytes), for
// code that builds records by hand.
func SetSize(r *Record, size string) { setSize(r, size) }
