package cmd

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/craton-co/craton/internal/iostreams"
	"github.com/craton-co/craton/internal/softhsmtest"
	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestSecurityNoSecretsInFiles runs a full migration of a SoftHSMv2 token
// holding an AES key of known value under distinctive PINs, then searches
// every file craton wrote — the engine store, its audit log and head, the
// journal, the inventory, plan, move and verify reports — and everything it
// printed, for the key bytes (raw, hex, base64) and the PINs: none may
// appear anywhere. The label may appear in the operator's files (inventory,
// plan, reports) and the journal (it names objects by label and CKA_ID, see
// docs/reliability.md) but not in the store or the audit log.
func TestSecurityNoSecretsInFiles(t *testing.T) {
	dir := engineDir(t)
	p := func(n string) string { return filepath.Join(dir, n) }
	key := []byte("\x9c\x03CRATON-KNOWN-KEY-BYTES-7e5a\x01\xfe!") // 32 bytes
	if len(key) != 32 {
		t.Fatalf("key is %d bytes", len(key))
	}
	const label = "zz-secret-label-4c1d"
	srcPIN, userPIN, soPIN := "Src-PIN-9d8c7b6a", "Tgt-User-PIN-5e4d3c", "Tgt-SO-PIN-2b1a0f"
	writePINs(t, dir, map[string]string{"s.pin": srcPIN, "u.pin": userPIN, "o.pin": soPIN})

	fx := softhsmtest.New(t)
	tok := fx.EmptyToken("sec-src")
	tok.Do(func(s *p11.Session) {
		_, err := s.M.CreateObject(s.H, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY), pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true), pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
			pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true), pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true),
			pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true), pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, true),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label), pkcs11.NewAttribute(pkcs11.CKA_ID, []byte{0x5e, 0xc0}),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE, key),
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.M.SetPIN(s.H, softhsmtest.UserPIN, srcPIN); err != nil {
			t.Fatal(err)
		}
	})

	var printed bytes.Buffer
	runOK := func(args ...string) {
		t.Helper()
		code, out, errOut := run(t, args...)
		printed.WriteString(out + errOut)
		if code != 0 {
			t.Fatalf("craton %s: exit %d: %s", strings.Join(args, " "), code, errOut)
		}
	}
	from := []string{"--from-token", tok.Label, "--from-pin-file", p("s.pin")}
	with := func(args ...string) []string { return append(append(args, from...), "--to-pin-file", p("u.pin")) }
	runOK(append([]string{"migrate", "inventory", "-o", "csv", "--out", p("inventory.csv")}, from...)...)
	runOK(with("migrate", "move", "--init-target", "--to-so-pin-file", p("o.pin"), "-o", "json", "--out", p("move.json"))...)
	runOK(with("migrate", "plan", "-o", "yaml", "--out", p("plan.yaml"))...)
	runOK(with("migrate", "plan", "-o", "markdown", "--out", p("runbook.md"))...)
	code, out, errOut := run(t, with("migrate", "verify", "--inventory", p("inventory.csv"), "--to-so-pin-file", p("o.pin"), "-o", "markdown", "--out", p("verify.md"))...)
	printed.WriteString(out + errOut)
	if code != 0 && code != 7 { // 7: the PINs were not rotated, expected here
		t.Fatalf("verify: exit %d %s", code, errOut)
	}
	runOK("token", "objects", "--token", tok.Label, "--pin-file", p("u.pin"), "-o", "json", "--out", p("objects.json"))
	runOK("audit", "show", "-o", "csv", "--out", p("audit.csv"))
	runOK("audit", "verify")

	secrets := map[string][]byte{
		"key bytes": key, "key hex": []byte(hex.EncodeToString(key)), "key HEX": []byte(strings.ToUpper(hex.EncodeToString(key))),
		"key base64": []byte(base64.StdEncoding.EncodeToString(key)), "key base64url": []byte(base64.RawURLEncoding.EncodeToString(key)),
		"key middle": key[2:26],
		"source PIN": []byte(srcPIN), "target user PIN": []byte(userPIN), "target SO PIN": []byte(soPIN),
	}
	// Base64 of the key at the three alignments a containing blob could have.
	for off := 1; off < 3; off++ {
		b := base64.StdEncoding.EncodeToString(append(make([]byte, off), key...))
		secrets["key base64 +"+string(rune('0'+off))] = []byte(b[4 : len(b)-4])
	}
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".pin") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		rel, _ := filepath.Rel(dir, path)
		for what, s := range secrets {
			if bytes.Contains(b, s) {
				t.Errorf("%s contains the %s", rel, what)
			}
		}
		inStore := strings.HasPrefix(rel, "store") && !strings.HasSuffix(rel, ".journal.json")
		if (inStore || strings.HasPrefix(rel, "audit.jsonl")) && bytes.Contains(b, []byte(label)) {
			t.Errorf("%s contains the label in clear", rel)
		}
		t.Logf("searched %s (%d bytes)", rel, len(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 8 {
		t.Errorf("searched only %d files", files)
	}
	for what, s := range secrets {
		if bytes.Contains(printed.Bytes(), s) {
			t.Errorf("craton printed the %s", what)
		}
	}
}

// TestSecurityNoFlagTakesAPIN walks every command: a flag whose name
// mentions a PIN must name a file or an environment variable, never carry
// the PIN itself (it would show in ps and shell history).
func TestSecurityNoFlagTakesAPIN(t *testing.T) {
	io, _, _, _ := iostreams.Test()
	var walk func(c *cobra.Command)
	n := 0
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if strings.Contains(f.Name, "pin") {
				n++
				if !strings.HasSuffix(f.Name, "-file") && !strings.HasSuffix(f.Name, "-env") {
					t.Errorf("%s --%s may take a PIN value", c.CommandPath(), f.Name)
				}
			}
		})
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(NewRootCmd(io))
	if n < 10 {
		t.Errorf("only %d PIN flags found", n)
	}
}
