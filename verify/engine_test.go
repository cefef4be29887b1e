package verify

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/craton-co/craton/hsm/config"
	"github.com/craton-co/craton/internal/softhsmtest"
	"github.com/craton-co/craton/modules"
	"github.com/craton-co/craton/p11"
	"github.com/craton-co/craton/wrapmove"
	"github.com/miekg/pkcs11"
)

// TestVerifyEngineTarget moves a SoftHSMv2 token into the embedded engine,
// verifies it (item 1 sees the 17 self-tests, item 8 the engine's audit
// log), then tampers with the audit log and shows item 8 failing.
func TestVerifyEngineTarget(t *testing.T) {
	fx := softhsmtest.New(t)
	src := fx.EmptyToken("verify-engine-src")
	softhsmtest.PopulateBulk(src, 8)

	dir := t.TempDir()
	cfg := config.Default()
	cfg.Token.StoragePath = filepath.Join(dir, "store")
	cfg.Token.PersistObjects = true
	cfg.Audit.LogPath = filepath.Join(dir, "audit.jsonl")
	eng, err := modules.OpenEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	tgt := initEngineToken(t, eng, "verify-engine-tgt")

	res, err := wrapmove.Move(context.Background(), wrapmove.MoveOptions{
		Source: fx.Module(), Target: eng, SourceToken: src.P11(), TargetToken: tgt,
		SourcePIN: softhsmtest.UserPIN, TargetPIN: engineUserPIN,
	})
	if err != nil {
		t.Fatalf("move: %v", err)
	}
	ctx, _ := modules.Engine(eng)
	opts := Options{Source: fx.Module(), Target: eng, SourceToken: src.P11(), TargetToken: tgt,
		SourcePIN: softhsmtest.UserPIN, TargetPIN: engineUserPIN, Plan: &res.Plan, Engine: ctx}

	rep, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 3, 4, 8} {
		if it := rep.Item(n); it.Status != Pass {
			t.Errorf("item %d: %s %s %v", n, it.Status, it.Evidence, it.Details)
		}
	}
	if ev := rep.Item(1).Evidence; !strings.Contains(ev, "17/17") {
		t.Errorf("item 1 evidence %q does not name the 17 self-tests", ev)
	}

	// Flip one byte in the middle of the audit log.
	data, err := os.ReadFile(cfg.Audit.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(data), `"Success"`)
	data[i+2] ^= 0x01
	if err := os.WriteFile(cfg.Audit.LogPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err = Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if it := rep.Item(8); it.Status != Fail || !strings.Contains(it.Evidence+strings.Join(it.Details, " "), "line") {
		t.Errorf("tampered audit log: item 8 %s %s %v", it.Status, it.Evidence, it.Details)
	}
	if rep.Err() == nil {
		t.Error("a tampered audit log must fail the checklist")
	}
}

const engineSOPIN, engineUserPIN = "so-Pin1234", "user-Pin12"

// initEngineToken initialises slot 0 of the engine and sets the user PIN.
func initEngineToken(t *testing.T, m p11.Module, label string) p11.Token {
	t.Helper()
	if err := m.InitToken(0, engineSOPIN, label); err != nil {
		t.Fatal(err)
	}
	tok, err := p11.FindToken(m, label, "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := p11.OpenSession(m, tok, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Login(pkcs11.CKU_SO, engineSOPIN); err != nil {
		t.Fatal(err)
	}
	if err := m.InitPIN(s.H, engineUserPIN); err != nil {
		t.Fatal(err)
	}
	if err := m.Logout(s.H); err != nil {
		t.Fatal(err)
	}
	return tok
}
