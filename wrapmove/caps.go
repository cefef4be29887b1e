package wrapmove

import (
	"sort"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/inventory"
	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// ProbeCapabilities asks both modules what they can do: which wrap
// mechanisms the source offers, and what ProbeTarget learns of the target.
func ProbeCapabilities(source p11.Module, srcTok p11.Token, target p11.Module, dstTok p11.Token) (Capabilities, error) {
	c, err := ProbeTarget(target, dstTok)
	if err != nil {
		return c, err
	}
	srcMechs, err := readMechs(source, srcTok.Slot)
	if err != nil {
		return c, err
	}
	c.SourceWrap = withFlag(srcMechs, pkcs11.CKF_WRAP)
	return c, nil
}

// ProbeTarget asks the target alone what it can do, for planning without a
// source module (SourceWrap stays nil: KW and KWP assumed on the source):
// which unwrap, derive and key-generation mechanisms it offers, hence which
// key types it holds, and who made the token (SoftHSMv2 targets need their
// unwrap quirks worked around).
func ProbeTarget(target p11.Module, dstTok p11.Token) (Capabilities, error) {
	c := Capabilities{
		Manufacturer: p11.TrimLabel(dstTok.Info.ManufacturerID),
		Model:        p11.TrimLabel(dstTok.Info.Model),
	}
	mechs, err := readMechs(target, dstTok.Slot)
	if err != nil {
		return c, err
	}
	c.Unwrap = withFlag(mechs, pkcs11.CKF_UNWRAP)
	c.ECDH = withFlag(mechs, pkcs11.CKF_DERIVE)[pkcs11.CKM_ECDH1_DERIVE]
	c.EdDSA = withFlag(mechs, pkcs11.CKF_GENERATE_KEY_PAIR)[ck.CKM_EC_EDWARDS_KEY_PAIR_GEN]
	name := dstTok.Label
	if name == "" {
		name = "the target"
	} else {
		name = "target " + name
	}
	c.Target = inventory.CapabilitiesFrom(name, mechs)
	// SoftHSMv2 refuses CKA_VALUE_LEN in unwrap templates (facts §12);
	// the Craton engine and PKCS#11-conformant modules honour it.
	c.ExactSecretLength = !c.IsSoftHSM()
	return c, nil
}

// readMechs reads the slot's mechanism list with flags, once. SoftHSM 2.6.1
// advertises CKF_WRAP for DES mechanisms it cannot wrap with, which is
// harmless here: craton only ever asks for KW and KWP.
func readMechs(m p11.Module, slot uint) ([]inventory.MechInfo, error) {
	list, err := m.GetMechanismList(slot)
	if err != nil {
		return nil, p11.Wrap("C_GetMechanismList", err)
	}
	out := make([]inventory.MechInfo, 0, len(list))
	for _, mech := range list {
		info, err := m.GetMechanismInfo(slot, []*pkcs11.Mechanism{mech})
		if err != nil {
			continue // a module that lists a mechanism it cannot describe: ignore it
		}
		out = append(out, inventory.MechInfo{Name: ck.MechName(mech.Mechanism), Code: mech.Mechanism,
			Min: info.MinKeySize, Max: info.MaxKeySize, Flags: inventory.MechFlags(info.Flags)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, nil
}

// withFlag lists the mechanisms that have flag.
func withFlag(mechs []inventory.MechInfo, flag uint) map[uint]bool {
	names := inventory.MechFlags(flag)
	out := map[uint]bool{}
	for _, m := range mechs {
		if len(names) == 1 && m.Has(names[0]) {
			out[m.Code] = true
		}
	}
	return out
}
