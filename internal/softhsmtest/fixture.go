package softhsmtest

import (
	"os/exec"
	"testing"

	"github.com/craton-co/craton/p11"
)

// Test-only PINs, the same as the shared fixture script and the guide.
const (
	SOPIN   = "12345678"
	UserPIN = "1234"
)

// Fixture is one test's view of the shared SoftHSM environment.
type Fixture struct {
	t      testing.TB
	lib    *p11.Loaded
	dir    string
	conf   string
	tokens []*Token
}

// Option configures New.
type Option func(*config)

type config struct {
	logLevel string
}

// WithLogLevel sets SoftHSM's log.level (ERROR by default). It only takes
// effect for the fixture that starts the shared environment.
func WithLogLevel(level string) Option { return func(c *config) { c.logLevel = level } }

// New joins (or starts) the process's SoftHSM environment and returns a
// fixture whose tokens are removed with the environment. It fails the test
// when SoftHSMv2 is not installed.
func New(t testing.TB, opts ...Option) *Fixture {
	t.Helper()
	c := config{logLevel: "ERROR"}
	for _, o := range opts {
		o(&c)
	}
	shared.acquire(t, c.logLevel)
	shared.mu.Lock()
	f := &Fixture{t: t, lib: shared.lib, dir: shared.dir, conf: shared.conf}
	shared.mu.Unlock()
	return f
}

// Module is the loaded SoftHSM library (shared; do not close it).
func (f *Fixture) Module() p11.Module { return f.lib }

// Dir is the environment's directory (softhsm2.conf and tokens/).
func (f *Fixture) Dir() string { return f.dir }

// ConfPath is the softhsm2.conf in use (also in SOFTHSM2_CONF).
func (f *Fixture) ConfPath() string { return f.conf }

// Tokens returns the tokens this fixture created, in creation order.
func (f *Fixture) Tokens() []*Token { return f.tokens }

// EmptyToken initialises a token with the test PINs and no objects. The
// label is name, or name-N when name is already used in the environment.
func (f *Fixture) EmptyToken(name string) *Token {
	f.t.Helper()
	tk, err := initToken(f, name)
	if err != nil {
		f.t.Fatalf("softhsmtest: init token %q: %v", name, err)
	}
	f.tokens = append(f.tokens, tk)
	return tk
}

// SoftHSMUtil runs softhsm2-util with SOFTHSM2_CONF pointing at this
// environment and returns its combined output: an out-of-process view of
// the token files (e.g. "--show-slots").
func (f *Fixture) SoftHSMUtil(args ...string) string {
	f.t.Helper()
	cmd := exec.Command("softhsm2-util", args...)
	cmd.Env = append(cmd.Environ(), "SOFTHSM2_CONF="+f.conf)
	out, err := cmd.CombinedOutput()
	if err != nil {
		f.t.Fatalf("softhsm2-util %v: %v\n%s", args, err, out)
	}
	return string(out)
}
