package cmd

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/craton-co/craton/internal/iostreams"
	"github.com/craton-co/craton/internal/softhsmtest"
	"github.com/craton-co/craton/inventory"
)

func TestInventoryFlagsParse(t *testing.T) {
	io, _, _, _ := iostreams.Test()
	var got *InventoryOptions
	c := newInventoryCmd(io, func(o *InventoryOptions) error { got = o; return nil })
	c.SetArgs([]string{"--from-token", "T", "--from-pin-env", "MYPIN", "-o", "json", "--out", "x.json"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.From.Module != "/usr/lib/softhsm/libsofthsm2.so" || got.From.Token != "T" ||
		got.PIN.Env != "MYPIN" || got.Output.Format != "json" || got.Output.Out != "x.json" {
		t.Fatalf("options = %+v, pin %+v", got, got.PIN)
	}
}

func TestInventorySoftHSMCommand(t *testing.T) {
	fx := softhsmtest.New(t)
	tok := fx.EmptyToken("cmd-inventory")
	want := softhsmtest.PopulateRepresentative(tok)
	t.Setenv("CRATON_TEST_SRC_PIN", softhsmtest.UserPIN)

	code, out, errOut := run(t, "migrate", "inventory", "--from-token", tok.Label,
		"--from-pin-env", "CRATON_TEST_SRC_PIN", "--output", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows)-1 != len(want) {
		t.Fatalf("%d CSV rows, want %d objects", len(rows)-1, len(want))
	}
	if strings.Join(rows[0][:4], ",") != "label,id,class,key_type" {
		t.Fatalf("header starts %v", rows[0][:4])
	}

	code, out, errOut = run(t, "migrate", "inventory", "--from-token", tok.Label,
		"--from-pin-env", "CRATON_TEST_SRC_PIN", "--output", "json")
	if code != 0 {
		t.Fatalf("json: exit %d: %s", code, errOut)
	}
	var inv inventory.Inventory
	if err := json.Unmarshal([]byte(out), &inv); err != nil {
		t.Fatal(err)
	}
	if inv.Token.Label != tok.Label || len(inv.Records) != len(want) || len(inv.Token.Mechanisms) == 0 {
		t.Fatalf("json inventory: label %q, %d records, %d mechanisms", inv.Token.Label, len(inv.Records), len(inv.Token.Mechanisms))
	}
	for _, r := range inv.Find(inventory.ClassPrivateKey, "ed25519-x") {
		if r.Disposition != inventory.Regenerate {
			t.Errorf("ed25519-x disposition %s, want regenerate", r.Disposition)
		}
	}
}

func TestInventoryErrorsExitCodes(t *testing.T) {
	fx := softhsmtest.New(t)
	tok := fx.EmptyToken("cmd-inventory-errors")
	t.Setenv("CRATON_TEST_SRC_PIN", softhsmtest.UserPIN)
	for name, tc := range map[string]struct {
		args []string
		code int
		msg  string
	}{
		"unknown label": {[]string{"--from-token", "no-such-label", "--from-pin-env", "CRATON_TEST_SRC_PIN"}, 4, tok.Label},
		"bad module":    {[]string{"--from-module", "/nonexistent/lib.so", "--from-token", "x", "--from-pin-env", "CRATON_TEST_SRC_PIN"}, 3, "module file not found"},
		"no pin source": {[]string{"--from-token", tok.Label}, 2, "--from-pin-file"},
		"unset pin env": {[]string{"--from-token", tok.Label, "--from-pin-env", "CRATON_TEST_UNSET"}, 2, "CRATON_TEST_UNSET"},
		"bad format":    {[]string{"--from-token", tok.Label, "--from-pin-env", "CRATON_TEST_SRC_PIN", "-o", "xml"}, 2, "unknown output format"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, errOut := run(t, append([]string{"migrate", "inventory"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.msg) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", code, tc.code, errOut, tc.msg)
			}
		})
	}
}

func TestMoveRefusesInMemoryEngine(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "craton_hsm.yaml")
	if err := os.WriteFile(cfg, []byte("token:\n  storage_path: ./store\n  label: Mem-Target\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CRATON_HSM_CONFIG", cfg)
	fx := softhsmtest.New(t)
	tok := fx.EmptyToken("cmd-inmemory")
	t.Setenv("CRATON_TEST_SRC_PIN", softhsmtest.UserPIN)
	t.Setenv("CRATON_TEST_DST_PIN", "userpin1")
	t.Setenv("CRATON_TEST_DST_SO", "sopin123")
	code, _, errOut := run(t, "migrate", "move", "--from-token", tok.Label, "--from-pin-env", "CRATON_TEST_SRC_PIN",
		"--init-target", "--to-so-pin-env", "CRATON_TEST_DST_SO", "--to-pin-env", "CRATON_TEST_DST_PIN")
	if code != 11 || !strings.Contains(errOut, "persist_objects") {
		t.Fatalf("exit %d, %s", code, errOut)
	}
}
