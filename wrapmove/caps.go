package wrapmove

import (
	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// ProbeCapabilities asks both modules what they can do: which wrap
// mechanisms the source offers, which unwrap mechanisms and derive and
// key-generation mechanisms the target offers, and who made the target
// token (SoftHSMv2 targets need their unwrap quirks worked around).
func ProbeCapabilities(source p11.Module, srcTok p11.Token, target p11.Module, dstTok p11.Token) (Capabilities, error) {
	c := Capabilities{
		Manufacturer: p11.TrimLabel(dstTok.Info.ManufacturerID),
		Model:        p11.TrimLabel(dstTok.Info.Model),
	}
	var err error
	if c.SourceWrap, err = mechsWithFlag(source, srcTok.Slot, pkcs11.CKF_WRAP); err != nil {
		return c, err
	}
	if c.Unwrap, err = mechsWithFlag(target, dstTok.Slot, pkcs11.CKF_UNWRAP); err != nil {
		return c, err
	}
	derive, err := mechsWithFlag(target, dstTok.Slot, pkcs11.CKF_DERIVE)
	if err != nil {
		return c, err
	}
	gen, err := mechsWithFlag(target, dstTok.Slot, pkcs11.CKF_GENERATE_KEY_PAIR)
	if err != nil {
		return c, err
	}
	c.ECDH = derive[pkcs11.CKM_ECDH1_DERIVE]
	c.EdDSA = gen[ck.CKM_EC_EDWARDS_KEY_PAIR_GEN]
	// SoftHSMv2 refuses CKA_VALUE_LEN in unwrap templates (facts §12);
	// the Craton engine and PKCS#11-conformant modules honour it.
	c.ExactSecretLength = !c.IsSoftHSM()
	return c, nil
}

// mechsWithFlag lists the slot's mechanisms whose info has flag. SoftHSM
// 2.6.1 advertises CKF_WRAP for DES mechanisms it cannot wrap with, which
// is harmless here: craton only ever asks for KW and KWP.
func mechsWithFlag(m p11.Module, slot uint, flag uint) (map[uint]bool, error) {
	list, err := m.GetMechanismList(slot)
	if err != nil {
		return nil, p11.Wrap("C_GetMechanismList", err)
	}
	out := map[uint]bool{}
	for _, mech := range list {
		info, err := m.GetMechanismInfo(slot, []*pkcs11.Mechanism{mech})
		if err != nil {
			continue // a module that lists a mechanism it cannot describe: ignore it
		}
		if info.Flags&flag != 0 {
			out[mech.Mechanism] = true
		}
	}
	return out, nil
}
