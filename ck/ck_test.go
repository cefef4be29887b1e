package ck

import "testing"

func TestNames(t *testing.T) {
	cases := []struct{ got, want string }{
		{RVName(0xA0), "CKR_PIN_INCORRECT"},
		{RVName(CKR_PIN_TOO_WEAK), "CKR_PIN_TOO_WEAK"},
		{MechName(0x210A), "CKM_AES_KEY_WRAP_PAD"},
		{MechName(CKM_AES_KEY_WRAP_KWP), "CKM_AES_KEY_WRAP_KWP"},
		{MechName(CKM_EDDSA), "CKM_EDDSA"},
		{MechName(0x1040), "CKM_EC_KEY_PAIR_GEN"},
		{MechName(0x80000002), "CKM_ML_KEM_768"},
		{AttrName(0x102), "CKA_ID"},
		{AttrName(CKA_VENDOR_FIPS_APPROVED), "CKA_VENDOR_FIPS_APPROVED"},
		{KeyTypeName(CKK_EC_EDWARDS), "CKK_EC_EDWARDS"},
		{ClassName(3), "CKO_PRIVATE_KEY"},
		{MechName(0x8123ABCD), "CKM_VENDOR_0x8123ABCD"},
		{RVName(0x7777), "CKR_0x00007777"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %s, want %s", c.got, c.want)
		}
	}
}

func TestMechByName(t *testing.T) {
	for in, want := range map[string]uint{
		"CKM_SHA256_RSA_PKCS": 0x40, "sha256-rsa-pkcs": 0x40, "0x210b": 0x210B,
		"CKM_EDDSA": CKM_EDDSA, "ECDSA_KEY_PAIR_GEN": 0x1040,
	} {
		if got, ok := MechByName(in); !ok || got != want {
			t.Errorf("MechByName(%q) = %#x, %v; want %#x", in, got, ok, want)
		}
	}
	if _, ok := MechByName("CKM_NOPE"); ok {
		t.Error("unknown name resolved")
	}
}
