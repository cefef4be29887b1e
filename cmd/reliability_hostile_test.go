package cmd

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/craton-co/craton/errs"
	"github.com/craton-co/craton/internal/docsection"
	"github.com/craton-co/craton/internal/faults"
	"github.com/craton-co/craton/internal/softhsmtest"
	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// hostile is one case of the hostile-input catalogue in
// docs/reliability.md. The doc's table is generated from this table
// (TestHostileCatalogueDoc; CRATON_UPDATE_DOCS=1 rewrites it).
type hostile struct {
	Area string
	Name string
	// Args is the command line after "craton"; {placeholders} are replaced
	// by hostileEnv.expand (the doc shows them as they are).
	Args []string
	// Env is extra environment; set, the case runs the craton binary as a
	// subprocess (the fault shim must be loaded in its own process).
	Env []string
	// Setup runs first (files, tokens, mounts); it may set h.vars.
	Setup func(t *testing.T, h *hostileEnv)
	// Code is the expected exit code; Want a substring of stderr (or of
	// stdout when the exit code is 0).
	Code int
	Want string
	// Bin forces a subprocess even without Env.
	Bin bool
}

// hostileEnv is what the cases run against: a SoftHSMv2 source token, two
// tokens sharing a label, and an engine (CRATON_HSM_CONFIG) with a token.
type hostileEnv struct {
	dir  string
	fx   *softhsmtest.Fixture
	vars map[string]string
}

func (h *hostileEnv) expand(s string) string {
	for k, v := range h.vars {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

func (h *hostileEnv) write(t *testing.T, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(h.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

const (
	engLabel = "Hostile-Eng"
	dupLabel = "dup-label"
)

// hostileCases is the catalogue. Keep names stable: they are the doc's rows.
var hostileCases = []hostile{
	// Modules.
	{Area: "module", Name: "module file does not exist", Args: []string{"migrate", "inventory", "--from-module", "/nonexistent/libpkcs11.so", "--from-token", "{src}", "--from-pin-file", "{dir}/src.pin"}, Code: 3, Want: "module file not found"},
	{Area: "module", Name: "module path is a directory", Args: []string{"migrate", "inventory", "--from-module", "{dir}", "--from-token", "{src}", "--from-pin-file", "{dir}/src.pin"}, Code: 3, Want: "is a directory, not a shared library"},
	{Area: "module", Name: "module is not a shared library", Args: []string{"migrate", "inventory", "--from-module", "{dir}/not-a-lib.so", "--from-token", "{src}", "--from-pin-file", "{dir}/src.pin"}, Code: 3, Want: "dlopen failed"},
	{Area: "module", Name: "empty module path", Args: []string{"token", "info", "--module", ""}, Code: 2, Want: "no module path given"},
	{Area: "module", Name: "module fails C_Initialize (fault shim)", Args: []string{"migrate", "inventory", "--from-module", "{shim}", "--from-token", "{src}", "--from-pin-file", "{dir}/src.pin"}, Env: []string{"FAULTSHIM_FAIL=C_Initialize:0:0x30"}, Code: 3, Want: "C_Initialize of {shim}: CKR_DEVICE_ERROR"},
	{Area: "module", Name: "module fails C_GetSlotList (fault shim)", Args: []string{"migrate", "inventory", "--from-module", "{shim}", "--from-token", "{src}", "--from-pin-file", "{dir}/src.pin"}, Env: []string{"FAULTSHIM_FAIL=C_GetSlotList:0:0x32"}, Code: 1, Want: "CKR_DEVICE_REMOVED"},
	{Area: "module", Name: "module fails C_OpenSession (fault shim)", Args: []string{"migrate", "inventory", "--from-module", "{shim}", "--from-token", "{src}", "--from-pin-file", "{dir}/src.pin"}, Env: []string{"FAULTSHIM_FAIL=C_OpenSession:0:0xe0"}, Code: 4, Want: "CKR_TOKEN_NOT_PRESENT"},
	{Area: "module", Name: "module fails C_GetAttributeValue after 3 calls (fault shim)", Args: []string{"migrate", "inventory", "--from-module", "{shim}", "--from-token", "{src}", "--from-pin-file", "{dir}/src.pin"}, Env: []string{"FAULTSHIM_FAIL=C_GetAttributeValue:3:0x30"}, Code: 1, Want: "C_GetAttributeValue: CKR_DEVICE_ERROR"},
	{Area: "module", Name: "module fails C_FindObjects (fault shim)", Args: []string{"migrate", "inventory", "--from-module", "{shim}", "--from-token", "{src}", "--from-pin-file", "{dir}/src.pin"}, Env: []string{"FAULTSHIM_FAIL=C_FindObjects:0:0x32"}, Code: 1, Want: "C_FindObjects: CKR_DEVICE_REMOVED"},
	{Area: "module", Name: "module reports the PIN locked at C_Login (fault shim)", Args: []string{"migrate", "inventory", "--from-module", "{shim}", "--from-token", "{src}", "--from-pin-file", "{dir}/src.pin"}, Env: []string{"FAULTSHIM_FAIL=C_Login:0:0xa4"}, Code: 6, Want: "CKR_PIN_LOCKED"},
	{Area: "module", Name: "source fails C_WrapKey mid-move (fault shim)", Args: []string{"migrate", "move", "--from-module", "{shim}", "--from-token", "{src}", "--from-pin-file", "{dir}/src.pin", "--to-config", "{dir}/move/craton_hsm.yaml", "--to-pin-file", "{dir}/user.pin", "-o", "csv"}, Env: []string{"FAULTSHIM_FAIL=C_WrapKey:1:0x30"}, Setup: moveTarget, Code: 8, Want: "objects failed"},

	// Tokens.
	{Area: "token", Name: "unknown token label", Args: []string{"migrate", "inventory", "--from-token", "no-such-token", "--from-pin-file", "{dir}/src.pin"}, Code: 4, Want: `no token "no-such-token"; tokens present:`},
	{Area: "token", Name: "two tokens share the label", Args: []string{"migrate", "inventory", "--from-token", dupLabel, "--from-pin-file", "{dir}/src.pin"}, Code: 4, Want: `2 tokens are labelled "dup-label" (serials {serials})`},
	{Area: "token", Name: "shared label, --from-token-serial chooses", Args: []string{"migrate", "inventory", "--from-token", dupLabel, "--from-token-serial", "{serial1}", "--from-pin-file", "{dir}/src.pin", "-o", "csv"}, Code: 0, Want: "label,id,class"},
	{Area: "token", Name: "serial that no token has", Args: []string{"migrate", "inventory", "--from-token", "{src}", "--from-token-serial", "ffffffffffffffff", "--from-pin-file", "{dir}/src.pin"}, Code: 4, Want: "with serial ffffffffffffffff"},
	{Area: "token", Name: "no --from-token", Args: []string{"migrate", "inventory", "--from-pin-file", "{dir}/src.pin"}, Code: 2, Want: "no token label given"},
	{Area: "token", Name: "non-UTF-8 token label", Args: []string{"migrate", "inventory", "--from-token", "{badlabel}", "--from-pin-file", "{dir}/src.pin", "-o", "csv"}, Code: 0, Want: "label,id,class"},
	{Area: "token", Name: "--init-target when the target token exists", Args: []string{"migrate", "move", "--from-token", "{src}", "--from-pin-file", "{dir}/src.pin", "--to-token", engLabel, "--init-target", "--to-so-pin-file", "{dir}/so.pin", "--to-pin-file", "{dir}/user.pin"}, Code: 11, Want: `the target already has a token labelled "Hostile-Eng"`},

	// Objects with unusual attributes in the source.
	{Area: "attributes", Name: "non-UTF-8 label, empty CKA_ID, 64 KiB CKA_ID: inventory", Args: []string{"migrate", "inventory", "--from-token", "{odd}", "--from-pin-file", "{dir}/src.pin", "-o", "csv"}, Code: 0, Want: "%FF%FEodd"},
	{Area: "attributes", Name: "non-UTF-8 label, empty CKA_ID, 64 KiB CKA_ID: move", Args: []string{"migrate", "move", "--from-token", "{odd}", "--from-pin-file", "{dir}/src.pin", "--to-config", "{dir}/odd/craton_hsm.yaml", "--to-pin-file", "{dir}/user.pin", "-o", "csv"}, Setup: oddTarget, Code: 0, Want: "moved"},

	// PINs.
	{Area: "pin", Name: "wrong source PIN", Args: []string{"migrate", "inventory", "--from-token", "{src}", "--from-pin-file", "{dir}/bad.pin"}, Code: 5, Want: "CKR_PIN_INCORRECT"},
	{Area: "pin", Name: "PIN file missing", Args: []string{"migrate", "inventory", "--from-token", "{src}", "--from-pin-file", "{dir}/missing.pin"}, Code: 2, Want: "cannot read the source user PIN file"},
	{Area: "pin", Name: "PIN file empty", Args: []string{"migrate", "inventory", "--from-token", "{src}", "--from-pin-file", "{dir}/empty.pin"}, Code: 2, Want: "is empty"},
	{Area: "pin", Name: "PIN file with two lines", Args: []string{"migrate", "inventory", "--from-token", "{src}", "--from-pin-file", "{dir}/two-lines.pin"}, Code: 2, Want: "holds more than one line"},
	{Area: "pin", Name: "PIN file is a directory", Args: []string{"migrate", "inventory", "--from-token", "{src}", "--from-pin-file", "{dir}"}, Code: 2, Want: "cannot read the source user PIN file"},
	{Area: "pin", Name: "PIN environment variable unset", Args: []string{"migrate", "inventory", "--from-token", "{src}", "--from-pin-env", "CRATON_NO_SUCH_PIN_VAR"}, Code: 2, Want: "CRATON_NO_SUCH_PIN_VAR"},
	{Area: "pin", Name: "PIN file and PIN variable both given", Args: []string{"migrate", "inventory", "--from-token", "{src}", "--from-pin-file", "{dir}/src.pin", "--from-pin-env", "HOME"}, Code: 2, Want: "give one PIN source"},
	{Area: "pin", Name: "no PIN source and no terminal", Args: []string{"token", "objects", "--token", engLabel}, Code: 2, Want: "no source for the user PIN"},
	{Area: "pin", Name: "engine user PIN locked after max_failed_logins", Args: []string{"token", "objects", "--config", "{dir}/locked/craton_hsm.yaml", "--token", "Locked", "--pin-file", "{dir}/user.pin"}, Setup: lockedEngine, Code: 6, Want: "CKR_PIN_LOCKED"},
	{Area: "pin", Name: "new engine PIN too short", Args: []string{"token", "set-pin", "--token", engLabel, "--pin-file", "{dir}/user.pin", "--new-pin-file", "{dir}/short.pin"}, Code: 2, Want: "CKR_PIN_LEN_RANGE"},
	{Area: "pin", Name: "a flag that would take a PIN value does not exist", Args: []string{"token", "objects", "--token", engLabel, "--pin", "1234"}, Code: 2, Want: "unknown flag: --pin"},

	// Inventory CSV.
	{Area: "inventory CSV", Name: "CSV with a wrong header", Args: []string{"migrate", "mechanisms", "--from-token", "{src}", "--from-pin-file", "{dir}/src.pin", "--inventory", "{dir}/bad-header.csv"}, Code: 10, Want: "header"},
	{Area: "inventory CSV", Name: "CSV row with a bad hex CKA_ID", Args: []string{"migrate", "mechanisms", "--from-token", "{src}", "--from-pin-file", "{dir}/src.pin", "--inventory", "{dir}/bad-id.csv"}, Code: 10, Want: "line 2"},
	{Area: "inventory CSV", Name: "CSV empty", Args: []string{"migrate", "mechanisms", "--from-token", "{src}", "--from-pin-file", "{dir}/src.pin", "--inventory", "{dir}/empty.csv"}, Code: 10, Want: "inventory"},
	{Area: "inventory CSV", Name: "CSV is binary garbage", Args: []string{"migrate", "mechanisms", "--from-token", "{src}", "--from-pin-file", "{dir}/src.pin", "--inventory", "{dir}/garbage.csv"}, Code: 10, Want: "inventory"},
	{Area: "inventory CSV", Name: "CSV with a short row", Args: []string{"migrate", "mechanisms", "--from-token", "{src}", "--from-pin-file", "{dir}/src.pin", "--inventory", "{dir}/short-row.csv"}, Code: 10, Want: "line 2"},
	{Area: "inventory CSV", Name: "CSV file missing", Args: []string{"migrate", "mechanisms", "--from-token", "{src}", "--from-pin-file", "{dir}/src.pin", "--inventory", "{dir}/missing.csv"}, Code: 2, Want: "missing.csv: no such file or directory"},

	// Plan YAML.
	{Area: "plan YAML", Name: "plan is not YAML", Args: []string{"migrate", "move", "--from-token", "{src}", "--from-pin-file", "{dir}/src.pin", "--to-token", engLabel, "--to-pin-file", "{dir}/user.pin", "--plan", "{dir}/garbage.yaml"}, Code: 10, Want: "garbage.yaml"},
	{Area: "plan YAML", Name: "plan with an unknown key", Args: []string{"migrate", "move", "--from-token", "{src}", "--from-pin-file", "{dir}/src.pin", "--to-token", engLabel, "--to-pin-file", "{dir}/user.pin", "--plan", "{dir}/unknown-key.yaml"}, Code: 10, Want: "bogus_key"},
	{Area: "plan YAML", Name: "plan of an unsupported version", Args: []string{"migrate", "move", "--from-token", "{src}", "--from-pin-file", "{dir}/src.pin", "--to-token", engLabel, "--to-pin-file", "{dir}/user.pin", "--plan", "{dir}/version.yaml"}, Code: 10, Want: "version"},
	{Area: "plan YAML", Name: "plan made for another source token", Args: []string{"migrate", "move", "--from-token", "{src}", "--from-pin-file", "{dir}/src.pin", "--to-token", engLabel, "--to-pin-file", "{dir}/user.pin", "--plan", "{dir}/other-token.yaml"}, Code: 10, Want: `the plan's source token is "someone-else"`},
	{Area: "plan YAML", Name: "plan with an unknown action", Args: []string{"migrate", "move", "--from-token", "{src}", "--from-pin-file", "{dir}/src.pin", "--to-token", engLabel, "--to-pin-file", "{dir}/user.pin", "--plan", "{dir}/bad-action.yaml"}, Code: 10, Want: "teleport"},
	{Area: "plan YAML", Name: "plan file missing", Args: []string{"migrate", "move", "--from-token", "{src}", "--from-pin-file", "{dir}/src.pin", "--to-token", engLabel, "--to-pin-file", "{dir}/user.pin", "--plan", "{dir}/missing.yaml"}, Code: 10, Want: "missing.yaml"},
	{Area: "plan YAML", Name: "journal is not JSON", Args: []string{"migrate", "move", "--from-token", "{src}", "--from-pin-file", "{dir}/src.pin", "--to-token", engLabel, "--to-pin-file", "{dir}/user.pin", "--journal", "{dir}/garbage.yaml"}, Code: 10, Want: "malformed journal"},

	// Engine configuration and store.
	{Area: "config", Name: "config is not YAML", Args: []string{"token", "info", "--config", "{dir}/garbage.yaml"}, Code: 10, Want: "garbage.yaml"},
	{Area: "config", Name: "config with a misspelt key", Args: []string{"token", "info", "--config", "{dir}/cfg-typo.yaml"}, Code: 10, Want: "persist_object"},
	{Area: "config", Name: "config value out of range", Args: []string{"token", "info", "--config", "{dir}/cfg-range.yaml"}, Code: 10, Want: "slot_count"},
	{Area: "config", Name: "config file missing", Args: []string{"token", "info", "--config", "{dir}/missing.yaml"}, Code: 10, Want: "missing.yaml"},
	{Area: "config", Name: "config writable by others", Args: []string{"token", "info", "--config", "{dir}/cfg-mode.yaml"}, Code: 10, Want: "writable"},
	{Area: "config", Name: "config is a symbolic link", Args: []string{"token", "info", "--config", "{dir}/cfg-link.yaml"}, Code: 10, Want: "symbolic link"},
	{Area: "config", Name: "storage_path with ..", Args: []string{"token", "info", "--config", "{dir}/cfg-dotdot.yaml"}, Code: 10, Want: ".."},
	{Area: "store", Name: "storage_path on a full file system", Args: []string{"token", "init", "--config", "{dir}/full/craton_hsm.yaml", "--label", "Full", "--so-pin-file", "{dir}/so.pin"}, Setup: fullStore, Code: 3, Want: "no space left on device"},
	{Area: "store", Name: "storage_path read-only", Args: []string{"token", "info", "--config", "{dir}/ro/craton_hsm.yaml"}, Setup: readOnlyStore, Code: 3, Want: "read-only file system"},
	{Area: "store", Name: "store locked by another craton process", Args: []string{"token", "info", "-o", "csv"}, Setup: holdStore, Bin: true, Code: 9, Want: "another process"},

	// Output.
	{Area: "output", Name: "unknown output format", Args: []string{"token", "info", "-o", "xml"}, Code: 2, Want: "xml"},
	{Area: "output", Name: "--out into a missing directory", Args: []string{"token", "info", "-o", "csv", "--out", "{dir}/no/such/dir/info.csv"}, Code: 2, Want: "cannot create"},
	{Area: "output", Name: "unknown command", Args: []string{"migrate", "teleport"}, Code: 2, Want: "unknown command"},
	{Area: "output", Name: "unexpected argument", Args: []string{"token", "info", "extra"}, Code: 2, Want: "--help"},

	// Audit log tampering.
	{Area: "audit", Name: "audit log: one byte changed", Args: []string{"audit", "verify", "--audit-log", "{dir}/audit-flip.jsonl"}, Setup: tamper("flip"), Code: 7, Want: "line"},
	{Area: "audit", Name: "audit log: a line deleted", Args: []string{"audit", "verify", "--audit-log", "{dir}/audit-delete.jsonl"}, Setup: tamper("delete"), Code: 7, Want: "line"},
	{Area: "audit", Name: "audit log: two lines swapped", Args: []string{"audit", "verify", "--audit-log", "{dir}/audit-swap.jsonl"}, Setup: tamper("swap"), Code: 7, Want: "line"},
	{Area: "audit", Name: "audit log: truncated", Args: []string{"audit", "verify", "--audit-log", "{dir}/audit-truncate.jsonl"}, Setup: tamper("truncate"), Code: 7, Want: "line"},
	{Area: "audit", Name: "audit log: last line removed (head file)", Args: []string{"audit", "verify", "--audit-log", "{dir}/audit-tail.jsonl"}, Setup: tamper("tail"), Code: 7, Want: "head"},
	{Area: "audit", Name: "audit log missing", Args: []string{"audit", "verify", "--audit-log", "{dir}/no-audit.jsonl"}, Code: 10, Want: "no-audit.jsonl"},
}

// setupHostile builds the environment every case shares.
func setupHostile(t *testing.T) *hostileEnv {
	dir := engineDir(t)
	h := &hostileEnv{dir: dir, vars: map[string]string{"dir": dir}}
	fx := softhsmtest.New(t)
	h.fx = fx
	src := fx.EmptyToken("hostile-src")
	softhsmtest.PopulateBulk(src, 4)
	h.vars["src"] = src.Label
	// Two tokens with one label, one with a non-UTF-8 label: C_InitToken
	// directly (the fixture makes labels unique).
	var serials []string
	for _, label := range []string{dupLabel, dupLabel, "\xff\xfe-bad-label"} {
		slot, ok, err := p11.FreeSlot(fx.Module())
		if err != nil || !ok {
			t.Fatalf("free slot: %v", err)
		}
		if err := fx.Module().InitToken(slot, softhsmtest.SOPIN, label); err != nil {
			t.Fatal(err)
		}
		ti, err := fx.Module().GetTokenInfo(slot)
		if err != nil {
			t.Fatal(err)
		}
		initPIN(t, fx.Module(), slot)
		if label == dupLabel {
			serials = append(serials, strings.TrimSpace(ti.SerialNumber))
		}
	}
	h.vars["serials"] = strings.Join(serials, ", ")
	h.vars["serial1"] = serials[0]
	h.vars["badlabel"] = "\xff\xfe-bad-label"
	// Objects with unusual attributes.
	odd := fx.EmptyToken("hostile-odd")
	h.vars["odd"] = odd.Label
	odd.Do(func(s *p11.Session) {
		for _, o := range []struct {
			label string
			id    []byte
		}{{"\xff\xfeodd", []byte{0x01}}, {"empty-id", nil}, {"huge-id", bytes.Repeat([]byte{0xab}, 64<<10)}} {
			tmpl := []*pkcs11.Attribute{
				pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY), pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
				pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true), pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
				pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true), pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true),
				pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true), pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32),
				pkcs11.NewAttribute(pkcs11.CKA_LABEL, o.label), pkcs11.NewAttribute(pkcs11.CKA_ID, o.id),
			}
			if _, err := s.M.GenerateKey(s.H, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)}, tmpl); err != nil {
				t.Fatalf("odd object %q: %v", o.label, err)
			}
		}
	})
	writePINs(t, dir, map[string]string{"src.pin": softhsmtest.UserPIN, "short.pin": "abc"})
	h.write(t, "empty.pin", "", 0o600)
	h.write(t, "two-lines.pin", "1234\n5678\n", 0o600)
	h.write(t, "not-a-lib.so", "this is not an ELF file\n", 0o755)
	// The engine's token.
	mustRun(t, "token", "init", "--label", engLabel, "--so-pin-file", filepath.Join(dir, "so.pin"))
	mustRun(t, "token", "init-pin", "--token", engLabel, "--so-pin-file", filepath.Join(dir, "so.pin"), "--pin-file", filepath.Join(dir, "user.pin"))
	// Input files.
	h.write(t, "bad-header.csv", "name,kind\nx,y\n", 0o600)
	inv := mustRun(t, "migrate", "inventory", "--from-token", src.Label, "--from-pin-file", filepath.Join(dir, "src.pin"), "-o", "csv")
	lines := strings.SplitN(inv, "\n", 3)
	fields := strings.Split(lines[1], ",")
	fields[1] = "zz-not-hex"
	h.write(t, "bad-id.csv", lines[0]+"\n"+strings.Join(fields, ",")+"\n", 0o600)
	h.write(t, "short-row.csv", lines[0]+"\nonly,three,fields\n", 0o600)
	h.write(t, "empty.csv", "", 0o600)
	h.write(t, "garbage.csv", "\x00\x01\x02\xff\xfe\"unterminated\n\x00", 0o600)
	h.write(t, "garbage.yaml", "{{{: [\x00\n\t- :", 0o600)
	plan := mustRun(t, "migrate", "plan", "--from-token", src.Label, "--from-pin-file", filepath.Join(dir, "src.pin"),
		"--to-token", engLabel, "--to-pin-file", filepath.Join(dir, "user.pin"), "-o", "yaml")
	h.write(t, "unknown-key.yaml", plan+"bogus_key: 1\n", 0o600)
	h.write(t, "version.yaml", replaceLine(t, plan, "version:", "version: 99"), 0o600)
	h.write(t, "other-token.yaml", strings.Replace(plan, "token: "+src.Label, "token: someone-else", 1), 0o600)
	h.write(t, "bad-action.yaml", replaceFirstAfter(t, plan, "action:", "action: teleport"), 0o600)
	h.write(t, "cfg-typo.yaml", "token:\n  persist_object: true\n", 0o600)
	h.write(t, "cfg-range.yaml", "token:\n  slot_count: 0\n", 0o600)
	h.write(t, "cfg-mode.yaml", "token:\n  persist_objects: false\n", 0o666)
	h.write(t, "cfg-dotdot.yaml", "token:\n  storage_path: ../../escape\n", 0o600)
	if err := os.Symlink(filepath.Join(dir, "craton_hsm.yaml"), filepath.Join(dir, "cfg-link.yaml")); err != nil {
		t.Fatal(err)
	}
	return h
}

func initPIN(t *testing.T, m p11.Module, slot uint) {
	t.Helper()
	sh, err := m.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		t.Fatal(err)
	}
	defer m.CloseSession(sh)
	if err := m.Login(sh, pkcs11.CKU_SO, softhsmtest.SOPIN); err != nil {
		t.Fatal(err)
	}
	defer m.Logout(sh)
	if err := m.InitPIN(sh, softhsmtest.UserPIN); err != nil {
		t.Fatal(err)
	}
}

func replaceLine(t *testing.T, doc, prefix, with string) string {
	t.Helper()
	lines := strings.Split(doc, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) {
			lines[i] = with
			return strings.Join(lines, "\n")
		}
	}
	t.Fatalf("no line starts with %q in\n%s", prefix, doc)
	return ""
}

func replaceFirstAfter(t *testing.T, doc, key, with string) string {
	t.Helper()
	lines := strings.Split(doc, "\n")
	for i, l := range lines {
		if j := strings.Index(l, key); j >= 0 {
			lines[i] = l[:j] + with
			return strings.Join(lines, "\n")
		}
	}
	t.Fatalf("no %q in\n%s", key, doc)
	return ""
}

// sub makes a subdirectory with its own engine config.
func sub(t *testing.T, h *hostileEnv, name, extra string) string {
	t.Helper()
	d := filepath.Join(h.dir, name)
	if err := os.MkdirAll(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return engineConfig(t, d, extra)
}

// moveTarget is an engine with a token labelled like the source.
func moveTarget(t *testing.T, h *hostileEnv) {
	cfg := sub(t, h, "move", "")
	mustRun(t, "token", "init", "--config", cfg, "--label", h.vars["src"], "--so-pin-file", filepath.Join(h.dir, "so.pin"))
	mustRun(t, "token", "init-pin", "--config", cfg, "--token", h.vars["src"], "--so-pin-file", filepath.Join(h.dir, "so.pin"), "--pin-file", filepath.Join(h.dir, "user.pin"))
}

func oddTarget(t *testing.T, h *hostileEnv) {
	cfg := sub(t, h, "odd", "")
	mustRun(t, "token", "init", "--config", cfg, "--label", h.vars["odd"], "--so-pin-file", filepath.Join(h.dir, "so.pin"))
	mustRun(t, "token", "init-pin", "--config", cfg, "--token", h.vars["odd"], "--so-pin-file", filepath.Join(h.dir, "so.pin"), "--pin-file", filepath.Join(h.dir, "user.pin"))
}

// lockedEngine locks the user PIN of a token with max_failed_logins: 3.
func lockedEngine(t *testing.T, h *hostileEnv) {
	cfg := sub(t, h, "locked", "  max_failed_logins: 3\n")
	// engineConfig's security section is followed by audit; rewrite it whole.
	body := "token:\n  storage_path: ./store\n  persist_objects: true\nsecurity:\n  pbkdf2_iterations: 100000\n  max_failed_logins: 3\naudit:\n  log_path: ./audit.jsonl\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "token", "init", "--config", cfg, "--label", "Locked", "--so-pin-file", filepath.Join(h.dir, "so.pin"))
	mustRun(t, "token", "init-pin", "--config", cfg, "--token", "Locked", "--so-pin-file", filepath.Join(h.dir, "so.pin"), "--pin-file", filepath.Join(h.dir, "user.pin"))
	for range 3 {
		if code, _, errOut := run(t, "token", "objects", "--config", cfg, "--token", "Locked", "--pin-file", filepath.Join(h.dir, "bad.pin")); code != 5 {
			t.Fatalf("wrong PIN: exit %d %s", code, errOut)
		}
	}
}

// mountTmpfs mounts a tmpfs of size bytes on dir (root only), unmounted
// at cleanup.
func mountTmpfs(t *testing.T, dir, opts string) {
	t.Helper()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, opts); err != nil {
		t.Fatalf("mount tmpfs on %s (%s): %v — the store tests need root (CAP_SYS_ADMIN)", dir, opts, err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
}

// fullStore puts storage_path on a 64 KiB tmpfs already filled to the brim.
func fullStore(t *testing.T, h *hostileEnv) {
	sub(t, h, "full", "")
	store := filepath.Join(h.dir, "full", "store")
	if err := os.MkdirAll(store, 0o700); err != nil {
		t.Fatal(err)
	}
	mountTmpfs(t, store, "size=64k,mode=0700")
	f, err := os.Create(filepath.Join(store, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	f.Close()
}

// readOnlyStore initialises a store, then mounts a read-only tmpfs copy
// of it... simpler: the store directory is a read-only tmpfs mount.
func readOnlyStore(t *testing.T, h *hostileEnv) {
	sub(t, h, "ro", "")
	store := filepath.Join(h.dir, "ro", "store")
	if err := os.MkdirAll(store, 0o700); err != nil {
		t.Fatal(err)
	}
	mountTmpfs(t, store, "size=1m,mode=0700")
	if err := syscall.Mount("", store, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount read-only: %v", err)
	}
}

// holdStore starts a craton process that opens the engine store and then
// blocks reading its PIN from a FIFO; the case's command runs meanwhile.
func holdStore(t *testing.T, h *hostileEnv) {
	fifo := filepath.Join(h.dir, "pin.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	c := exec.Command(cratonBinary(t), "token", "objects", "--token", engLabel, "--pin-file", fifo, "-o", "csv")
	c.Env = os.Environ()
	logPath := filepath.Join(h.dir, "holder.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	c.Stdout, c.Stderr = logf, logf
	out := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	// It holds the lock once it opens the FIFO for reading (after the
	// store): a non-blocking open for writing then succeeds. Keeping that
	// end open without writing leaves the reader blocked in read(2).
	w := openFIFOWhenRead(t, fifo, c, "the first craton never reached its PIN read", out)
	t.Cleanup(func() {
		// Let the first process finish normally: it must have been fine.
		_, _ = w.WriteString("userpin1\n")
		w.Close()
		if err := c.Wait(); err != nil {
			t.Errorf("the craton holding the store failed: %v\n%s", err, out())
		}
	})
}

// tamper writes a copy of the engine's audit log changed one way.
func tamper(how string) func(t *testing.T, h *hostileEnv) {
	return func(t *testing.T, h *hostileEnv) {
		orig, err := os.ReadFile(filepath.Join(h.dir, "audit.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		head, _ := os.ReadFile(filepath.Join(h.dir, "audit.jsonl.head"))
		lines := strings.SplitAfter(string(orig), "\n")
		if len(lines) < 6 {
			t.Fatalf("audit log too short: %d lines", len(lines))
		}
		switch how {
		case "flip":
			b := []byte(lines[3])
			i := strings.Index(lines[3], `"timestamp":`) + 13
			b[i] ^= 0x01
			lines[3] = string(b)
		case "delete":
			lines = append(lines[:2], lines[3:]...)
		case "swap":
			lines[2], lines[3] = lines[3], lines[2]
		case "truncate":
			last := len(lines) - 2
			lines[last] = lines[last][:len(lines[last])/2]
			lines = lines[:last+1]
		case "tail":
			lines = lines[:len(lines)-2]
		}
		p := h.write(t, "audit-"+how+".jsonl", strings.Join(lines, ""), 0o600)
		if len(head) > 0 {
			h.write(t, filepath.Base(p)+".head", string(head), 0o600)
		}
	}
}

// TestHostileInputCatalogue runs every case of the catalogue and checks
// its exit code and message.
func TestHostileInputCatalogue(t *testing.T) {
	h := setupHostile(t)
	shim := faults.BuildCShim(t)
	h.vars["shim"] = shim
	for i, c := range hostileCases {
		t.Run(fmt.Sprintf("%02d-%s", i+1, c.Name), func(t *testing.T) {
			if c.Setup != nil {
				c.Setup(t, h)
			}
			args := make([]string, len(c.Args))
			for j, a := range c.Args {
				args[j] = h.expand(a)
			}
			var code int
			var out, errOut string
			if len(c.Env) > 0 || c.Bin {
				cmd := exec.Command(cratonBinary(t), args...)
				cmd.Env = append(os.Environ(), "FAULTSHIM_MODULE="+p11.DefaultSoftHSM, "SOFTHSM2_CONF="+h.fx.ConfPath())
				for _, e := range c.Env {
					cmd.Env = append(cmd.Env, h.expand(e))
				}
				var so, se bytes.Buffer
				cmd.Stdout, cmd.Stderr = &so, &se
				err := cmd.Run()
				code = cmd.ProcessState.ExitCode()
				if err != nil && code < 0 {
					t.Fatalf("craton died: %v\n%s", err, se.String())
				}
				out, errOut = so.String(), se.String()
			} else {
				code, out, errOut = run(t, args...)
			}
			want := h.expand(c.Want)
			text := errOut
			if c.Code == 0 {
				text = out
			}
			if code != c.Code || !strings.Contains(text, want) {
				t.Errorf("craton %s\nexit %d, want %d; want %q in\nstderr: %s\nstdout: %.600s", strings.Join(args, " "), code, c.Code, want, errOut, out)
			}
			if c.Code != 0 && strings.Count(errOut, "craton: ") != 1 {
				t.Errorf("stderr is not one 'craton: ' error line:\n%s", errOut)
			}
			if strings.Contains(errOut, "panic") || strings.Contains(errOut, "goroutine ") {
				t.Errorf("craton panicked:\n%s", errOut)
			}
		})
	}
}

const (
	hostileBegin = "<!-- hostile-catalogue:begin (generated from cmd/reliability_hostile_test.go; CRATON_UPDATE_DOCS=1 go test ./cmd -run TestHostileCatalogueDoc) -->"
	hostileEnd   = "<!-- hostile-catalogue:end -->"
)

// hostileMarkdown renders the catalogue as the doc's table.
func hostileMarkdown() string {
	names := map[int]string{0: "ok"}
	for _, r := range errs.ExitCodes {
		names[r.Code] = r.Name
	}
	cell := func(s string) string {
		return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
	}
	var b strings.Builder
	b.WriteString("| # | area | case | command | exit | message contains |\n| --- | --- | --- | --- | --- | --- |\n")
	for i, c := range hostileCases {
		var args []string
		for _, a := range c.Args {
			if a == "" || strings.ContainsAny(a, " \"'") {
				a = fmt.Sprintf("%q", a)
			}
			args = append(args, a)
		}
		cmdline := strings.Join(append(append([]string{}, c.Env...), append([]string{"craton"}, args...)...), " ")
		fmt.Fprintf(&b, "| %d | %s | %s | `%s` | %d (%s) | `%s` |\n", i+1, c.Area, cell(c.Name), cell(cmdline), c.Code, names[c.Code], cell(c.Want))
	}
	return b.String()
}

// TestHostileCatalogueDoc keeps docs/reliability.md's catalogue equal to
// hostileCases.
func TestHostileCatalogueDoc(t *testing.T) {
	if len(hostileCases) < 40 {
		t.Errorf("the catalogue has %d cases, want at least 40", len(hostileCases))
	}
	docsection.Check(t, filepath.Join("..", "docs", "reliability.md"), hostileBegin, hostileEnd, hostileMarkdown(),
		"CRATON_UPDATE_DOCS=1 go test ./cmd -run TestHostileCatalogueDoc")
}
