package wrapmove

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

func attrsOf(kv map[uint][]byte) p11.Attrs {
	return p11.Attrs{Values: kv, Unavailable: map[uint]uint{}}
}

func tmplTypes(t []*pkcs11.Attribute) map[uint][]byte {
	m := map[uint][]byte{}
	for _, a := range t {
		m[a.Type] = a.Value
	}
	return m
}

func TestUnwrapTemplate(t *testing.T) {
	T, F := []byte{1}, []byte{0}
	a := attrsOf(map[uint][]byte{
		pkcs11.CKA_CLASS: {4, 0, 0, 0, 0, 0, 0, 0}, pkcs11.CKA_KEY_TYPE: {0x1f, 0, 0, 0, 0, 0, 0, 0},
		pkcs11.CKA_LABEL: []byte("k"), pkcs11.CKA_ID: {0, 1}, pkcs11.CKA_TOKEN: T, pkcs11.CKA_PRIVATE: T,
		pkcs11.CKA_SENSITIVE: F, pkcs11.CKA_EXTRACTABLE: T, pkcs11.CKA_ENCRYPT: T, pkcs11.CKA_DERIVE: F,
		pkcs11.CKA_LOCAL: T, pkcs11.CKA_ALWAYS_SENSITIVE: F, pkcs11.CKA_NEVER_EXTRACTABLE: F,
		pkcs11.CKA_VALUE_LEN: {32, 0, 0, 0, 0, 0, 0, 0}, pkcs11.CKA_START_DATE: {}, pkcs11.CKA_MODIFIABLE: F,
	})
	o := &object{attrs: a, SourceObject: SourceObject{Class: ClassSecretKey, KeyType: KeyAES, ValueLen: 32}}
	soft := tmplTypes(unwrapTemplate(o, Capabilities{Manufacturer: softHSMManufacturer}, false))
	for _, never := range []uint{pkcs11.CKA_LOCAL, pkcs11.CKA_ALWAYS_SENSITIVE, pkcs11.CKA_NEVER_EXTRACTABLE,
		pkcs11.CKA_KEY_GEN_MECHANISM, pkcs11.CKA_VALUE_LEN, pkcs11.CKA_START_DATE, pkcs11.CKA_DESTROYABLE} {
		if _, ok := soft[never]; ok {
			t.Errorf("SoftHSM template carries %#x", never)
		}
	}
	if string(soft[pkcs11.CKA_ID]) != "\x00\x01" || soft[pkcs11.CKA_EXTRACTABLE][0] != 1 || soft[pkcs11.CKA_MODIFIABLE][0] != 0 {
		t.Errorf("template lost ID/EXTRACTABLE/MODIFIABLE: %v", soft)
	}
	exact := tmplTypes(unwrapTemplate(o, Capabilities{ExactSecretLength: true}, true))
	if v, ok := exact[pkcs11.CKA_VALUE_LEN]; !ok || v[0] != 32 {
		t.Errorf("engine template lacks CKA_VALUE_LEN=32")
	}
	if exact[pkcs11.CKA_EXTRACTABLE][0] != 0 {
		t.Errorf("harden did not clear CKA_EXTRACTABLE")
	}
	// Private keys never carry CKA_EC_PARAMS (taken from the PKCS#8 payload).
	priv := &object{attrs: attrsOf(map[uint][]byte{pkcs11.CKA_CLASS: {3}, pkcs11.CKA_EC_PARAMS: p256Params, pkcs11.CKA_SIGN: T}),
		SourceObject: SourceObject{Class: ClassPrivateKey, KeyType: KeyEC}}
	if _, ok := tmplTypes(unwrapTemplate(priv, Capabilities{}, false))[pkcs11.CKA_EC_PARAMS]; ok {
		t.Errorf("private-key template carries CKA_EC_PARAMS")
	}
	pub := tmplTypes(publicFromPrivate(priv, &object{attrs: attrsOf(map[uint][]byte{pkcs11.CKA_EC_PARAMS: p256Params, pkcs11.CKA_EC_POINT: {4, 1, 9}})}))
	if pub[pkcs11.CKA_VERIFY][0] != 1 || string(pub[pkcs11.CKA_EC_POINT]) != "\x04\x01\x09" {
		t.Errorf("public-from-private template %v", pub)
	}
}

func TestRawECPoint(t *testing.T) {
	raw := append([]byte{4}, make([]byte, 64)...)
	raw[1] = 63 // X[0] that looks like a DER length must not confuse the parser
	if got := rawECPoint(raw); len(got) != 65 {
		t.Errorf("raw point mangled to %d bytes", len(got))
	}
	wrapped := append([]byte{4, 65}, append([]byte{4}, make([]byte, 64)...)...)
	if got := rawECPoint(wrapped); len(got) != 65 || got[0] != 4 {
		t.Errorf("DER point not unwrapped: %d bytes", len(got))
	}
	ed := append([]byte{4, 32}, make([]byte, 32)...)
	if got := rawECPoint(ed); len(got) != 32 {
		t.Errorf("Ed25519 point: %d bytes", len(got))
	}
}

func TestJournalResumeState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.json")
	src, dst := Endpoint{Token: "A", Serial: "1"}, Endpoint{Token: "B"}
	j := newJournal(path, src, dst)
	a := Action{Identity: "secret_key:11:k", Label: "k", ID: "11", Class: ClassSecretKey}
	e, isNew := j.entry(a)
	if !isNew || e.State != StatePending {
		t.Fatalf("new entry %+v", e)
	}
	e.Preexisting = true
	e.set(StateUnwrapped, "", "")
	if err := j.recordPIN("target-user", "pin-Zq9x!"); err != nil {
		t.Fatal(err)
	}
	if err := j.recordPIN("target-user", "pin-Zq9x!"); err != nil || len(j.PINHashes) != 1 {
		t.Fatalf("same PIN recorded twice: %d", len(j.PINHashes))
	}
	if err := j.Save(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if string(data) == "" || strings.Contains(string(data), "pin-Zq9x!") {
		t.Errorf("journal holds the PIN in clear")
	}
	k, err := LoadJournal(path)
	if err != nil || k == nil {
		t.Fatal(err)
	}
	e2, isNew := k.entry(a)
	if isNew || e2.State != StateUnwrapped || !e2.Preexisting {
		t.Errorf("reloaded entry %+v", e2)
	}
	if !k.PINHashes[0].Matches("pin-Zq9x!") || k.PINHashes[0].Matches("pin-Zq9x") {
		t.Errorf("PIN hash does not match")
	}
	if !k.matches(src, dst) || k.matches(Endpoint{Token: "A", Serial: "2"}, dst) {
		t.Errorf("journal endpoint matching")
	}
	if j, err := LoadJournal(filepath.Join(t.TempDir(), "none.json")); j != nil || err != nil {
		t.Errorf("missing journal: %v %v", j, err)
	}
	os.WriteFile(path, []byte("{"), 0o600)
	if _, err := LoadJournal(path); err == nil {
		t.Errorf("malformed journal accepted")
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("journal mode %v", st.Mode())
	}
}
