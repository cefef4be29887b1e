package mech

import (
	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

// pqcTable lists the PQC and hybrid mechanisms for C_GetMechanismInfo. None
// is FIPS-approved in Craton's mechanism table (reference §1.1, §17 #17),
// so FIPS-approved-only mode hides them all (docs/fips-mode.md).
//
// Vendor codes keep Craton's Min/Max, which are parameter-set numbers
// (512-1024, 44-87, 128-256); their flags add what this engine can also do
// with them (C_EncapsulateKey/C_DecapsulateKey, hybrid key generation). The
// 3.2 codes give the public-key length range in bytes, as the 3.2
// specification says.
func pqcTable() []Info {
	const (
		kem  = pkcs11.CKF_DERIVE | ck.CKF_ENCAPSULATE | ck.CKF_DECAPSULATE
		gkp  = pkcs11.CKF_GENERATE_KEY_PAIR
		sigs = pkcs11.CKF_SIGN | pkcs11.CKF_VERIFY
	)
	return []Info{
		{ck.CKM_CRATON_ML_KEM_512, 512, 1024, gkp | kem, false},
		{ck.CKM_CRATON_ML_KEM_768, 512, 1024, gkp | kem, false},
		{ck.CKM_CRATON_ML_KEM_1024, 512, 1024, gkp | kem, false},
		{ck.CKM_CRATON_ML_DSA_44, 44, 87, gkp | sigs, false},
		{ck.CKM_CRATON_ML_DSA_65, 44, 87, gkp | sigs, false},
		{ck.CKM_CRATON_ML_DSA_87, 44, 87, gkp | sigs, false},
		{ck.CKM_CRATON_SLH_DSA_SHA2_128S, 128, 256, gkp | sigs, false},
		{ck.CKM_CRATON_SLH_DSA_SHA2_256S, 128, 256, gkp | sigs, false},
		{ck.CKM_CRATON_HYBRID_ML_DSA_ECDSA, 256, 256, gkp | sigs, false},
		{ck.CKM_CRATON_HYBRID_X25519_MLKEM768, 768, 768, gkp | kem, false},
		{ck.CKM_CRATON_HYBRID_X25519_MLKEM1024, 1024, 1024, gkp | kem, false},
		{ck.CKM_ML_KEM_KEY_PAIR_GEN, 800, 1568, gkp, false},
		{ck.CKM_ML_KEM, 800, 1568, kem, false},
		{ck.CKM_ML_DSA_KEY_PAIR_GEN, 1312, 2592, gkp, false},
		{ck.CKM_ML_DSA, 1312, 2592, sigs, false},
		{ck.CKM_SLH_DSA_KEY_PAIR_GEN, 32, 64, gkp, false},
		{ck.CKM_SLH_DSA, 32, 64, sigs, false},
	}
}
