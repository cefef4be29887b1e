package verify

import (
	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/inventory"
	"github.com/miekg/pkcs11"
)

// mechNeed is one row of the workload table: a key of KeyType with usage
// Usage needs ANY ONE of Mechs on the target.
type mechNeed struct {
	KeyType string // inventory key type name (RSA, EC, EC_EDWARDS, AES, GENERIC_SECRET)
	Usage   string // sign, decrypt, wrap, derive (verify/encrypt/unwrap count as their pair)
	Purpose string
	Mechs   []uint
}

// mechTable is the documented mapping from migrated keys to mechanisms
// (item 2). The first mechanism of each row is what applications use most
// and what items 4 and 5 exercise.
//
//	RSA sign        CKM_SHA256_RSA_PKCS | CKM_RSA_PKCS_PSS | CKM_SHA256_RSA_PKCS_PSS | CKM_RSA_PKCS
//	RSA decrypt     CKM_RSA_PKCS_OAEP | CKM_RSA_PKCS
//	RSA wrap        CKM_RSA_PKCS_OAEP | CKM_RSA_PKCS
//	EC sign         CKM_ECDSA | CKM_ECDSA_SHA256
//	EC derive       CKM_ECDH1_DERIVE
//	Ed25519 sign    CKM_EDDSA
//	AES encrypt     CKM_AES_GCM | CKM_AES_CBC_PAD | CKM_AES_CBC | CKM_AES_CTR
//	AES wrap        CKM_AES_KEY_WRAP_PAD | CKM_AES_KEY_WRAP
//	AES sign (MAC)  CKM_AES_CMAC
//	HMAC sign       CKM_SHA256_HMAC | CKM_SHA384_HMAC | CKM_SHA512_HMAC | CKM_SHA_1_HMAC
var mechTable = []mechNeed{
	{"RSA", "sign", "RSA sign/verify", []uint{pkcs11.CKM_SHA256_RSA_PKCS, pkcs11.CKM_RSA_PKCS_PSS, pkcs11.CKM_SHA256_RSA_PKCS_PSS, pkcs11.CKM_RSA_PKCS}},
	{"RSA", "decrypt", "RSA encrypt/decrypt", []uint{pkcs11.CKM_RSA_PKCS_OAEP, pkcs11.CKM_RSA_PKCS}},
	{"RSA", "wrap", "RSA key wrap", []uint{pkcs11.CKM_RSA_PKCS_OAEP, pkcs11.CKM_RSA_PKCS}},
	{"EC", "sign", "ECDSA sign/verify", []uint{pkcs11.CKM_ECDSA, pkcs11.CKM_ECDSA_SHA256}},
	{"EC", "derive", "ECDH derive", []uint{pkcs11.CKM_ECDH1_DERIVE}},
	{"EC_EDWARDS", "sign", "EdDSA sign/verify", []uint{ck.CKM_EDDSA}},
	{"AES", "decrypt", "AES encrypt/decrypt", []uint{pkcs11.CKM_AES_GCM, pkcs11.CKM_AES_CBC_PAD, pkcs11.CKM_AES_CBC, pkcs11.CKM_AES_CTR}},
	{"AES", "wrap", "AES key wrap", []uint{pkcs11.CKM_AES_KEY_WRAP_PAD, pkcs11.CKM_AES_KEY_WRAP}},
	{"AES", "sign", "AES MAC", []uint{pkcs11.CKM_AES_CMAC}},
	{"GENERIC_SECRET", "sign", "HMAC sign/verify", []uint{pkcs11.CKM_SHA256_HMAC, pkcs11.CKM_SHA384_HMAC, pkcs11.CKM_SHA512_HMAC, pkcs11.CKM_SHA_1_HMAC}},
}

// usageOf reports whether a record permits usage or its pair.
func usageOf(rec inventory.Record, usage string) bool {
	switch usage {
	case "sign":
		return inventory.Is(rec.Sign) || inventory.Is(rec.Verify)
	case "decrypt":
		return inventory.Is(rec.Decrypt) || inventory.Is(rec.Encrypt)
	case "wrap":
		return inventory.Is(rec.Wrap) || inventory.Is(rec.Unwrap)
	case "derive":
		return inventory.Is(rec.Derive)
	}
	return false
}

// needsOf returns the table rows a key record triggers.
func needsOf(rec inventory.Record) []mechNeed {
	var out []mechNeed
	for _, n := range mechTable {
		if n.KeyType == rec.KeyType && usageOf(rec, n.Usage) {
			out = append(out, n)
		}
	}
	return out
}
