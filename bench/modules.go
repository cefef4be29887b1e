package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/miekg/pkcs11"
)

// Test PINs (the engine wants 8+ bytes, 3 distinct, two character classes;
// SoftHSMv2 takes them too).
const (
	soPIN   = "so-Pin1234"
	userPIN = "user-Pin12"
)

// module is one PKCS#11 library loaded into this process through
// miekg/pkcs11 (dlopen + C_GetFunctionList + C_Initialize): SoftHSMv2 and
// libcraton_hsm.so are driven by exactly the same code and pay the same cgo
// cost per call.
type module struct {
	name string
	path string
	ctx  *pkcs11.Ctx
	// configs (engine only): the CRATON_HSM_CONFIG files this module can be
	// re-initialised with; active is the one in force.
	active string
}

func loadModule(name, path string) (*module, error) {
	ctx := pkcs11.New(path)
	if ctx == nil {
		return nil, fmt.Errorf("%s: cannot load %s", name, path)
	}
	if err := ctx.Initialize(); err != nil {
		return nil, fmt.Errorf("%s: C_Initialize: %w", name, err)
	}
	return &module{name: name, path: path, ctx: ctx}, nil
}

// reconfigure finalises the engine and initialises it again with cfg
// (the library reads CRATON_HSM_CONFIG at C_Initialize).
func (m *module) reconfigure(cfg string) error {
	if m.active == cfg {
		return nil
	}
	if err := m.ctx.Finalize(); err != nil {
		return fmt.Errorf("%s: C_Finalize: %w", m.name, err)
	}
	os.Setenv("CRATON_HSM_CONFIG", cfg)
	if err := m.ctx.Initialize(); err != nil {
		return fmt.Errorf("%s: C_Initialize with %s: %w", m.name, cfg, err)
	}
	m.active = cfg
	return nil
}

// slotByLabel finds the slot whose token has label.
func (m *module) slotByLabel(label string) (uint, error) {
	slots, err := m.ctx.GetSlotList(true)
	if err != nil {
		return 0, err
	}
	for _, s := range slots {
		ti, err := m.ctx.GetTokenInfo(s)
		if err == nil && strings.TrimRight(ti.Label, " ") == label {
			return s, nil
		}
	}
	return 0, fmt.Errorf("%s: no token %q", m.name, label)
}

// softhsmEnv writes a SoftHSMv2 configuration under dir and points
// SOFTHSM2_CONF at it.
func softhsmEnv(dir string) (string, error) {
	tokens := filepath.Join(dir, "tokens")
	if err := os.MkdirAll(tokens, 0o700); err != nil {
		return "", err
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	body := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", tokens)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		return "", err
	}
	return conf, nil
}

// softhsmInitToken creates a SoftHSMv2 token with softhsm2-util.
func softhsmInitToken(conf, label string) error {
	cmd := exec.Command("softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", soPIN, "--pin", userPIN)
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("softhsm2-util --init-token %s: %v\n%s", label, err, out)
	}
	return nil
}

// engineConfig writes an engine configuration: persist_objects true (an
// operator's setting), the minimum PBKDF2 count the config allows (logins
// are not measured), audit on or off.
func engineConfig(path, store, auditLog string, audit bool, slots int) error {
	body := fmt.Sprintf(`token:
  label: "bench"
  storage_path: %q
  persist_objects: true
  slot_count: %d
  max_sessions: 1000
  max_rw_sessions: 1000
security:
  pbkdf2_iterations: 100000
audit:
  enabled: %v
  log_path: %q
`, store, slots, audit, auditLog)
	return os.WriteFile(path, []byte(body), 0o600)
}

// initEngineToken initialises a token of the engine and its user PIN
// through the ABI.
func initEngineToken(m *module, slot uint, label string) error {
	if err := m.ctx.InitToken(slot, soPIN, label); err != nil {
		return fmt.Errorf("C_InitToken slot %d: %w", slot, err)
	}
	sh, err := m.ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return err
	}
	defer m.ctx.CloseSession(sh)
	if err := m.ctx.Login(sh, pkcs11.CKU_SO, soPIN); err != nil {
		return fmt.Errorf("SO login: %w", err)
	}
	if err := m.ctx.InitPIN(sh, userPIN); err != nil {
		return fmt.Errorf("C_InitPIN: %w", err)
	}
	return m.ctx.Logout(sh)
}
