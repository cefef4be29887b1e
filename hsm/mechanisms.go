package hsm

import (
	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/hsm/mech"
	"github.com/miekg/pkcs11"
)

// isPQC reports Craton's vendor PQC codes and the PKCS#11 3.2 standard ones.
func isPQC(t uint) bool {
	switch t {
	case 0x0F, 0x17, 0x1C, 0x1D, 0x2D, 0x2E: // ML-KEM, ML-DSA, SLH-DSA (3.2)
		return true
	}
	return t >= 0x80000001 && t <= 0x80000041
}

// isSHA1Signing reports signature mechanisms that hash with SHA-1.
func isSHA1Signing(t uint) bool {
	switch t {
	case pkcs11.CKM_SHA1_RSA_PKCS, pkcs11.CKM_SHA1_RSA_PKCS_PSS, pkcs11.CKM_ECDSA_SHA1, pkcs11.CKM_DSA_SHA1, pkcs11.CKM_SHA1_RSA_X9_31:
		return true
	}
	return false
}

// allowed reports whether the algorithms policy permits mechanism info i.
func (c *Ctx) allowed(i mech.Info) bool {
	switch {
	case c.set.FIPSOnly && !i.FIPS:
		return false
	case !c.set.EnablePQC && isPQC(i.Type):
		return false
	case !c.set.AllowSHA1Sign && isSHA1Signing(i.Type):
		return false
	}
	return true
}

// mechanism returns the single mechanism of a call if the policy allows
// it, else CKR_MECHANISM_INVALID.
func (c *Ctx) mechanism(m []*pkcs11.Mechanism) (*pkcs11.Mechanism, error) {
	if len(m) != 1 || m[0] == nil {
		return nil, errArgumentsBad
	}
	info, ok := mech.Lookup(m[0].Mechanism)
	if !ok || !c.allowed(info) {
		return nil, errMechInvalid
	}
	return m[0], nil
}

// mechFIPS is the fips_approved flag of the audit log.
func mechFIPS(t uint) bool {
	info, ok := mech.Lookup(t)
	return ok && info.FIPS
}

// GetMechanismList lists the mechanisms the policy allows
// (fips_approved_only, enable_pqc, allow_sha1_signing).
func (c *Ctx) GetMechanismList(slotID uint) ([]*pkcs11.Mechanism, error) {
	if err := c.rlock(); err != nil {
		return nil, err
	}
	defer c.mu.RUnlock()
	if _, err := c.tokenOf(slotID); err != nil {
		return nil, err
	}
	var out []*pkcs11.Mechanism
	for _, i := range mech.Mechanisms() {
		if c.allowed(i) {
			out = append(out, &pkcs11.Mechanism{Mechanism: i.Type})
		}
	}
	return out, nil
}

// GetMechanismInfo describes one mechanism; one the policy hides is
// CKR_MECHANISM_INVALID, as if unknown.
func (c *Ctx) GetMechanismInfo(slotID uint, m []*pkcs11.Mechanism) (pkcs11.MechanismInfo, error) {
	if err := c.rlock(); err != nil {
		return pkcs11.MechanismInfo{}, err
	}
	defer c.mu.RUnlock()
	if _, err := c.tokenOf(slotID); err != nil {
		return pkcs11.MechanismInfo{}, err
	}
	if len(m) != 1 || m[0] == nil {
		return pkcs11.MechanismInfo{}, errArgumentsBad
	}
	i, ok := mech.Lookup(m[0].Mechanism)
	if !ok || !c.allowed(i) {
		return pkcs11.MechanismInfo{}, errMechInvalid
	}
	mi := pkcs11.MechanismInfo{MinKeySize: i.Min, MaxKeySize: i.Max, Flags: i.Flags}
	if c.set.FIPSOnly {
		mi.MinKeySize = max(mi.MinKeySize, fipsMinKeySize(i.Type))
	}
	return mi, nil
}

// FIPS-approved-only mode also refuses some key sizes of approved
// mechanisms (reference §1.1, §4, §17 #17; docs/fips-mode.md). Outside FIPS
// mode these checks pass everything.
const (
	fipsMinRSAGenBits = 3072 // RSA key-pair generation
	fipsAES128        = 16   // AES key length (bytes) refused for generation and wrapping
)

// fipsMinKeySize is the smallest key size (the unit of the mechanism's
// MechanismInfo: bits for RSA, bytes for AES) the FIPS rules below leave
// to mechanism t, 0 where they do not restrict it; GetMechanismInfo reports
// it in FIPS mode.
func fipsMinKeySize(t uint) uint {
	switch t {
	case pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN:
		return fipsMinRSAGenBits
	case pkcs11.CKM_AES_KEY_GEN, pkcs11.CKM_AES_KEY_WRAP, pkcs11.CKM_AES_KEY_WRAP_PAD, ck.CKM_AES_KEY_WRAP_KWP:
		return fipsAES128 + 8 // AES-192
	case pkcs11.CKM_AES_GCM:
		return fipsAESGCMKeyLen
	}
	return 0
}

// fipsGenerate applies FIPS mode's key-size rules for generation with
// mechanism m (before any key is generated): CKM_RSA_PKCS_KEY_PAIR_GEN
// below 3072 bits (including the default 2048) and CKM_AES_KEY_GEN of 16
// bytes are CKR_MECHANISM_PARAM_INVALID, as in Craton. Sizes the engine
// does not support in any mode are left to mech (CKR_KEY_SIZE_RANGE), and
// a malformed CK_ULONG to the template checks.
func (c *Ctx) fipsGenerate(m uint, tm attrMap) error {
	if !c.set.FIPSOnly {
		return nil
	}
	switch m {
	case pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN:
		bits, ok := mech.RSAGenBits(tm)
		if ok && bits < fipsMinRSAGenBits {
			return rvErr(pkcs11.CKR_MECHANISM_PARAM_INVALID)
		}
	case pkcs11.CKM_AES_KEY_GEN:
		if v, given := tm[pkcs11.CKA_VALUE_LEN]; given {
			if n, ok := decUlong(v); ok && n == fipsAES128 {
				return rvErr(pkcs11.CKR_MECHANISM_PARAM_INVALID)
			}
		}
	}
	return nil
}

// fipsWrappingKey applies FIPS mode's rule for the AES key of C_WrapKey /
// C_UnwrapKey: a 16-byte key is refused with rv
// (CKR_WRAPPING_KEY_SIZE_RANGE / CKR_UNWRAPPING_KEY_SIZE_RANGE: PKCS#11's
// codes for a wrapping key of a size the token refuses, which the engine
// returns for every other wrapping-key size, e.g. an RSA-OAEP wrapping key
// below 2048 bits; Craton returns CKR_KEY_SIZE_RANGE). Any mechanism: KW,
// KWP and CBC_PAD alike.
func (c *Ctx) fipsWrappingKey(k *mech.Key, rv uint) error {
	if c.set.FIPSOnly && k != nil && k.Class == pkcs11.CKO_SECRET_KEY && k.KeyType == pkcs11.CKK_AES && len(k.Secret) == fipsAES128 {
		return rvErr(rv)
	}
	return nil
}
