package inventory_test

import (
	"strings"
	"testing"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/internal/softhsmtest"
	"github.com/craton-co/craton/inventory"
	"github.com/miekg/pkcs11"
)

func mech(code uint, min, max uint, flags ...string) inventory.MechInfo {
	return inventory.MechInfo{Name: ck.MechName(code), Code: code, Min: min, Max: max, Flags: flags}
}

// cratonLike is a target list in the shape the guide describes: no raw
// RSA, post-quantum mechanisms, no Ed25519 in this (FIPS-like) build.
func cratonLike() []inventory.MechInfo {
	return []inventory.MechInfo{
		mech(pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, 2048, 4096, "generate_key_pair"),
		mech(pkcs11.CKM_RSA_PKCS, 2048, 4096, "encrypt", "decrypt", "sign", "verify"),
		mech(pkcs11.CKM_SHA256_RSA_PKCS, 2048, 4096, "sign", "verify"),
		mech(pkcs11.CKM_RSA_PKCS_OAEP, 2048, 4096, "encrypt", "decrypt", "wrap", "unwrap"),
		mech(pkcs11.CKM_EC_KEY_PAIR_GEN, 256, 384, "generate_key_pair"),
		mech(pkcs11.CKM_ECDSA, 256, 384, "sign", "verify"),
		mech(pkcs11.CKM_AES_KEY_GEN, 16, 32, "generate"),
		mech(pkcs11.CKM_AES_GCM, 16, 32, "encrypt", "decrypt"),
		mech(pkcs11.CKM_AES_KEY_WRAP, 16, 32, "wrap", "unwrap"),
		mech(pkcs11.CKM_AES_KEY_WRAP_PAD, 16, 32, "wrap", "unwrap"),
		mech(pkcs11.CKM_GENERIC_SECRET_KEY_GEN, 1, 512, "generate"),
		mech(pkcs11.CKM_SHA256_HMAC, 32, 512, "sign", "verify"),
		mech(ck.CKM_CRATON_ML_DSA_65, 0, 0, "sign", "verify"),
		mech(ck.CKM_CRATON_ML_KEM_768, 0, 0, "encrypt", "decrypt"),
	}
}

func TestCompareMechanismsWithSoftHSM(t *testing.T) {
	f := softhsmtest.New(t)
	tok := f.EmptyToken("inv-mechs")
	softhsmtest.PopulateRepresentative(tok)
	inv, err := inventory.Take(f.Module(), tok.P11(), inventory.Options{PIN: softhsmtest.UserPIN})
	if err != nil {
		t.Fatal(err)
	}
	rep := inventory.CompareMechanisms(inv.Token.Mechanisms, cratonLike(), inv)
	rows := map[string]inventory.MechRow{}
	for _, r := range rep.Rows {
		rows[r.Mechanism] = r
	}
	expect := func(name, status, advice string) {
		t.Helper()
		r, ok := rows[name]
		if !ok || r.Status != status || !strings.Contains(r.Advice, advice) {
			t.Errorf("%s: %+v (present %v), want %s with advice %q", name, r, ok, status, advice)
		}
	}
	expect("CKM_RSA_X_509", inventory.StatusSourceOnly, "move to CKM_RSA_PKCS_PSS or CKM_RSA_PKCS_OAEP")
	expect("CKM_ML_DSA_65", inventory.StatusTargetOnly, "post-quantum")
	expect("CKM_ML_KEM_768", inventory.StatusTargetOnly, "post-quantum")
	expect("CKM_AES_GCM", inventory.StatusBoth, "NULL parameter")
	expect("CKM_RSA_PKCS", inventory.StatusBoth, "key sizes narrower on the target")
	expect("CKM_MD5", inventory.StatusSourceOnly, "legacy")
	if r := rows["CKM_AES_KEY_WRAP_PAD"]; r.Source == "" || !strings.Contains(r.Source, "wrap") {
		t.Errorf("KWP source column %q", r.Source)
	}

	needs := map[string]inventory.Need{}
	for _, n := range rep.Needed {
		needs[n.Purpose] = n
	}
	for purpose, onTarget := range map[string]bool{
		"RSA sign/verify":                    true,
		"ECDSA sign/verify":                  true,
		"EdDSA sign/verify":                  false,
		"HMAC sign/verify":                   true,
		"AES encrypt/decrypt":                true,
		"AES MAC":                            false, // SoftHSM keys carry CKA_SIGN=TRUE by default
		"unwrap (transport of wrapped keys)": true,
		"generate EC_EDWARDS (regenerate)":   false,
	} {
		n, ok := needs[purpose]
		if !ok || n.OnTarget != onTarget || n.Keys == 0 {
			t.Errorf("need %q: %+v (present %v), want on_target=%v", purpose, n, ok, onTarget)
		}
	}
	for _, m := range []string{"CKM_EDDSA", "CKM_AES_CMAC", "CKM_EC_EDWARDS_KEY_PAIR_GEN"} {
		if !contains(rep.MissingOnTarget, m) {
			t.Errorf("MissingOnTarget %v lacks %s", rep.MissingOnTarget, m)
		}
	}
	if contains(rep.MissingOnTarget, "CKM_SHA256_RSA_PKCS") {
		t.Errorf("MissingOnTarget %v lists a mechanism the target has", rep.MissingOnTarget)
	}
}

func TestCompareMechanismsWithoutInventory(t *testing.T) {
	rep := inventory.CompareMechanisms([]inventory.MechInfo{mech(pkcs11.CKM_RSA_X_509, 512, 16384, "sign")}, cratonLike(), nil)
	if len(rep.Rows) != len(cratonLike())+1 || rep.Needed != nil || rep.MissingOnTarget != nil {
		t.Errorf("rows %d needed %v missing %v", len(rep.Rows), rep.Needed, rep.MissingOnTarget)
	}
	for i := 1; i < len(rep.Rows); i++ {
		if rep.Rows[i-1].Code >= rep.Rows[i].Code {
			t.Fatalf("rows not sorted by code at %d", i)
		}
	}
}
