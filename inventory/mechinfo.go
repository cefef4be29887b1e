package inventory

import (
	"fmt"
	"sort"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// mechSet indexes a mechanism list by code, with the raw flags.
type mechSet map[uint]MechInfo

func (ms mechSet) has(mech, flag uint) bool {
	m, ok := ms[mech]
	if !ok {
		return false
	}
	return flag == 0 || m.Has(mechFlagName(flag))
}

func newMechSet(list []MechInfo) mechSet {
	ms := mechSet{}
	for _, m := range list {
		ms[m.Code] = m
	}
	return ms
}

var mechFlagNames = []struct {
	bit  uint
	name string
}{
	{pkcs11.CKF_HW, "hw"}, {pkcs11.CKF_ENCRYPT, "encrypt"}, {pkcs11.CKF_DECRYPT, "decrypt"},
	{pkcs11.CKF_DIGEST, "digest"}, {pkcs11.CKF_SIGN, "sign"}, {pkcs11.CKF_SIGN_RECOVER, "sign_recover"},
	{pkcs11.CKF_VERIFY, "verify"}, {pkcs11.CKF_VERIFY_RECOVER, "verify_recover"},
	{pkcs11.CKF_GENERATE, "generate"}, {pkcs11.CKF_GENERATE_KEY_PAIR, "generate_key_pair"},
	{pkcs11.CKF_WRAP, "wrap"}, {pkcs11.CKF_UNWRAP, "unwrap"}, {pkcs11.CKF_DERIVE, "derive"},
	{pkcs11.CKF_EC_F_P, "ec_f_p"}, {pkcs11.CKF_EC_F_2M, "ec_f_2m"}, {pkcs11.CKF_EC_ECPARAMETERS, "ec_ecparameters"},
	{pkcs11.CKF_EC_NAMEDCURVE, "ec_namedcurve"}, {pkcs11.CKF_EC_UNCOMPRESS, "ec_uncompress"},
	{pkcs11.CKF_EC_COMPRESS, "ec_compress"}, {pkcs11.CKF_EXTENSION, "extension"},
}

func mechFlagName(bit uint) string {
	for _, f := range mechFlagNames {
		if f.bit == bit {
			return f.name
		}
	}
	return fmt.Sprintf("0x%x", bit)
}

// MechFlags names the CKF_ bits of a CK_MECHANISM_INFO; unknown bits as hex.
func MechFlags(flags uint) []string {
	var out []string
	for _, f := range mechFlagNames {
		if flags&f.bit != 0 {
			out = append(out, f.name)
			flags &^= f.bit
		}
	}
	if flags != 0 {
		out = append(out, fmt.Sprintf("0x%x", flags))
	}
	return out
}

// ReadMechanisms reads a slot's mechanism list with sizes and flags,
// sorted by code.
func ReadMechanisms(m p11.Module, slot uint) ([]MechInfo, error) {
	list, err := m.GetMechanismList(slot)
	if err != nil {
		return nil, p11.Wrap("C_GetMechanismList", err)
	}
	out := make([]MechInfo, 0, len(list))
	for _, mech := range list {
		info, err := m.GetMechanismInfo(slot, []*pkcs11.Mechanism{mech})
		if err != nil {
			return nil, p11.Wrap("C_GetMechanismInfo("+ck.MechName(mech.Mechanism)+")", err)
		}
		out = append(out, MechInfo{Name: ck.MechName(mech.Mechanism), Code: mech.Mechanism,
			Min: info.MinKeySize, Max: info.MaxKeySize, Flags: MechFlags(info.Flags)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, nil
}
