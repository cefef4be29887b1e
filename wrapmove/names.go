package wrapmove

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

// Class names used in plans, journals and reports. They are short and
// lower-case because operators edit plans by hand.
const (
	ClassPrivateKey  = "private_key"
	ClassPublicKey   = "public_key"
	ClassSecretKey   = "secret_key"
	ClassCertificate = "certificate"
	ClassData        = "data"
)

var classNames = map[uint]string{
	pkcs11.CKO_PRIVATE_KEY: ClassPrivateKey,
	pkcs11.CKO_PUBLIC_KEY:  ClassPublicKey,
	pkcs11.CKO_SECRET_KEY:  ClassSecretKey,
	pkcs11.CKO_CERTIFICATE: ClassCertificate,
	pkcs11.CKO_DATA:        ClassData,
}

// className names a CKO_ value; unknown classes keep their CK name so that
// the plan still says what was found.
func className(c uint) string {
	if n, ok := classNames[c]; ok {
		return n
	}
	return strings.ToLower(ck.ClassName(c))
}

// classValue is the inverse of className for the five classes craton moves.
func classValue(name string) (uint, bool) {
	for v, n := range classNames {
		if n == name {
			return v, true
		}
	}
	return 0, false
}

// Key type names used in plans.
const (
	KeyRSA     = "rsa"
	KeyEC      = "ec"
	KeyEdwards = "ec_edwards"
	KeyAES     = "aes"
	KeyGeneric = "generic_secret"
)

var keyTypeNames = map[uint]string{
	pkcs11.CKK_RSA:            KeyRSA,
	pkcs11.CKK_EC:             KeyEC,
	ck.CKK_EC_EDWARDS:         KeyEdwards,
	pkcs11.CKK_AES:            KeyAES,
	pkcs11.CKK_GENERIC_SECRET: KeyGeneric,
}

func keyTypeName(k uint) string {
	if n, ok := keyTypeNames[k]; ok {
		return n
	}
	return strings.ToLower(ck.KeyTypeName(k))
}

func keyTypeValue(name string) (uint, bool) {
	for v, n := range keyTypeNames {
		if n == name {
			return v, true
		}
	}
	return 0, false
}

// Curves craton knows by name, with their CKA_EC_PARAMS encodings. Ed25519
// has two encodings in the wild: the OID (RFC 8410) and the PrintableString
// "edwards25519" that pkcs11-tool 0.23 writes (facts §5); both are accepted.
var curves = []struct {
	name   string
	params [][]byte
	bits   int
}{
	{"P-256", [][]byte{mustHex("06082a8648ce3d030107")}, 256},
	{"P-384", [][]byte{mustHex("06052b81040022")}, 384},
	{"P-521", [][]byte{mustHex("06052b81040023")}, 521},
	{"Ed25519", [][]byte{mustHex("06032b6570"), mustHex("130c656477617264733235353139")}, 255},
	{"Ed448", [][]byte{mustHex("06032b6571"), mustHex("130a65647761726473343438")}, 448},
}

// curveOf names the curve of CKA_EC_PARAMS ("" when unknown).
func curveOf(params []byte) (name string, bits int) {
	for _, c := range curves {
		for _, p := range c.params {
			if bytes.Equal(p, params) {
				return c.name, c.bits
			}
		}
	}
	return "", 0
}

// curveParams returns the encodings of a named curve, preferred first.
func curveParams(name string) [][]byte {
	for _, c := range curves {
		if strings.EqualFold(c.name, name) {
			return c.params
		}
	}
	return nil
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// Identity names one source object in plans and journals without slot or
// handle numbers (both change): class, CKA_ID in hex and label.
func Identity(class, idHex, label string) string {
	return fmt.Sprintf("%s:%s:%s", class, idHex, label)
}
