package softhsmtest

import "github.com/miekg/pkcs11"

// Expected describes one object a population created, as the token must
// report it. Flags not applicable to a class (Extractable on a public key,
// Sign on a public key, ...) are false and must not be asserted.
type Expected struct {
	Label   string
	ID      string // lowercase hex CKA_ID; "" for data objects (they have none)
	Class   uint   // CKO_*
	KeyType uint   // CKK_*; meaningful only when IsKey (CKK_RSA is 0)

	Bits  int    // RSA modulus bits, EC field bits, 256 for Ed25519, 8*Len for secrets
	Len   int    // secret key length in bytes (CKA_VALUE_LEN)
	Curve string // "P-256", "P-384", "Ed25519" for EC and EdDSA keys

	Extractable, Sensitive, Private              bool
	Local, AlwaysSensitive, NeverExtractable     bool
	Sign, Verify, Encrypt, Decrypt, Wrap, Unwrap bool
	Derive                                       bool
	Imported                                     bool   // created with C_CreateObject, not generated
	Application                                  string // data objects
	Value                                        []byte // value set at creation (known KEK, data, certificate DER); key values are not readable
}

// IsKey reports whether the object is a private, public or secret key.
func (e Expected) IsKey() bool {
	return e.Class == pkcs11.CKO_PRIVATE_KEY || e.Class == pkcs11.CKO_PUBLIC_KEY || e.Class == pkcs11.CKO_SECRET_KEY
}

// Find returns the expected object with this class and label.
func Find(all []Expected, class uint, label string) (Expected, bool) {
	for _, e := range all {
		if e.Class == class && e.Label == label {
			return e, true
		}
	}
	return Expected{}, false
}
