package hsm

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/craton-co/craton/errs"
	"github.com/craton-co/craton/hsm/store"
	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
	bolt "go.etcd.io/bbolt"
)

func TestObjectsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	c, sh := ready(t, dir)
	key := bytes.Repeat([]byte{0x5A}, 32)
	aes, err := c.CreateObject(sh, aesTemplate("persist-aes", "id-1", key, true))
	must(t, err)
	pub, err := c.CreateObject(sh, dataTemplate("persist-public", true, false))
	must(t, err)
	_, err = c.CreateObject(sh, dataTemplate("session-only", false, false))
	must(t, err)
	must(t, c.SetAttributeValue(sh, aes, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, "renamed-aes")}))
	must(t, c.Finalize())

	c2 := openCtx(t, testConfig(dir))
	sh2, err := c2.OpenSession(0, pkcs11.CKF_SERIAL_SESSION)
	must(t, err)
	// Public token objects are visible before login, with their handle.
	if got := byLabel(t, c2, sh2, "persist-public"); len(got) != 1 || got[0] != pub {
		t.Fatalf("public object after restart: %v (want %v)", got, pub)
	}
	if got := byLabel(t, c2, sh2, "renamed-aes"); len(got) != 0 {
		t.Fatal("private object visible before login")
	}
	if got := byLabel(t, c2, sh2, "session-only"); len(got) != 0 {
		t.Fatal("session object survived Finalize")
	}
	must(t, c2.Login(sh2, pkcs11.CKU_USER, userPIN))
	got := byLabel(t, c2, sh2, "renamed-aes")
	if len(got) != 1 || got[0] != aes {
		t.Fatalf("private object after restart: %v (want %v)", got, aes)
	}
	if id := attr(t, c2, sh2, aes, pkcs11.CKA_ID); string(id) != "id-1" {
		t.Fatalf("CKA_ID = %q", id)
	}
	must(t, c2.Logout(sh2))
	if got := byLabel(t, c2, sh2, "renamed-aes"); len(got) != 0 {
		t.Fatal("private object visible after logout")
	}
}

func TestSessionObjectsVanishWithSession(t *testing.T) {
	c, sh := ready(t, t.TempDir())
	other := rwSession(t, c)
	_, err := c.CreateObject(other, dataTemplate("ephemeral", false, false))
	must(t, err)
	if len(byLabel(t, c, sh, "ephemeral")) != 1 {
		t.Fatal("session objects are visible to the application's other sessions")
	}
	must(t, c.CloseSession(other))
	if len(byLabel(t, c, sh, "ephemeral")) != 0 {
		t.Fatal("session object outlived its session")
	}
}

func TestStoreLockedByAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	openCtx(t, testConfig(dir))
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "CRATON_HSM_HELPER_STORE="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	want := "Database at " + filepath.Join(dir, store.FileName) + " is locked by another process"
	if !strings.Contains(string(out), "KIND=store-locked RV=0x5 MSG="+want+"\n") {
		t.Fatalf("helper output:\n%s\nwant message %q", out, want)
	}
	// A second engine in the same process is refused the same way.
	_, err = Open(testConfig(dir))
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.KindStoreLocked || e.Msg != want || p11.RV(err) != pkcs11.CKR_GENERAL_ERROR {
		t.Fatalf("second Open in process: %v", err)
	}
}

// TestMain turns the test binary into the second process of
// TestStoreLockedByAnotherProcess when CRATON_HSM_HELPER_STORE is set, so
// that no test has to skip itself in normal runs.
func TestMain(m *testing.M) {
	if dir := os.Getenv("CRATON_HSM_HELPER_STORE"); dir != "" {
		helperProcess(dir)
		os.Exit(0)
	}
	if spec := os.Getenv("CRATON_HSM_BITFLIP_TRIAL"); spec != "" {
		bitflipChild(spec) // TestStoreBitFlips
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func helperProcess(dir string) {
	_, err := Open(testConfig(dir))
	var e *errs.Error
	if !errors.As(err, &e) {
		fmt.Printf("NOT-LOCKED err=%v\n", err)
		return
	}
	name := ""
	for _, row := range errs.ExitCodes {
		if row.Kind == e.Kind {
			name = row.Name
		}
	}
	fmt.Printf("KIND=%s RV=%#x MSG=%s\n", name, e.RV, e.Msg)
}

func TestNoPlaintextOnDisk(t *testing.T) {
	dir := t.TempDir()
	c, sh := ready(t, dir)
	key := []byte("\xC0\xFF\xEE\x11CRATON-KEY-PATTERN-0123456789\xAB\xCD")[:32]
	label, id := "zz-distinctive-label-7f3a", "ID-distinctive-91c2"
	_, err := c.CreateObject(sh, aesTemplate(label, id, key, true))
	must(t, err)
	pubLabel := "zz-public-label-5e1d"
	_, err = c.CreateObject(sh, dataTemplate(pubLabel, true, false))
	must(t, err)
	// A CKA_PRIVATE=false secret key (pkcs11-tool --keygen on SoftHSMv2):
	// its label is sealed under the public-object key, its value under the
	// OMK.
	pubKey := []byte("\xC0\xFF\xEE\x33PUBLIC-KEY-PATTERN-9876543210\xAB\xCD")[:32]
	_, err = c.CreateObject(sh, publicAESTemplate("zz-public-key-label", pubKey))
	must(t, err)
	must(t, c.Finalize())

	// An attacker who can read the files also has the public-object key
	// (in the token state): no key material may open with it.
	plains := publicPlaintexts(t, dir)
	if len(plains) != 2 {
		t.Fatalf("%d records under the public-object key, want 2", len(plains))
	}
	for rid, p := range plains {
		for name, k := range map[string][]byte{"private key": key, "public key": pubKey} {
			if bytes.Contains(p, k) {
				t.Errorf("%s value readable with the public-object key (record %d)", name, rid)
			}
		}
	}

	needles := map[string][]byte{"key": key, "label": []byte(label), "id": []byte(id), "public label": []byte(pubLabel),
		"public key": pubKey, "public key label": []byte("zz-public-key-label"),
		"user pin": []byte(userPIN), "so pin": []byte(soPIN)}
	for name, n := range needles {
		needles[name+" (hex)"] = []byte(hex.EncodeToString(n))
		needles[name+" (HEX)"] = []byte(strings.ToUpper(hex.EncodeToString(n)))
		needles[name+" (base64)"] = []byte(base64.StdEncoding.EncodeToString(n))
	}
	files := 0
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(path)
		must(t, err)
		files++
		for name, n := range needles {
			if bytes.Contains(raw, n) {
				t.Errorf("%s found in plaintext in %s", name, path)
			}
		}
		return nil
	})
	if files == 0 {
		t.Fatal("no files under storage_path")
	}
}

func TestCorruptRecordIsReportedOthersLoad(t *testing.T) {
	dir := t.TempDir()
	c, sh := ready(t, dir)
	var hs []pkcs11.ObjectHandle
	for i := 0; i < 3; i++ {
		h, err := c.CreateObject(sh, aesTemplate(fmt.Sprintf("k%d", i), "", bytes.Repeat([]byte{byte(i + 1)}, 32), true))
		must(t, err)
		hs = append(hs, h)
	}
	must(t, c.Finalize())
	victim := hs[1]
	flipRecordByte(t, filepath.Join(dir, store.FileName), 0, uint64(victim))

	c2 := openCtx(t, testConfig(dir))
	sh2 := rwSession(t, c2)
	must(t, c2.Login(sh2, pkcs11.CKU_USER, userPIN))
	for i, h := range hs {
		_, err := c2.GetAttributeValue(sh2, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, nil)})
		if h == victim {
			wantRV(t, err, pkcs11.CKR_OBJECT_HANDLE_INVALID)
		} else if err != nil {
			t.Errorf("object %d unreadable after another record was corrupted: %v", i, err)
		}
	}
	probs := c2.StoreProblems()
	want := fmt.Sprintf("object %d (0x%x): record fails authentication", victim, uint64(victim))
	if len(probs) != 1 || !strings.Contains(probs[0].Error(), want) {
		t.Fatalf("problems = %v, want one containing %q", probs, want)
	}
}

// flipRecordByte locates a record's value inside the bbolt file (read-only
// open to find it, then a raw write) and flips a byte of its ciphertext.
func flipRecordByte(t *testing.T, path string, slot uint, id uint64) {
	t.Helper()
	flipRecordIn(t, path, slot, "objects", id)
}

// flipRecordIn is flipRecordByte for record id of the sub-bucket name of
// slot's bucket ("objects", "material").
func flipRecordIn(t *testing.T, path string, slot uint, name string, id uint64) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	must(t, err)
	var val []byte
	db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(binary.BigEndian.AppendUint32([]byte("slot"), uint32(slot))).Bucket([]byte(name))
		val = append([]byte(nil), b.Get(binary.BigEndian.AppendUint64(nil, id))...)
		return nil
	})
	db.Close()
	raw, err := os.ReadFile(path)
	must(t, err)
	if len(val) < 40 || !bytes.Contains(raw, val) {
		t.Fatalf("record of %d not found in the file", id)
	}
	// Copy-on-write may leave stale copies of the page: flip them all, so
	// the live one is certainly hit.
	for from := 0; ; {
		i := bytes.Index(raw[from:], val)
		if i < 0 {
			break
		}
		raw[from+i+20] ^= 0x01 // inside the ciphertext, past kind and nonce
		from += i + len(val)
	}
	must(t, os.WriteFile(path, raw, 0o600))
}
