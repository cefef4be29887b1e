package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/craton-co/craton/internal/softhsmtest"
	"github.com/craton-co/craton/inventory"
)

// TestMainJobSoftHSMToEngine is the README's main job through the CLI: a
// real SoftHSMv2 token is inventoried, planned, moved into the embedded
// engine, its non-extractable keys regenerated, the PINs rotated, and the
// cutover checklist passes.
func TestMainJobSoftHSMToEngine(t *testing.T) {
	dir := engineDir(t)
	fx := softhsmtest.New(t)
	tok := fx.EmptyToken("cmd-main-job")
	softhsmtest.PopulateRepresentative(tok)
	src := filepath.Join(dir, "src.pin")
	if err := os.WriteFile(src, []byte(softhsmtest.UserPIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := func(n string) string { return filepath.Join(dir, n) }
	from := []string{"--from-token", tok.Label, "--from-pin-file", src}
	with := func(args ...string) []string { return append(append(args, from...), "--to-pin-file", p("user.pin")) }

	mustRun(t, append([]string{"migrate", "inventory", "-o", "csv", "--out", p("pre.csv")}, from...)...)
	mustRun(t, with("migrate", "move", "--init-target", "--to-so-pin-file", p("so.pin"), "-o", "json")...)
	sameKeysOnBothSides(t, from, tok.Label, p("user.pin"))
	mustRun(t, with("migrate", "plan", "-o", "yaml", "--out", p("plan.yaml"))...)
	runbook := mustRun(t, with("migrate", "plan", "-o", "markdown")...)
	for _, want := range []string{tok.Label, "craton-hsm.module", "modutil", "libcraton_hsm.so"} {
		if !strings.Contains(runbook, want) {
			t.Errorf("runbook lacks %q", want)
		}
	}
	mustRun(t, with("migrate", "regenerate", "--plan", p("plan.yaml"), "--csr-dir", p("csr"), "-o", "csv")...)
	csrs, _ := filepath.Glob(p("csr/*.csr"))
	if len(csrs) == 0 {
		t.Fatal("regenerate wrote no CSR")
	}

	verifyArgs := with("migrate", "verify", "--inventory", p("pre.csv"), "--plan", p("plan.yaml"), "--to-so-pin-file", p("so.pin"), "-o", "csv")
	// Before the PINs are rotated, the checklist must fail (item 9).
	if code, out, errOut := run(t, verifyArgs...); code != 7 || !strings.Contains(out, "FAIL") {
		t.Fatalf("verify before PIN rotation: exit %d\n%s\n%s", code, out, errOut)
	}
	mustRun(t, "token", "set-pin", "--token", tok.Label, "--pin-file", p("user.pin"), "--new-pin-file", p("new.pin"))
	// The SO PIN that initialised the target is in the journal too: still
	// unchanged, so item 9 still fails.
	soStill := with("migrate", "verify", "--inventory", p("pre.csv"), "--plan", p("plan.yaml"), "--to-so-pin-file", p("so.pin"), "-o", "csv")
	soStill[len(soStill)-1] = p("new.pin")
	if code, out, errOut := run(t, soStill...); code != 7 || !strings.Contains(out, "target SO PIN equals") {
		t.Fatalf("verify with the migration SO PIN: exit %d\n%s\n%s", code, out, errOut)
	}
	mustRun(t, "token", "set-pin", "--so", "--token", tok.Label, "--pin-file", p("so.pin"), "--new-pin-file", p("so2.pin"))
	// --exec runs after craton released the engine's store lock, so the
	// transaction (here: another craton process) can open the same store.
	verifyArgs = with("migrate", "verify", "--inventory", p("pre.csv"), "--plan", p("plan.yaml"), "--to-so-pin-file", p("so2.pin"),
		"--exec", "test -n \"$PKCS11_MODULE_PATH\" && test \"$CRATON_TOKEN_LABEL\" = "+tok.Label, "-o", "markdown")
	verifyArgs[len(verifyArgs)-1] = p("new.pin") // --to-pin-file is last: the rotated user PIN
	code, out, errOut := run(t, verifyArgs...)
	if code != 0 {
		t.Fatalf("verify after the move: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "- [x] 3.") || !strings.Contains(out, "- [x] 7.") || strings.Contains(out, "FAIL") {
		t.Fatalf("checklist:\n%s", out)
	}
}

// sameKeysOnBothSides inventories the source and the engine target and
// checks that every moved key shows the same fingerprint or check value on
// both: the inventory identifies a key, not a module's copy of it.
func sameKeysOnBothSides(t *testing.T, from []string, label, targetPIN string) {
	t.Helper()
	read := func(args ...string) inventory.Inventory {
		var inv inventory.Inventory
		if err := json.Unmarshal([]byte(mustRun(t, append([]string{"migrate", "inventory", "-o", "json"}, args...)...)), &inv); err != nil {
			t.Fatal(err)
		}
		return inv
	}
	src := read(from...)
	dst := read("--from-module", "embedded", "--from-token", label, "--from-pin-file", targetPIN)
	compared := 0
	for _, r := range src.Records {
		if r.Disposition != inventory.Wrap {
			continue
		}
		got := dst.Find(r.Class, r.Label)
		if len(got) != 1 {
			t.Errorf("%s %q: %d copies on the target", r.Class, r.Label, len(got))
			continue
		}
		// SoftHSMv2 hides the EC point of a private key without a public
		// object: the source cannot know that fingerprint; the target can.
		if (r.Fingerprint != "" && r.Fingerprint != got[0].Fingerprint) || r.CheckValue != got[0].CheckValue {
			t.Errorf("%s %q: source fingerprint %q check %q, target fingerprint %q check %q",
				r.Class, r.Label, r.Fingerprint, r.CheckValue, got[0].Fingerprint, got[0].CheckValue)
		}
		if r.Fingerprint != "" || r.CheckValue != "" {
			compared++
		}
	}
	if compared < 5 {
		t.Fatalf("only %d moved keys had a fingerprint or check value to compare", compared)
	}
}
