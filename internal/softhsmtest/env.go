package softhsmtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"

	"github.com/craton-co/craton/p11"
)

// ModulePath is the SoftHSMv2 module the fixtures load.
const ModulePath = p11.DefaultSoftHSM

const installHint = "install SoftHSMv2: apt-get install softhsm2 (CI installs softhsm2, opensc, openssl, libengine-pkcs11-openssl)"

// env is the process-wide SoftHSM environment shared by every open fixture
// (see doc.go for why there is exactly one).
type env struct {
	mu       sync.Mutex // guards everything below and serialises C_InitToken on the free slot
	users    int
	dir      string
	conf     string
	lib      *p11.Loaded
	prevConf string
	hadPrev  bool
	labels   map[string]int // token labels handed out in this environment
}

var shared env

// acquire joins (or starts) the shared environment for t.
func (e *env) acquire(t testing.TB, logLevel string) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.users == 0 {
		if err := e.start(logLevel); err != nil {
			t.Fatalf("softhsmtest: %v", err)
		}
	}
	e.users++
	t.Cleanup(e.release)
}

// start creates the directory and configuration and loads the library.
func (e *env) start(logLevel string) error {
	if err := checkInstalled(); err != nil {
		return err
	}
	base := baseDir()
	sweepStale(base)
	dir, err := os.MkdirTemp(base, "craton-softhsmtest-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	// The owner's pid lets a later run remove this directory if the process
	// dies without cleanup (a timeout panic): /dev/shm is memory.
	_ = os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o600)
	conf, err := writeConf(dir, logLevel)
	if err != nil {
		_ = os.RemoveAll(dir)
		return err
	}
	e.prevConf, e.hadPrev = os.LookupEnv("SOFTHSM2_CONF")
	_ = os.Setenv("SOFTHSM2_CONF", conf)
	lib, err := p11.OpenLibrary(ModulePath)
	if err != nil {
		e.restoreEnv()
		_ = os.RemoveAll(dir)
		return fmt.Errorf("open %s: %w", ModulePath, err)
	}
	// A fresh token directory has no initialised token. If the library shows
	// one, it was loaded earlier with another SOFTHSM2_CONF and still is.
	if toks, err := p11.Tokens(lib); err != nil || len(toks) > 0 {
		_ = lib.Close()
		e.restoreEnv()
		_ = os.RemoveAll(dir)
		if err != nil {
			return err
		}
		return fmt.Errorf("SoftHSMv2 is already loaded in this process with another configuration "+
			"(%d token(s) visible, first %q): close every p11.OpenLibrary(%q) before the fixture starts",
			len(toks), toks[0].Label, ModulePath)
	}
	e.dir, e.conf, e.lib, e.labels = dir, conf, lib, map[string]int{}
	return nil
}

// release leaves the environment; the last user tears it down.
func (e *env) release() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.users--
	if e.users > 0 {
		return
	}
	_ = e.lib.Close()
	e.restoreEnv()
	_ = os.RemoveAll(e.dir)
	e.dir, e.conf, e.lib, e.labels = "", "", nil, nil
}

func (e *env) restoreEnv() {
	if e.hadPrev {
		_ = os.Setenv("SOFTHSM2_CONF", e.prevConf)
	} else {
		_ = os.Unsetenv("SOFTHSM2_CONF")
	}
}

// uniqueLabel returns name, or name-2, name-3 ... when name is taken, cut to
// the 32 bytes a token label has.
func (e *env) uniqueLabel(name string) string {
	e.labels[name]++
	n := e.labels[name]
	if n == 1 && len(name) <= 32 {
		return name
	}
	suffix := fmt.Sprintf("-%d", n)
	if len(name)+len(suffix) > 32 {
		name = name[:32-len(suffix)]
	}
	return name + suffix
}

func writeConf(dir, logLevel string) (string, error) {
	tokens := filepath.Join(dir, "tokens")
	if err := os.MkdirAll(tokens, 0o700); err != nil {
		return "", fmt.Errorf("token dir: %w", err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	body := fmt.Sprintf(`# written by craton internal/softhsmtest (test-only)
directories.tokendir = %s
objectstore.backend = file
log.level = %s
slots.removable = false
slots.mechanisms = ALL
library.reset_on_fork = false
`, tokens, logLevel)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", conf, err)
	}
	return conf, nil
}

// baseDir picks where the environment lives: $CRATON_SOFTHSMTEST_DIR, else
// /dev/shm when it is a writable tmpfs, else the usual temp dir. SoftHSM's
// file backend rewrites an object's file once per attribute it sets (~35
// file rewrites per generated key): about 12 ms per object on ext4 and
// 1.2 ms on tmpfs, which decides whether a 1,000-object token takes 12 s or 1 s.
func baseDir() string {
	if d := os.Getenv("CRATON_SOFTHSMTEST_DIR"); d != "" {
		return d
	}
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if f, err := os.CreateTemp("/dev/shm", ".craton-probe-"); err == nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
			return "/dev/shm"
		}
	}
	return os.TempDir()
}

const ownerFile = "owner.pid"

// sweepStale removes environment directories whose owning process is gone.
func sweepStale(base string) {
	dirs, _ := filepath.Glob(filepath.Join(base, "craton-softhsmtest-*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, ownerFile))
		if err != nil {
			continue // being created, or not ours
		}
		pid, err := strconv.Atoi(string(b))
		if err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(d)
		}
	}
}

// checkInstalled fails (never skips) when SoftHSMv2 is missing.
func checkInstalled() error {
	if _, err := os.Stat(ModulePath); err != nil {
		return fmt.Errorf("SoftHSMv2 module %s missing (%v); %s", ModulePath, err, installHint)
	}
	if _, err := exec.LookPath("softhsm2-util"); err != nil {
		return fmt.Errorf("softhsm2-util not on PATH (%v); %s", err, installHint)
	}
	return nil
}
