package config

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/craton-co/craton/errs"
)

// noSystemDir points the system store directory at a path that does not
// exist, so Default() is the same on every machine.
func noSystemDir(t *testing.T) {
	t.Helper()
	old := systemStorageDir
	missing := filepath.Join(t.TempDir(), "absent", "store")
	systemStorageDir = func() string { return missing }
	t.Cleanup(func() { systemStorageDir = old })
}

// cleanEnv unsets the variables Load reads and moves to an empty directory.
func cleanEnv(t *testing.T) string {
	t.Helper()
	noSystemDir(t)
	t.Setenv(EnvConfig, "")
	t.Setenv(EnvFIPS, "")
	dir := t.TempDir()
	t.Chdir(dir)
	return dir
}

// inputErr asserts err is an *errs.Error of kind KindInput with a hint, and
// that its text contains every want.
func inputErr(t *testing.T, err error, want ...string) *errs.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one containing %q", want)
	}
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *errs.Error", err, err)
	}
	if e.Kind != errs.KindInput {
		t.Errorf("kind = %d, want KindInput: %v", e.Kind, err)
	}
	if e.Hint == "" {
		t.Errorf("no hint: %v", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	return e
}

func TestDefault(t *testing.T) {
	noSystemDir(t)
	c := Default()
	want := Config{
		Token: Token{Label: "Craton HSM Token 0", StoragePath: "craton_hsm_store", SlotCount: 1,
			SerialNumber: "0000000000000001", MaxSessions: 100, MaxRWSessions: 10},
		Security:   Security{PINMinLength: 8, PINMaxLength: 64, MaxFailedLogins: 10, PBKDF2Iterations: 600000},
		Algorithms: Algorithms{EnablePQC: true},
		Audit:      Audit{Enabled: true, LogPath: "craton_hsm_audit.jsonl", LogLevel: "all"},
	}
	if c != want {
		t.Errorf("Default() =\n%+v\nwant\n%+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Default().Validate() = %v", err)
	}
}

func TestDefaultStoragePathSystem(t *testing.T) {
	old := systemStorageDir
	t.Cleanup(func() { systemStorageDir = old })
	parent := t.TempDir()
	sys := filepath.Join(parent, "store")
	systemStorageDir = func() string { return sys }
	if got := DefaultStoragePath(); got != sys {
		t.Errorf("parent exists: DefaultStoragePath() = %q, want %q", got, sys)
	}
	systemStorageDir = func() string { return filepath.Join(parent, "no", "store") }
	if got := DefaultStoragePath(); got != LocalStorageDir {
		t.Errorf("parent missing: DefaultStoragePath() = %q, want %q", got, LocalStorageDir)
	}
}

func TestFIPSFromEnv(t *testing.T) {
	for v, want := range map[string]bool{"": false, "0": false, "false": false, "1": true, "true": true, "TRUE": true} {
		t.Setenv(EnvFIPS, v)
		got, err := fipsFromEnv()
		if err != nil || got != want {
			t.Errorf("%s=%q: got %v, %v; want %v", EnvFIPS, v, got, err, want)
		}
	}
	t.Setenv(EnvFIPS, "yes")
	_, err := fipsFromEnv()
	inputErr(t, err, `CRATON_HSM_FIPS="yes"`, "allowed: 1, true, 0, false")
}
