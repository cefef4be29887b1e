package hsm

import (
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
	return pkcs11.MechanismInfo{MinKeySize: i.Min, MaxKeySize: i.Max, Flags: i.Flags}, nil
}
