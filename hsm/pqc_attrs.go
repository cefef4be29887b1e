package hsm

import (
	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/hsm/mech"
	"github.com/miekg/pkcs11"
)

// Attributes and object kinds of the PQC key types (docs/pqc.md). They are
// registered into attrTable / applicable at init so that the generic
// template, attribute and persistence code handles PQC objects unchanged.
//
//   - CKA_PARAMETER_SET (3.2) on every PQC key, both code families: a
//     generation input on the templates of CKM_*_KEY_PAIR_GEN, fixed by
//     the key material otherwise.
//   - CKA_VALUE: the encoded public key on public objects (readable,
//     reference "differ" item 16); the private key on private objects
//     (secret like every private CKA_VALUE).
//   - CKA_SEED (3.2): the ML-KEM / ML-DSA seed of 3.2-family private keys.
//   - CKA_ENCAPSULATE / CKA_DECAPSULATE (3.2): usage flags for
//     C_EncapsulateKey / C_DecapsulateKey on KEM keys.
//   - CKA_EC_PARAMS / CKA_EC_POINT / CKA_CRATON_EC_PRIVATE_VALUE: the ECDSA
//     half of an ML-DSA-65 key made for CKM_CRATON_HYBRID_ML_DSA_ECDSA.
//   - CKA_CRATON_KEM_CIPHERTEXT: on a secret key made by encapsulating
//     through C_DeriveKey, the ciphertext for the peer.
func init() {
	attrTable[ck.CKA_PARAMETER_SET] = attrSpec{kUlong, fGenInput}
	attrTable[ck.CKA_SEED] = attrSpec{kBytes, fSecret | fMaterial}
	attrTable[ck.CKA_ENCAPSULATE] = attrSpec{kBool, fSet}
	attrTable[ck.CKA_DECAPSULATE] = attrSpec{kBool, fSet}
	attrTable[ck.CKA_CRATON_KEM_CIPHERTEXT] = attrSpec{kBytes, fEngine}
	attrTable[ck.CKA_CRATON_EC_PRIVATE_VALUE] = attrSpec{kBytes, fSecret | fMaterial}

	mk := func(sets ...[]uint) map[uint]bool {
		m := map[uint]bool{}
		for _, s := range append(sets, setCommon) {
			for _, t := range s {
				m[t] = true
			}
		}
		return m
	}
	pqPub := []uint{pkcs11.CKA_VALUE, ck.CKA_PARAMETER_SET}
	pqPriv := []uint{pkcs11.CKA_VALUE, ck.CKA_PARAMETER_SET, ck.CKA_SEED}
	kemPub := append([]uint{ck.CKA_ENCAPSULATE}, pqPub...)
	kemPriv := append([]uint{ck.CKA_DECAPSULATE}, pqPriv...)
	dsaPub := append([]uint{pkcs11.CKA_EC_PARAMS, pkcs11.CKA_EC_POINT}, pqPub...)
	dsaPriv := append([]uint{pkcs11.CKA_EC_PARAMS, pkcs11.CKA_EC_POINT, ck.CKA_CRATON_EC_PRIVATE_VALUE}, pqPriv...)
	for kt, sets := range map[uint][2][]uint{
		ck.CKK_CRATON_ML_KEM:               {kemPub, kemPriv},
		ck.CKK_ML_KEM:                      {kemPub, kemPriv},
		ck.CKK_CRATON_HYBRID_X25519_ML_KEM: {kemPub, kemPriv},
		ck.CKK_CRATON_ML_DSA:               {dsaPub, dsaPriv},
		ck.CKK_ML_DSA:                      {dsaPub, dsaPriv},
		ck.CKK_CRATON_SLH_DSA:              {pqPub, pqPriv},
		ck.CKK_SLH_DSA:                     {pqPub, pqPriv},
	} {
		applicable[classKey{pkcs11.CKO_PUBLIC_KEY, kt}] = mk(setKey, setPublic, sets[0])
		applicable[classKey{pkcs11.CKO_PRIVATE_KEY, kt}] = mk(setKey, setPrivate, sets[1])
	}
	for _, kt := range []uint{pkcs11.CKK_AES, pkcs11.CKK_GENERIC_SECRET} {
		applicable[classKey{pkcs11.CKO_SECRET_KEY, kt}][ck.CKA_CRATON_KEM_CIPHERTEXT] = true
	}
}

// isKEMKeyType reports the key types that encapsulate/decapsulate.
func isKEMKeyType(kt uint) bool {
	return kt == ck.CKK_CRATON_ML_KEM || kt == ck.CKK_ML_KEM || kt == ck.CKK_CRATON_HYBRID_X25519_ML_KEM
}

// pqDefaults adjusts the defaults of a PQC key object (called by defaults):
// KEM keys derive (Craton: the decapsulation route of reference §5.2, and
// this engine's encapsulation route on the public key) and encapsulate /
// decapsulate (3.2). A private key's CKA_PARAMETER_SET is filled from the
// key material, never defaulted.
func pqDefaults(m attrMap, class, keyType uint) {
	if !isKEMKeyType(keyType) {
		return
	}
	m[pkcs11.CKA_DERIVE] = encBool(true)
	switch class {
	case pkcs11.CKO_PUBLIC_KEY:
		m[ck.CKA_ENCAPSULATE] = encBool(true)
	case pkcs11.CKO_PRIVATE_KEY:
		m[ck.CKA_DECAPSULATE] = encBool(true)
	}
}

// pqGenKeyType is genKeyType for PQC key-pair mechanisms.
func pqGenKeyType(m uint) (uint, bool) { return mech.IsPQKeyGen(m) }

// checkParamSet refuses a template CKA_PARAMETER_SET that differs from the
// one of the key material (e.g. an unwrapped PKCS#8 of another set).
func checkParamSet(tm attrMap, material map[uint][]byte) error {
	want, ok := material[ck.CKA_PARAMETER_SET]
	if v, given := tm[ck.CKA_PARAMETER_SET]; given && ok && string(v) != string(want) {
		return errTmplInconsistent
	}
	return nil
}
