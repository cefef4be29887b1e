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

	// CKK_CRATON_HYBRID_X25519_ML_KEM is this engine's key type for the
	// X25519 + ML-KEM hybrid KEM key pairs (reference §5.3). Craton's Rust
	// engine defines no key type for them (its hybrid is unreachable); the
	// value mirrors CKM_CRATON_HYBRID_X25519_MLKEM768 and is ours alone.
	// CKA_PARAMETER_SET says which ML-KEM set is inside (CKP_ML_KEM_768/1024).
	CKK_CRATON_HYBRID_X25519_ML_KEM = 0x80000040

	// CKA_CRATON_KEM_CIPHERTEXT is this engine's output attribute for KEM
	// encapsulation through C_DeriveKey (PKCS#11 3.0 callers, docs/pqc.md):
	// C_DeriveKey with an ML-KEM or hybrid KEM mechanism on a PUBLIC key
	// creates the shared-secret key and stores the ciphertext the peer
	// needs in this read-only, non-secret attribute of the new key.
	CKA_CRATON_KEM_CIPHERTEXT = 0x80000101

	// CKA_CRATON_EC_PRIVATE_VALUE holds the P-256 scalar of the ECDSA half
	// of an ML-DSA-65 private key made for CKM_CRATON_HYBRID_ML_DSA_ECDSA
	// (its public object has CKA_EC_PARAMS and CKA_EC_POINT). Secret like
	// CKA_VALUE. Craton's Rust engine keeps the scalar in CKA_EC_POINT,
	// where any caller could read it; this engine does not (docs/pqc.md).
	CKA_CRATON_EC_PRIVATE_VALUE = 0x80000102
)

// PKCS#11 3.2 post-quantum codes. Every value below was checked against the
// OASIS PKCS#11 3.2 headers, published/3-02/pkcs11t.h in
// github.com/oasis-tcs/pkcs11 (commit 1c31190, "PKCS #11 Specification
// Version 3.2"): mechanisms lines 1216-1234, key types 439-441, attributes
// 643-674, CKF_ENCAPSULATE/DECAPSULATE 1314-1315, CKR 1455, CKH_* and
// CK_SIGN_ADDITIONAL_CONTEXT 2703-2712, CKP_* 2724-2747.
//
// Note: 0x0F (CKM_ML_KEM_KEY_PAIR_GEN) is unassigned in v2.40 and v3.0
// (CKM_RSA_PKCS_OAEP_TPM_1_1 is 0x4002 in every version), so MechName has no
// clash to resolve there; where 3.2 and older names could differ, MechName
// prefers the 3.2 name because extraMech is consulted first.
const (
	CKM_ML_KEM_KEY_PAIR_GEN  = 0x0000000F
	CKM_ML_KEM               = 0x00000017
	CKM_ML_DSA_KEY_PAIR_GEN  = 0x0000001C
	CKM_ML_DSA               = 0x0000001D
	CKM_SLH_DSA_KEY_PAIR_GEN = 0x0000002D
	CKM_SLH_DSA              = 0x0000002E

	CKK_ML_KEM  = 0x00000049
	CKK_ML_DSA  = 0x0000004A
	CKK_SLH_DSA = 0x0000004B

	CKA_PARAMETER_SET        = 0x0000061D
	CKA_ENCAPSULATE_TEMPLATE = 0x0000062A
	CKA_DECAPSULATE_TEMPLATE = 0x0000062B
	CKA_ENCAPSULATE          = 0x00000633
	CKA_DECAPSULATE          = 0x00000634
	CKA_SEED                 = 0x00000637

	CKF_ENCAPSULATE = 0x10000000
	CKF_DECAPSULATE = 0x20000000

	CKR_PARAMETER_SET_NOT_SUPPORTED = 0x00000209

	// CK_HEDGE_TYPE values of CK_SIGN_ADDITIONAL_CONTEXT.hedgeVariant.
	CKH_HEDGE_PREFERRED        = 0x00000000
	CKH_HEDGE_REQUIRED         = 0x00000001
	CKH_DETERMINISTIC_REQUIRED = 0x00000002

	// CK_ML_KEM_PARAMETER_SET_TYPE.
	CKP_ML_KEM_512  = 0x00000001
	CKP_ML_KEM_768  = 0x00000002
	CKP_ML_KEM_1024 = 0x00000003

	// CK_ML_DSA_PARAMETER_SET_TYPE.
	CKP_ML_DSA_44 = 0x00000001
	CKP_ML_DSA_65 = 0x00000002
	CKP_ML_DSA_87 = 0x00000003

	// CK_SLH_DSA_PARAMETER_SET_TYPE.
	CKP_SLH_DSA_SHA2_128S  = 0x00000001
	CKP_SLH_DSA_SHAKE_128S = 0x00000002
	CKP_SLH_DSA_SHA2_128F  = 0x00000003
	CKP_SLH_DSA_SHAKE_128F = 0x00000004
	CKP_SLH_DSA_SHA2_192S  = 0x00000005
	CKP_SLH_DSA_SHAKE_192S = 0x00000006
	CKP_SLH_DSA_SHA2_192F  = 0x00000007
	CKP_SLH_DSA_SHAKE_192F = 0x00000008
	CKP_SLH_DSA_SHA2_256S  = 0x00000009
	CKP_SLH_DSA_SHAKE_256S = 0x0000000A
	CKP_SLH_DSA_SHA2_256F  = 0x0000000B
	CKP_SLH_DSA_SHAKE_256F = 0x0000000C
)

// extra names for the codes above; the generated tables cover the rest.
var (
	extraRV = map[uint]string{
		CKR_PIN_TOO_WEAK: "CKR_PIN_TOO_WEAK", CKR_PUBLIC_KEY_INVALID: "CKR_PUBLIC_KEY_INVALID",
		CKR_FUNCTION_REJECTED: "CKR_FUNCTION_REJECTED", CKR_TOKEN_RESOURCE_EXCEEDED: "CKR_TOKEN_RESOURCE_EXCEEDED",
		CKR_OPERATION_CANCEL_FAILED:     "CKR_OPERATION_CANCEL_FAILED",
		CKR_PARAMETER_SET_NOT_SUPPORTED: "CKR_PARAMETER_SET_NOT_SUPPORTED",
	}
	extraMech = map[uint]string{
		CKM_EC_EDWARDS_KEY_PAIR_GEN: "CKM_EC_EDWARDS_KEY_PAIR_GEN", CKM_EC_MONTGOMERY_KEY_PAIR_GEN: "CKM_EC_MONTGOMERY_KEY_PAIR_GEN",
		CKM_EDDSA: "CKM_EDDSA", CKM_AES_KEY_WRAP_KWP: "CKM_AES_KEY_WRAP_KWP",
		CKM_CRATON_ML_KEM_512: "CKM_ML_KEM_512", CKM_CRATON_ML_KEM_768: "CKM_ML_KEM_768", CKM_CRATON_ML_KEM_1024: "CKM_ML_KEM_1024",
		CKM_CRATON_ML_DSA_44: "CKM_ML_DSA_44", CKM_CRATON_ML_DSA_65: "CKM_ML_DSA_65", CKM_CRATON_ML_DSA_87: "CKM_ML_DSA_87",
		CKM_CRATON_SLH_DSA_SHA2_128S: "CKM_SLH_DSA_SHA2_128S", CKM_CRATON_SLH_DSA_SHA2_256S: "CKM_SLH_DSA_SHA2_256S",
		CKM_CRATON_HYBRID_ML_DSA_ECDSA: "CKM_HYBRID_ML_DSA_ECDSA", CKM_CRATON_HYBRID_X25519_MLKEM768: "CKM_HYBRID_X25519_ML_KEM_768",
		CKM_CRATON_HYBRID_X25519_MLKEM1024: "CKM_HYBRID_X25519_ML_KEM_1024",
		// PKCS#11 3.2 (preferred over any older name of the same value).
		CKM_ML_KEM_KEY_PAIR_GEN: "CKM_ML_KEM_KEY_PAIR_GEN", CKM_ML_KEM: "CKM_ML_KEM",
		CKM_ML_DSA_KEY_PAIR_GEN: "CKM_ML_DSA_KEY_PAIR_GEN", CKM_ML_DSA: "CKM_ML_DSA",
		CKM_SLH_DSA_KEY_PAIR_GEN: "CKM_SLH_DSA_KEY_PAIR_GEN", CKM_SLH_DSA: "CKM_SLH_DSA",
	}
	extraAttr = map[uint]string{
		CKA_UNIQUE_ID: "CKA_UNIQUE_ID", CKA_VENDOR_FIPS_APPROVED: "CKA_VENDOR_FIPS_APPROVED",
		CKA_PARAMETER_SET: "CKA_PARAMETER_SET", CKA_ENCAPSULATE_TEMPLATE: "CKA_ENCAPSULATE_TEMPLATE",
		CKA_DECAPSULATE_TEMPLATE: "CKA_DECAPSULATE_TEMPLATE", CKA_ENCAPSULATE: "CKA_ENCAPSULATE",
		CKA_DECAPSULATE: "CKA_DECAPSULATE", CKA_SEED: "CKA_SEED",
		CKA_CRATON_KEM_CIPHERTEXT: "CKA_CRATON_KEM_CIPHERTEXT", CKA_CRATON_EC_PRIVATE_VALUE: "CKA_CRATON_EC_PRIVATE_VALUE",
	}
	// The vendor key types carry a CRATON infix so that they do not print
	// like the 3.2 standard CKK_ML_KEM (0x49) etc.
	extraKey = map[uint]string{
		CKK_EC_EDWARDS: "CKK_EC_EDWARDS", CKK_EC_MONTGOMERY: "CKK_EC_MONTGOMERY",
		CKK_CRATON_ML_KEM: "CKK_CRATON_ML_KEM", CKK_CRATON_ML_DSA: "CKK_CRATON_ML_DSA", CKK_CRATON_SLH_DSA: "CKK_CRATON_SLH_DSA",
		CKK_CRATON_HYBRID_X25519_ML_KEM: "CKK_CRATON_HYBRID_X25519_ML_KEM",
		CKK_ML_KEM:                      "CKK_ML_KEM", CKK_ML_DSA: "CKK_ML_DSA", CKK_SLH_DSA: "CKK_SLH_DSA",
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
