package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/craton-co/craton/hsm/audit"
)

// engineDir writes an engine config with a persistent store in a temp dir
// and points CRATON_HSM_CONFIG at it.
func engineDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cfg := "token:\n  storage_path: ./store\n  persist_objects: true\nsecurity:\n  pbkdf2_iterations: 100000\naudit:\n  log_path: ./audit.jsonl\n"
	if err := os.WriteFile(filepath.Join(dir, "craton_hsm.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CRATON_HSM_CONFIG", filepath.Join(dir, "craton_hsm.yaml"))
	for name, v := range map[string]string{"so.pin": "sopin123\n", "user.pin": "userpin1\n", "new.pin": "userpin2\n", "bad.pin": "wrongpin9\n", "so2.pin": "sopin456\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := run(t, args...)
	if code != 0 {
		t.Fatalf("craton %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

func TestEngineTokenLifecycleCommands(t *testing.T) {
	dir := engineDir(t)
	p := func(n string) string { return filepath.Join(dir, n) }
	mustRun(t, "token", "init", "--label", "Cmd-Token", "--so-pin-file", p("so.pin"))
	mustRun(t, "token", "init-pin", "--token", "Cmd-Token", "--so-pin-file", p("so.pin"), "--pin-file", p("user.pin"))
	out := mustRun(t, "token", "info", "-o", "csv")
	if !strings.Contains(out, "Cmd-Token") || !strings.Contains(out, "user_pin_initialized") {
		t.Fatalf("token info after init-pin:\n%s", out)
	}
	mustRun(t, "token", "set-pin", "--token", "Cmd-Token", "--pin-file", p("user.pin"), "--new-pin-file", p("new.pin"))
	// The old PIN no longer works; the new one does. A wrong PIN is never retried.
	if code, _, errOut := run(t, "token", "objects", "--token", "Cmd-Token", "--pin-file", p("user.pin")); code != 5 || !strings.Contains(errOut, "CKR_PIN_INCORRECT") {
		t.Fatalf("old PIN: exit %d, %s", code, errOut)
	}
	mustRun(t, "token", "objects", "--token", "Cmd-Token", "--pin-file", p("new.pin"), "-o", "json")
	// Re-initialising with a wrong SO PIN changes nothing.
	if code, _, errOut := run(t, "token", "init", "--token", "Cmd-Token", "--label", "Other", "--so-pin-file", p("bad.pin")); code != 5 {
		t.Fatalf("re-init with wrong SO PIN: exit %d, %s", code, errOut)
	}
	if out := mustRun(t, "token", "info", "--token", "Cmd-Token", "-o", "csv"); !strings.Contains(out, "Cmd-Token") {
		t.Fatalf("token gone after a refused re-init:\n%s", out)
	}
}

func TestSelftestCommand(t *testing.T) {
	engineDir(t)
	out := mustRun(t, "selftest", "-o", "csv")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 18 { // header + 17 self-tests
		t.Fatalf("selftest printed %d lines:\n%s", len(lines), out)
	}
	for _, l := range lines[1:] {
		if !strings.Contains(l, ",PASS") {
			t.Errorf("self-test not passed: %s", l)
		}
	}
}

func TestAuditVerifyAndShowCommands(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.jsonl")
	l, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if err := l.Append(audit.Event{Session: 7, Op: audit.Sign(0x40, true)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Append(audit.Event{Session: 7, Op: audit.Login(1), RV: 0xA0}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if out := mustRun(t, "audit", "verify", "--audit-log", path); !strings.Contains(out, "chain intact, 6 entries") {
		t.Fatalf("verify: %s", out)
	}
	out := mustRun(t, "audit", "show", "--audit-log", path, "--failures", "-o", "csv")
	if !strings.Contains(out, "Login") || !strings.Contains(out, "CKR_PIN_INCORRECT") || strings.Contains(out, "Sign") {
		t.Fatalf("show --failures:\n%s", out)
	}
	out = mustRun(t, "audit", "show", "--audit-log", path, "--op", "Sign", "-o", "csv")
	if strings.Count(out, "CKM_SHA256_RSA_PKCS") != 5 || !strings.Contains(out, "true") {
		t.Fatalf("show --op Sign:\n%s", out)
	}
	data, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(data), "\n")
	lines[2], lines[3] = lines[3], lines[2] // swap two lines
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run(t, "audit", "verify", "--audit-log", path)
	if code != 7 || !strings.Contains(errOut, "line 3") {
		t.Fatalf("swapped lines: exit %d, %s", code, errOut)
	}
	if code, _, errOut := run(t, "audit", "show", "--audit-log", path, "--since", "yesterday"); code != 2 || !strings.Contains(errOut, "RFC 3339") {
		t.Fatalf("bad --since: exit %d, %s", code, errOut)
	}
}
