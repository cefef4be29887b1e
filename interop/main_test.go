package interop

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// libPath is the library built by TestMain.
var libPath string

// Test PINs (the engine wants 8+ bytes, 3 distinct, two character classes).
const (
	soPIN   = "so-Pin1234"
	userPIN = "user-Pin12"
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "craton-interop-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	libPath = filepath.Join(dir, "libcraton_hsm.so")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", libPath, "./capi")
	cmd.Dir = repoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building libcraton_hsm.so: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func repoRoot() string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		panic(err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// store is one engine store: a temp dir with a config file.
type store struct {
	t    *testing.T
	dir  string
	cfg  string
	path string // storage_path
}

// newStore writes a config for a fresh store. The PBKDF2 count is the
// minimum the config allows, to keep logins quick.
func newStore(t *testing.T) *store {
	t.Helper()
	dir := t.TempDir()
	s := &store{t: t, dir: dir, cfg: filepath.Join(dir, "craton_hsm.yaml"), path: filepath.Join(dir, "store")}
	yaml := fmt.Sprintf(`token:
  label: "interop"
  storage_path: %q
  persist_objects: true
security:
  pbkdf2_iterations: 100000
audit:
  log_path: %q
`, s.path, filepath.Join(dir, "audit.jsonl"))
	if err := os.WriteFile(s.cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// newToken is newStore plus an initialised token with both PINs.
func newToken(t *testing.T) *store {
	t.Helper()
	s := newStore(t)
	s.tool("--init-token", "--label", "interop", "--so-pin", soPIN)
	s.tool("--init-pin", "--login", "--so-pin", soPIN, "--pin", userPIN)
	return s
}

func (s *store) env() []string {
	env := []string{"CRATON_HSM_CONFIG=" + s.cfg}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "CRATON_HSM_CONFIG=") {
			env = append(env, e)
		}
	}
	return env
}

// run runs a command in the store's environment with a timeout (a hang is
// a failure, not a stuck test run).
func (s *store) run(timeout time.Duration, stdin []byte, name string, args ...string) (string, error) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = s.env()
	cmd.Dir = s.dir
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if ctx.Err() == context.DeadlineExceeded {
		return string(out), fmt.Errorf("%s %s: timed out after %v (hang)", name, strings.Join(args, " "), timeout)
	}
	return string(out), err
}

// tryTool runs pkcs11-tool against the library.
func (s *store) tryTool(args ...string) (string, error) {
	s.t.Helper()
	needTool(s.t, "pkcs11-tool")
	return s.run(2*time.Minute, nil, "pkcs11-tool", append([]string{"--module", libPath}, args...)...)
}

// tool runs pkcs11-tool and fails the test on error.
func (s *store) tool(args ...string) string {
	s.t.Helper()
	out, err := s.tryTool(args...)
	if err != nil {
		s.t.Fatalf("pkcs11-tool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// userTool runs pkcs11-tool logged in as the user.
func (s *store) userTool(args ...string) string {
	s.t.Helper()
	return s.tool(append([]string{"--login", "--pin", userPIN}, args...)...)
}

func (s *store) file(name string) string { return filepath.Join(s.dir, name) }

func (s *store) write(name string, b []byte) string {
	s.t.Helper()
	p := s.file(name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		s.t.Fatal(err)
	}
	return p
}

func (s *store) read(name string) []byte {
	s.t.Helper()
	b, err := os.ReadFile(s.file(name))
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}

func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not installed: run ./scripts/test.sh, which installs the interop clients (scripts/deps.sh)", name)
	}
	return p
}

func mustContain(t *testing.T, out string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
}
