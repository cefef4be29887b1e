package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestMain gives every test a default engine configuration in a private
// temporary directory, so a test that opens the embedded engine without
// its own config (engineDir) never writes a store or an audit log into
// the source tree; and it removes the craton binary the reliability tests
// build (cratonBinary).
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "craton-cmd-test-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cfg := filepath.Join(dir, "craton_hsm.yaml")
	body := "token:\n  storage_path: ./store\naudit:\n  log_path: ./audit.jsonl\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("CRATON_HSM_CONFIG", cfg)
	code := m.Run()
	os.RemoveAll(dir)
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}
