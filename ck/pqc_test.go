package ck

import "testing"

// TestPQCNames pins the PKCS#11 3.2 codes (published/3-02/pkcs11t.h) and the
// names MechName/KeyTypeName give them next to Craton's vendor codes.
func TestPQCNames(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{MechName(0x0F), "CKM_ML_KEM_KEY_PAIR_GEN"},
		{MechName(0x17), "CKM_ML_KEM"},
		{MechName(0x1C), "CKM_ML_DSA_KEY_PAIR_GEN"},
		{MechName(0x1D), "CKM_ML_DSA"},
		{MechName(0x2D), "CKM_SLH_DSA_KEY_PAIR_GEN"},
		{MechName(0x2E), "CKM_SLH_DSA"},
		{MechName(0x4002), "CKM_RSA_PKCS_OAEP_TPM_1_1"},
		{MechName(CKM_CRATON_ML_KEM_768), "CKM_ML_KEM_768"},
		{KeyTypeName(0x49), "CKK_ML_KEM"},
		{KeyTypeName(0x4A), "CKK_ML_DSA"},
		{KeyTypeName(0x4B), "CKK_SLH_DSA"},
		{KeyTypeName(CKK_CRATON_ML_KEM), "CKK_CRATON_ML_KEM"},
		{AttrName(0x61D), "CKA_PARAMETER_SET"},
		{AttrName(0x633), "CKA_ENCAPSULATE"},
		{AttrName(0x637), "CKA_SEED"},
		{RVName(0x209), "CKR_PARAMETER_SET_NOT_SUPPORTED"},
	} {
		if c.got != c.want {
			t.Errorf("got %s, want %s", c.got, c.want)
		}
	}
	for name, want := range map[string]uint{"CKM_ML_KEM": 0x17, "ml-dsa-key-pair-gen": 0x1C, "CKA_PARAMETER_SET": 0x61D} {
		var got uint
		var ok bool
		if name == "CKA_PARAMETER_SET" {
			got, ok = AttrByName(name)
		} else {
			got, ok = MechByName(name)
		}
		if !ok || got != want {
			t.Errorf("%s = %#x, %v; want %#x", name, got, ok, want)
		}
	}
	if CKP_SLH_DSA_SHAKE_256F != 12 || CKP_ML_KEM_1024 != 3 || CKP_ML_DSA_87 != 3 {
		t.Error("CKP values drifted from the 3.2 header")
	}
}
