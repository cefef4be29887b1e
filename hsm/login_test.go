package hsm

import (
	"bytes"
	"testing"

	"github.com/miekg/pkcs11"
)

func tokenFlags(t *testing.T, c *Ctx) uint {
	t.Helper()
	ti, err := c.GetTokenInfo(0)
	must(t, err)
	return ti.Flags
}

func TestLockoutPersistsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Security.MaxFailedLogins = 3
	c := openCtx(t, cfg)
	must(t, c.InitToken(0, soPIN, "lockout"))
	sh := rwSession(t, c)
	must(t, c.Login(sh, pkcs11.CKU_SO, soPIN))
	must(t, c.InitPIN(sh, userPIN))
	must(t, c.Logout(sh))
	must(t, c.Login(sh, pkcs11.CKU_USER, userPIN))
	h, err := c.CreateObject(sh, aesTemplate("kept", "", bytes.Repeat([]byte{7}, 16), true))
	must(t, err)
	must(t, c.Logout(sh))

	wantRV(t, c.Login(sh, pkcs11.CKU_USER, "Wrong-pin-1"), pkcs11.CKR_PIN_INCORRECT)
	if f := tokenFlags(t, c); f&pkcs11.CKF_USER_PIN_COUNT_LOW == 0 || f&pkcs11.CKF_USER_PIN_FINAL_TRY != 0 {
		t.Fatalf("after 1 failure flags %#x", f)
	}
	wantRV(t, c.Login(sh, pkcs11.CKU_USER, "Wrong-pin-2"), pkcs11.CKR_PIN_INCORRECT)
	if f := tokenFlags(t, c); f&pkcs11.CKF_USER_PIN_FINAL_TRY == 0 {
		t.Fatalf("after 2 failures flags %#x", f)
	}
	must(t, c.Finalize())

	// The counter survived the restart: one more failure locks.
	c = openCtx(t, cfg)
	sh = rwSession(t, c)
	wantRV(t, c.Login(sh, pkcs11.CKU_USER, "Wrong-pin-3"), pkcs11.CKR_PIN_INCORRECT)
	if f := tokenFlags(t, c); f&pkcs11.CKF_USER_PIN_LOCKED == 0 {
		t.Fatalf("after 3 failures flags %#x", f)
	}
	wantRV(t, c.Login(sh, pkcs11.CKU_USER, userPIN), pkcs11.CKR_PIN_LOCKED)
	must(t, c.Finalize())

	c = openCtx(t, cfg)
	sh = rwSession(t, c)
	wantRV(t, c.Login(sh, pkcs11.CKU_USER, userPIN), pkcs11.CKR_PIN_LOCKED)
	// The SO sets a new user PIN: unlocked, and the objects stay readable.
	must(t, c.Login(sh, pkcs11.CKU_SO, soPIN))
	must(t, c.InitPIN(sh, "New-user-pin-9"))
	must(t, c.Logout(sh))
	if f := tokenFlags(t, c); f&(pkcs11.CKF_USER_PIN_LOCKED|pkcs11.CKF_USER_PIN_COUNT_LOW) != 0 {
		t.Fatalf("after InitPIN flags %#x", f)
	}
	must(t, c.Login(sh, pkcs11.CKU_USER, "New-user-pin-9"))
	if got := byLabel(t, c, sh, "kept"); len(got) != 1 || got[0] != h {
		t.Fatalf("object after SO re-initialised the user PIN: %v", got)
	}
}

func TestSOReinitOfUserPINKeepsObjectsReadable(t *testing.T) {
	dir := t.TempDir()
	c, sh := ready(t, dir)
	h, err := c.CreateObject(sh, dataTemplate("secret data", true, true))
	must(t, err)
	must(t, c.Logout(sh))
	must(t, c.Login(sh, pkcs11.CKU_SO, soPIN))
	must(t, c.InitPIN(sh, "Other-user-pin-2"))
	must(t, c.Finalize())

	c = openCtx(t, testConfig(dir))
	sh = rwSession(t, c)
	wantRV(t, c.Login(sh, pkcs11.CKU_USER, userPIN), pkcs11.CKR_PIN_INCORRECT)
	must(t, c.Login(sh, pkcs11.CKU_USER, "Other-user-pin-2"))
	if v := attr(t, c, sh, h, pkcs11.CKA_VALUE); string(v) != "data of secret data" {
		t.Fatalf("value after PIN re-init: %q", v)
	}
}

func TestSetPINRewrapsAndChecksOldPIN(t *testing.T) {
	dir := t.TempDir()
	c, sh := ready(t, dir)
	h, err := c.CreateObject(sh, dataTemplate("d", true, true))
	must(t, err)
	wantRV(t, c.SetPIN(sh, "Not-the-pin-1", "Next-pin-123"), pkcs11.CKR_PIN_INCORRECT)
	wantRV(t, c.SetPIN(sh, userPIN, "short"), pkcs11.CKR_PIN_LEN_RANGE)
	wantRV(t, c.SetPIN(sh, userPIN, "aaaaaaaaaa"), pkcs11.CKR_PIN_INVALID)
	must(t, c.SetPIN(sh, userPIN, "Next-pin-123"))
	must(t, c.Finalize())
	c = openCtx(t, testConfig(dir))
	sh = rwSession(t, c)
	must(t, c.Login(sh, pkcs11.CKU_USER, "Next-pin-123"))
	if v := attr(t, c, sh, h, pkcs11.CKA_VALUE); string(v) != "data of d" {
		t.Fatalf("value %q", v)
	}
	// The SO PIN can change too, and still opens the OMK for InitPIN.
	must(t, c.Logout(sh))
	must(t, c.Login(sh, pkcs11.CKU_SO, soPIN))
	must(t, c.SetPIN(sh, soPIN, "So-pin-5678"))
	must(t, c.Logout(sh))
	must(t, c.Login(sh, pkcs11.CKU_SO, "So-pin-5678"))
	must(t, c.InitPIN(sh, "Third-pin-1"))
	must(t, c.Logout(sh))
	must(t, c.Login(sh, pkcs11.CKU_USER, "Third-pin-1"))
	if v := attr(t, c, sh, h, pkcs11.CKA_VALUE); string(v) != "data of d" {
		t.Fatalf("value %q", v)
	}
}

func TestLoginStateRules(t *testing.T) {
	c := openCtx(t, testConfig(t.TempDir()))
	ro, err := c.OpenSession(0, pkcs11.CKF_SERIAL_SESSION)
	must(t, err)
	wantRV(t, c.Login(ro, pkcs11.CKU_USER, userPIN), pkcs11.CKR_TOKEN_NOT_RECOGNIZED)
	must(t, c.CloseSession(ro))
	must(t, c.InitToken(0, soPIN, "rules"))
	ro, err = c.OpenSession(0, pkcs11.CKF_SERIAL_SESSION)
	must(t, err)
	rw := rwSession(t, c)
	wantRV(t, c.Login(rw, pkcs11.CKU_USER, userPIN), pkcs11.CKR_USER_PIN_NOT_INITIALIZED)
	wantRV(t, c.Login(rw, pkcs11.CKU_SO, soPIN), pkcs11.CKR_SESSION_READ_ONLY_EXISTS)
	wantRV(t, c.Login(rw, 7, soPIN), pkcs11.CKR_USER_TYPE_INVALID)
	wantRV(t, c.Logout(rw), pkcs11.CKR_USER_NOT_LOGGED_IN)
	must(t, c.CloseSession(ro))
	must(t, c.Login(rw, pkcs11.CKU_SO, soPIN))
	wantRV(t, c.Login(rw, pkcs11.CKU_SO, soPIN), pkcs11.CKR_USER_ALREADY_LOGGED_IN)
	wantRV(t, c.Login(rw, pkcs11.CKU_USER, userPIN), pkcs11.CKR_USER_ANOTHER_ALREADY_LOGGED_IN)
	_, err = c.OpenSession(0, pkcs11.CKF_SERIAL_SESSION)
	wantRV(t, err, pkcs11.CKR_SESSION_READ_WRITE_SO_EXISTS)
	info, err := c.GetSessionInfo(rw)
	must(t, err)
	if info.State != pkcs11.CKS_RW_SO_FUNCTIONS {
		t.Fatalf("state %d", info.State)
	}
	wantRV(t, c.InitPIN(rw, "abc"), pkcs11.CKR_PIN_LEN_RANGE)
	must(t, c.InitPIN(rw, userPIN))
	must(t, c.Logout(rw))

	ro, err = c.OpenSession(0, pkcs11.CKF_SERIAL_SESSION)
	must(t, err)
	must(t, c.Login(ro, pkcs11.CKU_USER, userPIN))
	for sh, want := range map[pkcs11.SessionHandle]uint{ro: pkcs11.CKS_RO_USER_FUNCTIONS, rw: pkcs11.CKS_RW_USER_FUNCTIONS} {
		info, err := c.GetSessionInfo(sh)
		must(t, err)
		if info.State != want {
			t.Errorf("session %d state %d want %d", sh, info.State, want)
		}
	}
	// Closing the last session logs the token out.
	must(t, c.CloseAllSessions(0))
	ro, err = c.OpenSession(0, pkcs11.CKF_SERIAL_SESSION)
	must(t, err)
	info, err = c.GetSessionInfo(ro)
	must(t, err)
	if info.State != pkcs11.CKS_RO_PUBLIC_SESSION {
		t.Fatalf("state after closing all sessions: %d", info.State)
	}
}

func TestInitTokenChecksSOPINBeforeWiping(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Token.SlotCount = 2
	c := openCtx(t, cfg)
	for slot := uint(0); slot < 2; slot++ {
		must(t, c.InitToken(slot, soPIN, "tok"))
		sh, err := c.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
		must(t, err)
		_, err = c.CreateObject(sh, dataTemplate("public", true, false))
		must(t, err)
	}
	wantRV(t, c.InitToken(0, soPIN, "x"), pkcs11.CKR_SESSION_EXISTS)
	must(t, c.CloseAllSessions(0))
	must(t, c.CloseAllSessions(1))
	wantRV(t, c.InitToken(0, "Wrong-so-pin-1", "x"), pkcs11.CKR_PIN_INCORRECT)
	count := func(slot uint) int {
		sh, err := c.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
		must(t, err)
		defer c.CloseSession(sh)
		return len(byLabel(t, c, sh, "public"))
	}
	if count(0) != 1 {
		t.Fatal("a wrong SO PIN wiped the token")
	}
	must(t, c.InitToken(0, soPIN, "fresh"))
	if count(0) != 0 || count(1) != 1 {
		t.Fatalf("re-init: slot0 %d slot1 %d objects", count(0), count(1))
	}
	ti, err := c.GetTokenInfo(0)
	must(t, err)
	if ti.Label != "fresh" || ti.Flags&pkcs11.CKF_USER_PIN_INITIALIZED != 0 {
		t.Fatalf("token info after re-init: %q %#x", ti.Label, ti.Flags)
	}
}

func TestDefaultIterations(t *testing.T) {
	if testing.Short() {
		t.Skip("600,000 PBKDF2 iterations")
	}
	cfg := testConfig(t.TempDir())
	cfg.Security.PBKDF2Iterations = 600_000
	c := openCtx(t, cfg)
	must(t, c.InitToken(0, soPIN, "slow"))
	sh := rwSession(t, c)
	must(t, c.Login(sh, pkcs11.CKU_SO, soPIN))
	must(t, c.InitPIN(sh, userPIN))
	must(t, c.Logout(sh))
	must(t, c.Login(sh, pkcs11.CKU_USER, userPIN))
	c.mu.RLock()
	it := c.tokens[0].st.User.Iterations
	c.mu.RUnlock()
	if it != 600_000 {
		t.Fatalf("user PIN derived with %d iterations", it)
	}
}
