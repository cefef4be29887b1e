package wrapmove

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/craton-co/craton/p11"
)

// One SoftHSMv2 configuration serves the whole test binary: SoftHSMv2 reads
// SOFTHSM2_CONF once, at C_Initialize, and p11.OpenLibrary shares one
// loaded library per process. TestMain builds the representative source
// token with the project's fixture script and initialises one empty target
// token per test before the library is loaded.
var (
	shDir      string // holds softhsm2.conf and tokens/
	shReady    bool
	shSetupErr error
)

const (
	srcLabel = "Your-Token-Label"
	userPIN  = "1234"
	soPIN    = "12345678"
)

// targetLabels are the empty tokens tests use as targets.
var targetLabels = []string{"tgt-move", "tgt-resume", "tgt-crash", "tgt-regen", "tgt-harden", "tgt-dry", "bench-src", "bench-tgt"}

func setupSoftHSM() error {
	for _, tool := range []string{"softhsm2-util", "pkcs11-tool", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not installed (apt-get install softhsm2 opensc openssl): %v", tool, err)
		}
	}
	dir, err := os.MkdirTemp("", "wrapmove-softhsm-")
	if err != nil {
		return err
	}
	shDir = dir
	script := fixtureScript()
	cmd := exec.Command("bash", script, dir)
	cmd.Env = append(os.Environ(), "TARGET_LABEL=Target-Token")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if out, err := cmd.Output(); err != nil {
		return fmt.Errorf("fixture script: %v\n%s%s", err, out, stderr.String())
	}
	os.Setenv("SOFTHSM2_CONF", filepath.Join(dir, "softhsm2.conf"))
	for _, l := range targetLabels {
		c := exec.Command("softhsm2-util", "--init-token", "--free", "--label", l, "--so-pin", soPIN, "--pin", userPIN)
		if out, err := c.CombinedOutput(); err != nil {
			return fmt.Errorf("init token %s: %v\n%s", l, err, out)
		}
	}
	shReady = true
	return nil
}

// fixtureScript finds make-softhsm-fixture.sh: the project copy when it
// exists, else the shared one.
func fixtureScript() string {
	for _, p := range []string{"../scripts/make-softhsm-fixture.sh", "../internal/softhsmtest/make-softhsm-fixture.sh",
		"/work/shared/fixtures/make-softhsm-fixture.sh"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "/work/shared/fixtures/make-softhsm-fixture.sh"
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shDir != "" {
		os.RemoveAll(shDir)
	}
	os.Exit(code)
}

// softhsm opens the shared SoftHSMv2 library, building the tokens on
// first use. It fails (never skips) when SoftHSMv2 is missing: real-token
// tests must run.
func softhsm(tb testing.TB) *p11.Loaded {
	tb.Helper()
	if !shReady && shSetupErr == nil {
		shSetupErr = setupSoftHSM()
	}
	if shSetupErr != nil {
		tb.Fatalf("SoftHSMv2 setup: %v", shSetupErr)
	}
	l, err := p11.OpenLibrary(p11.DefaultSoftHSM)
	if err != nil {
		tb.Fatalf("open SoftHSMv2: %v", err)
	}
	tb.Cleanup(func() { l.Close() })
	return l
}

func token(tb testing.TB, m p11.Module, label string) p11.Token {
	tb.Helper()
	tok, err := p11.FindToken(m, label, "")
	if err != nil {
		tb.Fatalf("find token %s: %v", label, err)
	}
	return tok
}

// tokenDirHash hashes every file of the SoftHSMv2 token directory whose
// token.object names label, so that a test can show the token's bytes did
// not change. The first 8 bytes of token.object are masked: they are
// SoftHSMv2's generation counter, which every C_Login bumps (observed:
// a bare pkcs11-tool --login changes byte 8 and nothing else).
func tokenDirHash(tb testing.TB, label string) string {
	tb.Helper()
	root := filepath.Join(shDir, "tokens")
	ents, err := os.ReadDir(root)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range ents {
		to, err := os.ReadFile(filepath.Join(root, e.Name(), "token.object"))
		if err != nil || !bytes.Contains(to, []byte(label)) {
			continue
		}
		var lines []string
		filepath.WalkDir(filepath.Join(root, e.Name()), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if filepath.Base(p) == "token.object" && len(b) >= 8 {
				b = append(make([]byte, 8), b[8:]...)
			}
			s := sha256.Sum256(b)
			lines = append(lines, p+" "+hex.EncodeToString(s[:]))
			return nil
		})
		sort.Strings(lines)
		s := sha256.Sum256([]byte(strings.Join(lines, "\n")))
		return hex.EncodeToString(s[:])
	}
	tb.Fatalf("no token directory for %s", label)
	return ""
}
