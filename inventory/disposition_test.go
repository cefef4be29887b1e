package inventory_test

import (
	"strings"
	"testing"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/inventory"
	"github.com/miekg/pkcs11"
)

func TestFollowRegenerated(t *testing.T) {
	recs := []inventory.Record{
		{Class: inventory.ClassPrivateKey, ID: "02", Label: "nx", KeyType: "RSA", Fingerprint: "aa", Disposition: inventory.Regenerate,
			Reason: "CKA_EXTRACTABLE=FALSE", Identity: "private-key:nx:02"},
		{Class: inventory.ClassPublicKey, ID: "02", Label: "nx", KeyType: "RSA", Fingerprint: "aa", Disposition: inventory.Copy, Identity: "public-key:nx:02"},
		{Class: inventory.ClassCertificate, ID: "02", Label: "nx", Fingerprint: "aa", Disposition: inventory.Copy, Identity: "certificate:nx:02"},
		// Same CKA_ID, another public key: not the regenerated pair's half.
		{Class: inventory.ClassPublicKey, ID: "02", Label: "other", KeyType: "RSA", Fingerprint: "bb", Disposition: inventory.Copy, Identity: "public-key:other:02"},
		{Class: inventory.ClassPrivateKey, ID: "01", Label: "x", KeyType: "RSA", Fingerprint: "cc", Disposition: inventory.Wrap, Identity: "private-key:x:01"},
		{Class: inventory.ClassPublicKey, ID: "01", Label: "x", KeyType: "RSA", Fingerprint: "cc", Disposition: inventory.Copy, Identity: "public-key:x:01"},
		{Class: inventory.ClassData, Label: "d", Disposition: inventory.Copy, Identity: "data:d:"},
	}
	inventory.FollowRegenerated(recs)
	inventory.FollowRegenerated(recs) // idempotent
	want := []inventory.Disposition{inventory.Regenerate, inventory.Regenerate, inventory.Regenerate, inventory.Copy,
		inventory.Wrap, inventory.Copy, inventory.Copy}
	for i, r := range recs {
		if r.Disposition != want[i] {
			t.Errorf("%s: %s, want %s", r.Identity, r.Disposition, want[i])
		}
	}
	if !strings.Contains(recs[1].Reason, "public half of private-key:nx:02") || !strings.Contains(recs[2].Reason, "re-issue") {
		t.Errorf("reasons %q / %q", recs[1].Reason, recs[2].Reason)
	}
}

func TestCapabilitiesLacks(t *testing.T) {
	mechs := []inventory.MechInfo{
		{Name: "CKM_RSA_PKCS_KEY_PAIR_GEN", Code: pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, Flags: []string{"generate_key_pair"}},
		{Name: "CKM_AES_KEY_GEN", Code: pkcs11.CKM_AES_KEY_GEN, Flags: []string{"generate"}},
	}
	c := inventory.CapabilitiesFrom("tgt", mechs)
	rsa := inventory.Record{Class: inventory.ClassPrivateKey, KeyType: "RSA"}
	ed := inventory.Record{Class: inventory.ClassPrivateKey, KeyType: "EC_EDWARDS"}
	cert := inventory.Record{Class: inventory.ClassCertificate}
	if got := c.Lacks(rsa, inventory.Regenerate); got != "" {
		t.Errorf("RSA regenerate: %q", got)
	}
	if got := c.Lacks(ed, inventory.Wrap); got != "tgt lacks key type "+ck.KeyTypeName(ck.CKK_EC_EDWARDS) {
		t.Errorf("Ed25519: %q", got)
	}
	if got := c.Lacks(cert, inventory.Regenerate); got != "" {
		t.Errorf("certificate: %q", got)
	}
	if got := c.Lacks(inventory.Record{Class: inventory.ClassSecretKey, KeyType: "VENDOR_X"}, inventory.Wrap); !strings.Contains(got, "lacks key type VENDOR_X") {
		t.Errorf("unknown key type: %q", got)
	}
	// Key type known (CKK_RSA from the list) but no generation mechanism.
	noGen := &inventory.Capabilities{Name: "tgt", KeyTypes: []uint{pkcs11.CKK_RSA}}
	if got := noGen.Lacks(rsa, inventory.Regenerate); !strings.Contains(got, "lacks CKM_RSA_PKCS_KEY_PAIR_GEN") {
		t.Errorf("no generation mechanism: %q", got)
	}
	var none *inventory.Capabilities
	if got := none.Lacks(ed, inventory.Wrap); got != "" {
		t.Errorf("nil capabilities judged: %q", got)
	}
}

func TestSameCheckValue(t *testing.T) {
	rec := func(v, m string) inventory.Record { return inventory.Record{CheckValue: v, CheckMethod: m} }
	ecb, cbc, cmac := "AES-ECB(0^128)[:8]", "AES-CBC(iv=0,0^128)[:8]", "AES-CMAC(0^128)[:8]"
	for _, c := range []struct {
		a, b inventory.Record
		want bool
	}{
		{rec("0102", ecb), rec("0102", ecb), true},
		{rec("0102", ecb), rec("0102", cbc), true}, // one zero block: CBC with a zero IV is ECB
		{rec("0102", ecb), rec("0102", cmac), false},
		{rec("0102", ecb), rec("0103", ecb), false},
		{rec("", ecb), rec("", ecb), false},
	} {
		if got := inventory.SameCheckValue(c.a, c.b); got != c.want {
			t.Errorf("%+v vs %+v: %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
