package cmd

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/craton-co/craton/inventory"
	"github.com/craton-co/craton/modules"
	"github.com/craton-co/craton/p11"
)

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// cratonBinary builds the craton CLI once per test process (without the
// race detector: the subprocess is the product, not the test) and returns
// its path. Subprocess tests need a real process: kill -9, two processes
// on one store, /proc/<pid>/cmdline.
func cratonBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "craton-reliability-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "craton")
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		c := exec.Command(goTool, "build", "-o", binPath, ".")
		c.Dir = ".."
		c.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := c.CombinedOutput(); err != nil {
			binErr = &buildError{err: err, out: string(out)}
		}
	})
	if binErr != nil {
		t.Fatalf("build craton: %v", binErr)
	}
	return binPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// engineConfig writes a craton_hsm.yaml with a persistent store in dir
// (storage ./store, audit ./audit.jsonl, the fastest allowed PBKDF2) and
// returns its path. Unlike engineDir it does not set CRATON_HSM_CONFIG.
func engineConfig(t testing.TB, dir string, extra string) string {
	t.Helper()
	cfg := "token:\n  storage_path: ./store\n  persist_objects: true\nsecurity:\n  pbkdf2_iterations: 100000\naudit:\n  log_path: ./audit.jsonl\n" + extra
	p := filepath.Join(dir, "craton_hsm.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// writePINs writes PIN files into dir.
func writePINs(t testing.TB, dir string, pins map[string]string) {
	t.Helper()
	for name, v := range pins {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// copyTree copies the regular files and directories under src to dst.
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(out, info.Mode().Perm())
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(out, b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// softhsmTokenHash hashes every file of the SoftHSMv2 token directory
// whose token.object names label. The first 8 bytes of token.object are
// masked: SoftHSMv2 bumps a generation counter there on every C_Login.
func softhsmTokenHash(t testing.TB, softhsmDir, label string) string {
	t.Helper()
	root := filepath.Join(softhsmDir, "tokens")
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		to, err := os.ReadFile(filepath.Join(root, e.Name(), "token.object"))
		if err != nil || !bytes.Contains(to, []byte(label)) {
			continue
		}
		var lines []string
		err = filepath.WalkDir(filepath.Join(root, e.Name()), func(p string, d fs.DirEntry, err error) error {
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
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(lines)
		s := sha256.Sum256([]byte(strings.Join(lines, "\n")))
		return hex.EncodeToString(s[:])
	}
	t.Fatalf("no SoftHSM token directory holds %q", label)
	return ""
}

// engineInventory opens the embedded engine of cfgPath in this process
// (which must succeed: the store opens cleanly), takes the inventory of
// the token labelled label with pin, and closes the engine.
func engineInventory(t testing.TB, cfgPath, label, pin string) *inventory.Inventory {
	t.Helper()
	mod, err := modules.OpenEmbedded(cfgPath)
	if err != nil {
		t.Fatalf("engine store does not open: %v", err)
	}
	defer mod.Close()
	tok, err := p11.FindToken(mod, label, "")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Take(mod, tok, inventory.Options{PIN: pin})
	if err != nil {
		t.Fatalf("engine inventory: %v", err)
	}
	return inv
}

// baseIdentity is class:label:id of a record, without the inventory's
// duplicate discriminator (so duplicates collide here).
func baseIdentity(r inventory.Record) string { return r.Class + ":" + r.Label + ":" + r.ID }

// envInt reads an integer from the environment, else def.
func envInt(name string, def int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil {
		return v
	}
	return def
}

// openFIFOWhenRead opens fifo for writing once c has opened it for reading
// (until then a non-blocking open fails with ENXIO), waiting up to 20 s;
// on timeout it kills c and fails with msg and c's output.
func openFIFOWhenRead(t *testing.T, fifo string, c *exec.Cmd, msg string, output func() string) *os.File {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err == nil {
			return w
		}
		if time.Now().After(deadline) {
			_ = c.Process.Kill()
			_ = c.Wait()
			t.Fatalf("%s:\n%s", msg, output())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
