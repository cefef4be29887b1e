package ck

import (
	"fmt"

	"github.com/miekg/pkcs11"
)

// PKCS#11 v3.0 codes that miekg/pkcs11 (v2.40 headers) does not define.
const (
	CKA_UNIQUE_ID = 0x00000004 // v3.0 §4.4: read-only, token-assigned

	CKK_EC_EDWARDS    = 0x00000040
	CKK_EC_MONTGOMERY = 0x00000041

	CKM_EC_EDWARDS_KEY_PAIR_GEN    = 0x00001055
	CKM_EC_MONTGOMERY_KEY_PAIR_GEN = 0x00001056
	CKM_EDDSA                      = 0x00001057

	// CKM_AES_KEY_WRAP_PAD is 0x210A (in miekg); v3.0 also names RFC 5649 KWP 0x210B.
	CKM_AES_KEY_WRAP_PAD = pkcs11.CKM_AES_KEY_WRAP_PAD
	CKM_AES_KEY_WRAP_KWP = 0x0000210B

	CKR_PIN_TOO_WEAK            = 0x000001B8
	CKR_PUBLIC_KEY_INVALID      = 0x000001B9
	CKR_FUNCTION_REJECTED       = 0x00000200
	CKR_TOKEN_RESOURCE_EXCEEDED = 0x00000201
	CKR_OPERATION_CANCEL_FAILED = 0x00000202
)

// Craton HSM vendor codes (craton-hsm-reference.md §1.1, §1.3, §2.1). Kept
// byte-identical so that applications written for Craton's Rust engine work.
const (
	CKA_VENDOR_FIPS_APPROVED = 0x80000001

	CKM_CRATON_ML_KEM_512              = 0x80000001
	CKM_CRATON_ML_KEM_768              = 0x80000002
	CKM_CRATON_ML_KEM_1024             = 0x80000003
	CKM_CRATON_ML_DSA_44               = 0x80000010
	CKM_CRATON_ML_DSA_65               = 0x80000011
	CKM_CRATON_ML_DSA_87               = 0x80000012
	CKM_CRATON_SLH_DSA_SHA2_128S       = 0x80000020
	CKM_CRATON_SLH_DSA_SHA2_256S       = 0x80000021
	CKM_CRATON_HYBRID_ML_DSA_ECDSA     = 0x80000030
	CKM_CRATON_HYBRID_X25519_MLKEM768  = 0x80000040
	CKM_CRATON_HYBRID_X25519_MLKEM1024 = 0x80000041

	CKK_CRATON_ML_KEM  = 0x80000001
	CKK_CRATON_ML_DSA  = 0x80000002
	CKK_CRATON_SLH_DSA = 0x80000003
)

// extra names for the codes above; the generated tables cover the rest.
var (
	extraRV = map[uint]string{
		CKR_PIN_TOO_WEAK: "CKR_PIN_TOO_WEAK", CKR_PUBLIC_KEY_INVALID: "CKR_PUBLIC_KEY_INVALID",
		CKR_FUNCTION_REJECTED: "CKR_FUNCTION_REJECTED", CKR_TOKEN_RESOURCE_EXCEEDED: "CKR_TOKEN_RESOURCE_EXCEEDED",
		CKR_OPERATION_CANCEL_FAILED: "CKR_OPERATION_CANCEL_FAILED",
	}
	extraMech = map[uint]string{
		CKM_EC_EDWARDS_KEY_PAIR_GEN: "CKM_EC_EDWARDS_KEY_PAIR_GEN", CKM_EC_MONTGOMERY_KEY_PAIR_GEN: "CKM_EC_MONTGOMERY_KEY_PAIR_GEN",
		CKM_EDDSA: "CKM_EDDSA", CKM_AES_KEY_WRAP_KWP: "CKM_AES_KEY_WRAP_KWP",
		CKM_CRATON_ML_KEM_512: "CKM_ML_KEM_512", CKM_CRATON_ML_KEM_768: "CKM_ML_KEM_768", CKM_CRATON_ML_KEM_1024: "CKM_ML_KEM_1024",
		CKM_CRATON_ML_DSA_44: "CKM_ML_DSA_44", CKM_CRATON_ML_DSA_65: "CKM_ML_DSA_65", CKM_CRATON_ML_DSA_87: "CKM_ML_DSA_87",
		CKM_CRATON_SLH_DSA_SHA2_128S: "CKM_SLH_DSA_SHA2_128S", CKM_CRATON_SLH_DSA_SHA2_256S: "CKM_SLH_DSA_SHA2_256S",
		CKM_CRATON_HYBRID_ML_DSA_ECDSA: "CKM_HYBRID_ML_DSA_ECDSA", CKM_CRATON_HYBRID_X25519_MLKEM768: "CKM_HYBRID_X25519_ML_KEM_768",
		CKM_CRATON_HYBRID_X25519_MLKEM1024: "CKM_HYBRID_X25519_ML_KEM_1024",
	}
	extraAttr = map[uint]string{CKA_UNIQUE_ID: "CKA_UNIQUE_ID", CKA_VENDOR_FIPS_APPROVED: "CKA_VENDOR_FIPS_APPROVED"}
	extraKey  = map[uint]string{
		CKK_EC_EDWARDS: "CKK_EC_EDWARDS", CKK_EC_MONTGOMERY: "CKK_EC_MONTGOMERY",
		CKK_CRATON_ML_KEM: "CKK_ML_KEM", CKK_CRATON_ML_DSA: "CKK_ML_DSA", CKK_CRATON_SLH_DSA: "CKK_SLH_DSA",
	}
)

func lookup(v uint, extra, gen map[uint]string, kind string) string {
	if n, ok := extra[v]; ok {
		return n
	}
	if n, ok := gen[v]; ok {
		return n
	}
	if v&0x80000000 != 0 {
		return fmt.Sprintf("%s_VENDOR_0x%08X", kind, v)
	}
	return fmt.Sprintf("%s_0x%08X", kind, v)
}

// RVName names a return value: RVName(0xA0) == "CKR_PIN_INCORRECT".
func RVName(v uint) string { return lookup(v, extraRV, genRV, "CKR") }

// MechName names a mechanism type.
func MechName(v uint) string { return lookup(v, extraMech, genMech, "CKM") }

// AttrName names an attribute type.
func AttrName(v uint) string { return lookup(v, extraAttr, genAttr, "CKA") }

// KeyTypeName names a key type.
func KeyTypeName(v uint) string { return lookup(v, extraKey, genKeyType, "CKK") }

// ClassName names an object class.
func ClassName(v uint) string { return lookup(v, nil, genClass, "CKO") }

// UserName names a user type (CKU_SO, CKU_USER).
func UserName(v uint) string { return lookup(v, nil, genUser, "CKU") }

// MechByName resolves a mechanism name ("CKM_SHA256_RSA_PKCS" or without the
// CKM_ prefix, any case) or a hex code ("0x210A") to its value.
func MechByName(s string) (uint, bool) { return byName(s, "CKM_") }

// AttrByName resolves an attribute name or hex code to its value.
func AttrByName(s string) (uint, bool) { return byName(s, "CKA_") }
