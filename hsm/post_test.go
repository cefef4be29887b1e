package hsm

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/pkcs11"
)

func TestPOSTResultsVisible(t *testing.T) {
	c := openCtx(t, testConfig(t.TempDir()))
	res := c.SelfTestResults()
	if len(res) < 2 || res[0].Num != 0 {
		t.Fatalf("results %+v", res)
	}
	for _, r := range res {
		if !r.Passed {
			t.Errorf("self-test %d %s failed: %v", r.Num, r.Name, r.Err)
		}
	}
	// The test binary has no digest file: passes with a note.
	if res[0].Note != noDigestNote {
		t.Errorf("integrity note %q", res[0].Note)
	}
}

func TestPOSTFailureFailsSafeUntilReinitialised(t *testing.T) {
	dir := t.TempDir()
	POSTFault = func(num int, name string) error {
		if num == 3 {
			return errors.New("injected fault")
		}
		return nil
	}
	c := New(testConfig(dir))
	err := c.Initialize()
	POSTFault = nil
	wantRV(t, err, pkcs11.CKR_GENERAL_ERROR)
	_, err = c.GetSlotList(true)
	wantRV(t, err, pkcs11.CKR_GENERAL_ERROR)
	_, err = c.OpenSession(0, pkcs11.CKF_SERIAL_SESSION)
	wantRV(t, err, pkcs11.CKR_GENERAL_ERROR)
	failed := 0
	for _, r := range c.SelfTestResults() {
		if !r.Passed {
			failed++
		}
	}
	if failed != 1 {
		t.Fatalf("%d failed results, want 1", failed)
	}
	must(t, c.Initialize())
	defer c.Finalize()
	if _, err := c.GetSlotList(true); err != nil {
		t.Fatalf("after a passing POST: %v", err)
	}
}

func TestForkedChildIsNotInitialized(t *testing.T) {
	c := openCtx(t, testConfig(t.TempDir()))
	sh := rwSession(t, c)
	c.mu.Lock()
	c.pid = os.Getpid() + 1 // what a forked child sees
	c.mu.Unlock()
	_, err := c.GetSessionInfo(sh)
	wantRV(t, err, pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED)
	_, err = c.GetInfo()
	wantRV(t, err, pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED)
	c.mu.Lock()
	c.pid = os.Getpid()
	c.mu.Unlock()
	if _, err := c.GetSessionInfo(sh); err != nil {
		t.Fatal(err)
	}
}

func TestNotInitialized(t *testing.T) {
	c := New(testConfig(t.TempDir()))
	_, err := c.GetSlotList(true)
	wantRV(t, err, pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED)
	must(t, c.Initialize())
	wantRV(t, c.Initialize(), pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED)
	must(t, c.Finalize())
	wantRV(t, c.Finalize(), pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED)
}

func TestIntegrityDigest(t *testing.T) {
	dir := t.TempDir()
	mod := filepath.Join(dir, "libcraton_hsm.so")
	must(t, os.WriteFile(mod, []byte("module bytes"), 0o600))
	note, err := checkIntegrity(mod)
	if err != nil || note != noDigestNote {
		t.Fatalf("no digest: %q %v", note, err)
	}
	sum := sha256.Sum256([]byte("module bytes"))
	must(t, os.WriteFile(mod+".sha256", []byte(hex.EncodeToString(sum[:])+"  libcraton_hsm.so\n"), 0o600))
	if note, err := checkIntegrity(mod); err != nil || !strings.HasPrefix(note, "digest verified") {
		t.Fatalf("good digest: %q %v", note, err)
	}
	must(t, os.WriteFile(mod, []byte("tampered"), 0o600))
	if _, err := checkIntegrity(mod); err == nil {
		t.Fatal("tampered module passed")
	}
	// Through POST: a mismatching module fails Initialize.
	ModulePath = mod
	defer func() { ModulePath = "" }()
	c := New(testConfig(t.TempDir()))
	wantRV(t, c.Initialize(), pkcs11.CKR_GENERAL_ERROR)
	if r := c.SelfTestResults()[0]; r.Passed || r.Err == nil {
		t.Fatalf("integrity result %+v", r)
	}
}
