package mech

import (
	"cmp"
	"slices"

	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

// Info describes one mechanism for C_GetMechanismInfo. Min and Max follow
// PKCS#11 units: bits for RSA, EC and generic-secret generation, bytes for
// AES and HMAC keys, 0 for digests. FIPS marks a FIPS 140-3 approved
// mechanism (for CKA_VENDOR_FIPS_APPROVED and FIPS-mode filtering).
type Info struct {
	Type     uint
	Min, Max uint
	Flags    uint
	FIPS     bool
}

const (
	signVerify = pkcs11.CKF_SIGN | pkcs11.CKF_VERIFY
	encDec     = pkcs11.CKF_ENCRYPT | pkcs11.CKF_DECRYPT
	wrapUnwrap = pkcs11.CKF_WRAP | pkcs11.CKF_UNWRAP
	ecFlags    = pkcs11.CKF_EC_F_P | pkcs11.CKF_EC_NAMEDCURVE | pkcs11.CKF_EC_UNCOMPRESS
)

var table = func() []Info {
	rsa := func(t, flags uint, fips bool) Info { return Info{t, rsaMinBits, rsaMaxBits, flags, fips} }
	ec := func(t, flags uint) Info { return Info{t, 256, 384, flags | ecFlags, true} }
	aes := func(t, flags uint) Info { return Info{t, 16, 32, flags, true} }
	digest := func(t uint, fips bool) Info { return Info{t, 0, 0, pkcs11.CKF_DIGEST, fips} }
	hmac := func(t uint, fips bool) Info { return Info{t, hmacMinKey, hmacMaxKey, signVerify, fips} }
	t := []Info{
		rsa(pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, pkcs11.CKF_GENERATE_KEY_PAIR, true),
		// Raw PKCS#1 v1.5: the caller builds the DigestInfo, and v1.5
		// encryption is no longer approved.
		rsa(pkcs11.CKM_RSA_PKCS, encDec|signVerify, false),
		rsa(pkcs11.CKM_RSA_PKCS_OAEP, encDec|wrapUnwrap, true),
		rsa(pkcs11.CKM_RSA_PKCS_PSS, signVerify, true),
		rsa(pkcs11.CKM_SHA224_RSA_PKCS, signVerify, true),
		rsa(pkcs11.CKM_SHA256_RSA_PKCS, signVerify, true),
		rsa(pkcs11.CKM_SHA384_RSA_PKCS, signVerify, true),
		rsa(pkcs11.CKM_SHA512_RSA_PKCS, signVerify, true),
		rsa(pkcs11.CKM_SHA224_RSA_PKCS_PSS, signVerify, true),
		rsa(pkcs11.CKM_SHA256_RSA_PKCS_PSS, signVerify, true),
		rsa(pkcs11.CKM_SHA384_RSA_PKCS_PSS, signVerify, true),
		rsa(pkcs11.CKM_SHA512_RSA_PKCS_PSS, signVerify, true),
		ec(pkcs11.CKM_EC_KEY_PAIR_GEN, pkcs11.CKF_GENERATE_KEY_PAIR),
		ec(pkcs11.CKM_ECDSA, signVerify),
		ec(pkcs11.CKM_ECDSA_SHA256, signVerify),
		ec(pkcs11.CKM_ECDSA_SHA384, signVerify),
		ec(pkcs11.CKM_ECDSA_SHA512, signVerify),
		ec(pkcs11.CKM_ECDH1_DERIVE, pkcs11.CKF_DERIVE),
		ec(pkcs11.CKM_ECDH1_COFACTOR_DERIVE, pkcs11.CKF_DERIVE),
		// Ed25519 is outside Craton's FIPS mode. CKM_EDDSA also generates
		// key pairs because Craton's applications use it for that.
		{ck.CKM_EC_EDWARDS_KEY_PAIR_GEN, 256, 256, pkcs11.CKF_GENERATE_KEY_PAIR, false},
		{ck.CKM_EDDSA, 256, 256, signVerify | pkcs11.CKF_GENERATE_KEY_PAIR, false},
		aes(pkcs11.CKM_AES_KEY_GEN, pkcs11.CKF_GENERATE),
		aes(pkcs11.CKM_AES_CBC, encDec),
		aes(pkcs11.CKM_AES_CBC_PAD, encDec|wrapUnwrap),
		aes(pkcs11.CKM_AES_CTR, encDec),
		aes(pkcs11.CKM_AES_GCM, encDec),
		aes(pkcs11.CKM_AES_CMAC, signVerify),
		aes(pkcs11.CKM_AES_CMAC_GENERAL, signVerify),
		aes(pkcs11.CKM_AES_KEY_WRAP, wrapUnwrap),
		aes(pkcs11.CKM_AES_KEY_WRAP_PAD, wrapUnwrap),
		aes(ck.CKM_AES_KEY_WRAP_KWP, wrapUnwrap),
		{pkcs11.CKM_GENERIC_SECRET_KEY_GEN, 8 * genericMinLen, 8 * genericMaxLen, pkcs11.CKF_GENERATE, true},
		digest(pkcs11.CKM_SHA_1, false),
		digest(pkcs11.CKM_SHA224, true),
		digest(pkcs11.CKM_SHA256, true),
		digest(pkcs11.CKM_SHA384, true),
		digest(pkcs11.CKM_SHA512, true),
		digest(pkcs11.CKM_SHA3_256, true),
		digest(pkcs11.CKM_SHA3_384, true),
		digest(pkcs11.CKM_SHA3_512, true),
		// HMAC-SHA-1 is here to check secrets migrated from SoftHSMv2,
		// whose SHA-2 HMACs refuse keys shorter than the hash; it is
		// marked non-approved with the rest of SHA-1.
		hmac(pkcs11.CKM_SHA_1_HMAC, false),
		hmac(pkcs11.CKM_SHA_1_HMAC_GENERAL, false),
		hmac(pkcs11.CKM_SHA256_HMAC, true),
		hmac(pkcs11.CKM_SHA256_HMAC_GENERAL, true),
		hmac(pkcs11.CKM_SHA384_HMAC, true),
		hmac(pkcs11.CKM_SHA384_HMAC_GENERAL, true),
		hmac(pkcs11.CKM_SHA512_HMAC, true),
		hmac(pkcs11.CKM_SHA512_HMAC_GENERAL, true),
	}
	t = append(t, pqcTable()...)
	slices.SortFunc(t, func(a, b Info) int { return cmp.Compare(a.Type, b.Type) })
	return t
}()

// Mechanisms lists every mechanism this backend supports, sorted by type.
// CKM_RSA_X_509 is deliberately absent.
func Mechanisms() []Info { return slices.Clone(table) }

// Lookup returns the Info of mechanism t.
func Lookup(t uint) (Info, bool) {
	i, ok := slices.BinarySearchFunc(table, t, func(e Info, t uint) int { return cmp.Compare(e.Type, t) })
	if !ok {
		return Info{}, false
	}
	return table[i], true
}
