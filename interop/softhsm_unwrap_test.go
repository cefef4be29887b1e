package interop

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// TestUnwrapSoftHSMBlob: a SoftHSMv2 token wraps an AES-256 key with
// CKM_AES_KEY_WRAP_PAD (0x210A, RFC 5649 with SoftHSM's zero padding) under
// a known KEK; the same KEK imported into Craton unwraps the blob with
// pkcs11-tool, and the unwrapped key encrypts like the original
// (AES-CBC on the same block gives the same ciphertext in both tokens).
func TestUnwrapSoftHSMBlob(t *testing.T) {
	const softhsm = "/usr/lib/softhsm/libsofthsm2.so"
	if _, err := os.Stat(softhsm); err != nil {
		t.Fatal("SoftHSMv2 not installed: apt-get install softhsm2 (scripts/deps.sh does)")
	}
	needTool(t, "softhsm2-util")
	s := newToken(t)
	shDir := s.file("softhsm")
	os.MkdirAll(shDir+"/tokens", 0o700)
	conf := s.write("softhsm2.conf", []byte("directories.tokendir = "+shDir+"/tokens\nobjectstore.backend = file\nlog.level = ERROR\n"))
	sh := func(args ...string) string {
		t.Helper()
		ctx := &store{t: t, dir: s.dir, cfg: s.cfg}
		out, err := ctx.run(time.Minute, nil, "env", append([]string{"SOFTHSM2_CONF=" + conf, "pkcs11-tool", "--module", softhsm}, args...)...)
		if err != nil {
			t.Fatalf("SoftHSM pkcs11-tool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	sh("--init-token", "--slot", "0", "--label", "src", "--so-pin", "12345678")
	sh("--token-label", "src", "--init-pin", "--login", "--so-pin", "12345678", "--pin", "1234")
	kek := bytes.Repeat([]byte{0x4b}, 32)
	key := []byte("0123456789abcdef0123456789ABCDEF")
	s.write("kek", kek)
	s.write("key", key)
	src := []string{"--token-label", "src", "--login", "--pin", "1234"}
	sh(append(src, "--write-object", s.file("kek"), "--type", "secrkey", "--key-type", "AES:32", "--id", "f1", "--label", "kek",
		"--usage-wrap")...)
	sh(append(src, "--write-object", s.file("key"), "--type", "secrkey", "--key-type", "AES:32", "--id", "11", "--label", "moved",
		"--extractable")...)
	sh(append(src, "--wrap", "-m", "0x210A", "--id", "f1", "--application-id", "11", "-o", s.file("blob"))...)

	s.userTool("--write-object", s.file("kek"), "--type", "secrkey", "--key-type", "AES:32", "--id", "f1", "--label", "kek", "--usage-wrap")
	s.userTool("--unwrap", "-m", "0x210A", "--id", "f1", "-i", s.file("blob"), "--key-type", "AES:",
		"--application-id", "31", "--application-label", "unwrapped")

	// Same key: AES-CBC of one block under a zero IV matches in both tokens.
	block := bytes.Repeat([]byte{0x5a}, 16)
	s.write("block", block)
	iv := "00000000000000000000000000000000"
	sh(append(src, "--encrypt", "-m", "AES-CBC", "--iv", iv, "--id", "11", "-i", s.file("block"), "-o", s.file("ct.softhsm"))...)
	s.userTool("--encrypt", "-m", "AES-CBC", "--iv", iv, "--id", "31", "-i", s.file("block"), "-o", s.file("ct.craton"))
	if a, b := s.read("ct.softhsm"), s.read("ct.craton"); len(a) != 16 || !bytes.Equal(a, b) {
		t.Fatalf("unwrapped key differs: SoftHSM %x, Craton %x", a, b)
	}
}
