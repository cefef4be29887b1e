package hsm

import (
	"bytes"
	"testing"

	"github.com/miekg/pkcs11"
)

func TestObjectsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	c, sh := ready(t, dir)
	key := bytes.Repeat([]byte{0x5A}, 32)
	aes, err := c.CreateObject(sh, aesTemplate("persist-aes", "id-1", key, true))
	must(t, err)
	pub, err := c.CreateObject(sh, dataTemplate("persist-public", true, false))
	must(t, err)
	_, err = c.CreateObject(sh, dataTemplate("session-only", false, false))
	must(t, err)
	must(t, c.SetAttributeValue(sh, aes, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, "renamed-aes")}))
	must(t, c.Finalize())

	c2 := openCtx(t, testConfig(dir))
	sh2, err := c2.OpenSession(0, pkcs11.CKF_SERIAL_SESSION)
	must(t, err)
	// Public token objects are visible before login, with their handle.
	if got := byLabel(t, c2, sh2, "persist-public"); len(got) != 1 || got[0] != pub {
		t.Fatalf("public object after restart: %v (want %v)", got, pub)
	}
	if got := byLabel(t, c2, sh2, "renamed-aes"); len(got) != 0 {
		t.Fatal("private object visible before login")
	}
	if got := byLabel(t, c2, sh2, "session-only"); len(got) != 0 {
		t.Fatal("session object survived Finalize")
	}
	must(t, c2.Login(sh2, pkcs11.CKU_USER, userPIN))
	got := byLabel(t, c2, sh2, "renamed-aes")
	if len(got) != 1 || got[0] != aes {
		t.Fatalf("private object after restart: %v (want %v)", got, aes)
	}
	if id := attr(t, c2, sh2, aes, pkcs11.CKA_ID); string(id) != "id-1" {
		t.Fatalf("CKA_ID = %q", id)
	}
	must(t, c2.Logout(sh2))
	if got := byLabel(t, c2, sh2, "renamed-aes"); len(got) != 0 {
		t.Fatal("private object visible after logout")
	}
}
