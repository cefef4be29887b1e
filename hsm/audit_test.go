package hsm

import (
	"path/filepath"
	"testing"

	"github.com/craton-co/craton/hsm/audit"
	"github.com/miekg/pkcs11"
)

func TestAuditRecordsCallsAndPOST(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(filepath.Join(dir, "store"))
	cfg.Audit.Enabled = true
	cfg.Audit.LogPath = filepath.Join(dir, "audit.jsonl")
	c := openCtx(t, cfg)
	must(t, c.InitToken(0, soPIN, "audited"))
	sh := rwSession(t, c)
	wantRV(t, c.Login(sh, pkcs11.CKU_SO, "Wrong-so-pin-1"), pkcs11.CKR_PIN_INCORRECT)
	must(t, c.Login(sh, pkcs11.CKU_SO, soPIN))
	must(t, c.InitPIN(sh, userPIN))
	must(t, c.Logout(sh))
	must(t, c.Login(sh, pkcs11.CKU_USER, userPIN))
	h := genAES(t, c, sh, false)
	must(t, c.EncryptInit(sh, mechs(pkcs11.CKM_AES_GCM), h))
	_, err := c.Encrypt(sh, []byte("x"))
	must(t, err)
	_, err = c.GenerateRandom(sh, 8)
	must(t, err)
	// Entries are durable when the call returns: read the file now.
	entries, err := audit.Read(cfg.Audit.LogPath, audit.Filter{})
	must(t, err)
	count := map[string]int{}
	failed := map[string]int{}
	for _, e := range entries {
		name := e.Op
		count[name]++
		if e.Failed() {
			failed[name]++
		}
		if name == "Encrypt" {
			if e.FIPS == nil || !*e.FIPS {
				t.Errorf("Encrypt entry without fips_approved=true: %+v", e)
			}
		}
	}
	for _, op := range []string{"SelfTest", "POST", "Initialize", "InitToken", "Login", "InitPIN", "Logout", "GenerateKey", "Encrypt", "GenerateRandom"} {
		if count[op] == 0 {
			t.Errorf("no %s entry (have %v)", op, count)
		}
	}
	if count["SelfTest"] != len(c.SelfTestResults()) || failed["Login"] != 1 || count["Login"] != 3 {
		t.Errorf("counts %v failed %v", count, failed)
	}
	must(t, c.Finalize())
	if _, err := audit.Verify(cfg.Audit.LogPath); err != nil {
		t.Fatalf("chain: %v", err)
	}
}
