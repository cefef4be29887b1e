package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// write creates dir/name (0600) with body and returns its path.
func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadSources(t *testing.T) {
	t.Run("no file: defaults", func(t *testing.T) {
		cleanEnv(t)
		c, src, err := Load("")
		if err != nil || src != SourceDefaults || c != Default() {
			t.Fatalf("Load(\"\") = %+v, %q, %v; want defaults", c, src, err)
		}
	})
	t.Run("working directory file", func(t *testing.T) {
		dir := cleanEnv(t)
		write(t, dir, DefaultFile, "token:\n  slot_count: 3\n")
		c, src, err := Load("")
		if err != nil || src != DefaultFile || c.Token.SlotCount != 3 {
			t.Fatalf("Load(\"\") = slot_count %d, %q, %v; want 3 from %s", c.Token.SlotCount, src, err, DefaultFile)
		}
	})
	t.Run("environment beats working directory", func(t *testing.T) {
		dir := cleanEnv(t)
		write(t, dir, DefaultFile, "token:\n  slot_count: 3\n")
		p := write(t, t.TempDir(), "other.yaml", "token:\n  slot_count: 4\n")
		t.Setenv(EnvConfig, p)
		c, src, err := Load("")
		if err != nil || src != p || c.Token.SlotCount != 4 {
			t.Fatalf("Load(\"\") = slot_count %d, %q, %v; want 4 from %s", c.Token.SlotCount, src, err, p)
		}
	})
	t.Run("argument beats environment", func(t *testing.T) {
		cleanEnv(t)
		t.Setenv(EnvConfig, write(t, t.TempDir(), "env.yaml", "token:\n  slot_count: 4\n"))
		p := write(t, t.TempDir(), "arg.yaml", "token:\n  slot_count: 5\n")
		c, src, err := Load(p)
		if err != nil || src != p || c.Token.SlotCount != 5 {
			t.Fatalf("Load(%q) = slot_count %d, %q, %v; want 5", p, c.Token.SlotCount, src, err)
		}
	})
	t.Run("named file must exist", func(t *testing.T) {
		cleanEnv(t)
		missing := filepath.Join(t.TempDir(), "nope.yaml")
		_, _, err := Load(missing)
		inputErr(t, err, missing, "does not exist")
		t.Setenv(EnvConfig, missing)
		_, _, err = Load("")
		inputErr(t, err, missing, "does not exist", EnvConfig)
	})
	t.Run("empty file: defaults", func(t *testing.T) {
		cleanEnv(t)
		p := write(t, t.TempDir(), "empty.yaml", "# nothing\n")
		c, src, err := Load(p)
		if err != nil || src != p || c != Default() {
			t.Fatalf("Load(empty) = %+v, %q, %v", c, src, err)
		}
	})
	t.Run("null section keeps defaults", func(t *testing.T) {
		cleanEnv(t)
		p := write(t, t.TempDir(), "c.yaml", "token:\nsecurity:\n  pin_min_length: 10\n")
		c, _, err := Load(p)
		if err != nil || c.Token != Default().Token || c.Security.PINMinLength != 10 {
			t.Fatalf("Load = %+v, %v", c, err)
		}
	})
}

func TestLoadUnknownKey(t *testing.T) {
	cleanEnv(t)
	dir := t.TempDir()
	p := write(t, dir, "craton_hsm.yaml", `# my config
token:
  label: "prod"
  slot_count: 2

security:
  pin_min_lenght: 10
`)
	_, _, err := Load(p)
	e := inputErr(t, err, p+`: line 7: unknown key "pin_min_lenght" in section security`)
	if !strings.Contains(e.Hint, `did you mean "pin_min_length"?`) || !strings.Contains(e.Hint, "pbkdf2_iterations") {
		t.Errorf("hint %q should suggest pin_min_length and list the valid keys", e.Hint)
	}

	// Run from the file's directory so the message reads exactly as documented.
	t.Chdir(dir)
	_, _, err = Load("craton_hsm.yaml")
	inputErr(t, err, `craton_hsm.yaml: line 7: unknown key "pin_min_lenght" in section security; did you mean "pin_min_length"?`)
}

func TestLoadParseErrors(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
	}{
		{"unknown section", "token:\n  label: x\nsecurty:\n  pin_min_length: 8\n",
			[]string{`line 3: unknown section "securty"`, `did you mean "security"?`}},
		{"key in wrong section", "token:\n  pin_min_length: 8\n",
			[]string{`line 2: unknown key "pin_min_length" in section token`, "pin_min_length belongs in section security"}},
		{"Craton daemon section", "daemon:\n  bind: 127.0.0.1:5696\n",
			[]string{`line 1: unknown section "daemon"`, "no gRPC daemon"}},
		{"Craton crypto_backend", "algorithms:\n  crypto_backend: awslc\n",
			[]string{`line 2: unknown key "crypto_backend" in section algorithms`, "single Go crypto backend"}},
		{"wrong type int", "token:\n  max_sessions: lots\n",
			[]string{`line 2: token.max_sessions: "lots" is not an integer`}},
		{"wrong type bool", "audit:\n\n  enabled: sometimes\n",
			[]string{`line 3: audit.enabled: "sometimes" is not true or false`}},
		{"wrong type list", "token:\n  label: [a, b]\n",
			[]string{`line 2: token.label: a list is not a string`}},
		{"section not a mapping", "token: 5\n",
			[]string{"line 1: section token must be a mapping"}},
		{"top level not a mapping", "- token\n",
			[]string{"line 1: the top level must be a mapping"}},
		{"duplicate key", "token:\n  slot_count: 1\n  slot_count: 2\n",
			[]string{`line 3: key "slot_count" in section token is already defined at line 2`}},
		{"duplicate section", "token:\n  slot_count: 1\ntoken:\n  label: x\n",
			[]string{"line 3: section token is already defined at line 1"}},
		{"two documents", "token:\n  slot_count: 1\n---\ntoken:\n  slot_count: 2\n",
			[]string{"line 3: a second YAML document starts here"}},
		{"syntax", "token:\n  label: \"unterminated\n",
			[]string{"line"}},
		{"validation names the line", "token:\n  label: x\n  max_rw_sessions: 200\n",
			[]string{"line 3: token.max_rw_sessions: 200 is out of range (allowed 1 to token.max_sessions (100))"}},
		{"relative path into .git", "audit:\n  log_path: .git/audit.jsonl\n",
			[]string{"line 2: audit.log_path:", "starts with .git"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cleanEnv(t)
			p := write(t, t.TempDir(), "c.yaml", tt.body)
			_, _, err := Load(p)
			inputErr(t, err, append([]string{p + ": "}, tt.want...)...)
		})
	}
}

func TestLoadFileRules(t *testing.T) {
	t.Run("symlink refused", func(t *testing.T) {
		cleanEnv(t)
		dir := t.TempDir()
		real := write(t, dir, "real.yaml", "token:\n  slot_count: 2\n")
		link := filepath.Join(dir, "link.yaml")
		if err := os.Symlink(real, link); err != nil {
			t.Fatal(err)
		}
		_, _, err := Load(link)
		inputErr(t, err, link, "symbolic link")
	})
	t.Run("group-writable refused", func(t *testing.T) {
		cleanEnv(t)
		p := write(t, t.TempDir(), "c.yaml", "token:\n  slot_count: 2\n")
		if err := os.Chmod(p, 0o664); err != nil {
			t.Fatal(err)
		}
		_, _, err := Load(p)
		inputErr(t, err, "writable by group or others", "chmod go-w")
	})
	t.Run("world-readable accepted", func(t *testing.T) {
		cleanEnv(t)
		p := write(t, t.TempDir(), "c.yaml", "token:\n  slot_count: 2\n")
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := Load(p); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("directory refused", func(t *testing.T) {
		cleanEnv(t)
		_, _, err := Load(t.TempDir())
		inputErr(t, err, "not a regular file")
	})
}

func TestLoadFIPSEnv(t *testing.T) {
	cleanEnv(t)
	t.Setenv(EnvFIPS, "1")
	c, src, err := Load("")
	if err != nil || src != SourceDefaults || !c.Algorithms.FIPSApprovedOnly {
		t.Fatalf("defaults under %s=1: fips=%v, %q, %v", EnvFIPS, c.Algorithms.FIPSApprovedOnly, src, err)
	}
	// The file says false; the environment wins.
	p := write(t, t.TempDir(), "c.yaml", "algorithms:\n  fips_approved_only: false\n  enable_pqc: false\n")
	c, _, err = Load(p)
	if err != nil || !c.Algorithms.FIPSApprovedOnly || c.Algorithms.EnablePQC {
		t.Fatalf("file under %s=1: %+v, %v", EnvFIPS, c.Algorithms, err)
	}
	// FIPS rules then apply to the file, with its line and the reason.
	p = write(t, t.TempDir(), "c.yaml", "audit:\n  enabled: false\n")
	_, _, err = Load(p)
	inputErr(t, err, p+": line 2: audit.enabled: false is not allowed", EnvFIPS+" forces fips_approved_only on")
	// Unset: the same file is fine.
	t.Setenv(EnvFIPS, "")
	if _, _, err := Load(p); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvFIPS, "on")
	_, _, err = Load(p)
	inputErr(t, err, EnvFIPS)
}

func TestLoadRelativePaths(t *testing.T) {
	cleanEnv(t) // working directory is an unrelated temp dir
	dir := t.TempDir()
	abs := filepath.Join(t.TempDir(), "abs-store")
	p := write(t, dir, "etc/craton_hsm.yaml", "token:\n  storage_path: store\naudit:\n  log_path: logs/audit.jsonl\n")
	c, _, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "etc", "store"); c.Token.StoragePath != want {
		t.Errorf("storage_path = %q, want %q (relative to the file)", c.Token.StoragePath, want)
	}
	if want := filepath.Join(dir, "etc", "logs", "audit.jsonl"); c.Audit.LogPath != want {
		t.Errorf("log_path = %q, want %q (relative to the file)", c.Audit.LogPath, want)
	}

	// A relative file path works too: resolution uses its absolute directory.
	t.Chdir(dir)
	c, _, err = Load(filepath.Join("etc", "craton_hsm.yaml"))
	if err != nil || c.Token.StoragePath != filepath.Join(dir, "etc", "store") {
		t.Fatalf("relative config path: storage_path %q, %v", c.Token.StoragePath, err)
	}

	// Absolute values are kept; keys not in the file keep their
	// working-directory-relative defaults.
	p = write(t, dir, "etc2/c.yaml", "token:\n  storage_path: "+abs+"\n")
	c, _, err = Load(p)
	if err != nil || c.Token.StoragePath != abs || c.Audit.LogPath != DefaultLogPath {
		t.Fatalf("storage_path %q log_path %q, %v; want %q and %q", c.Token.StoragePath, c.Audit.LogPath, err, abs, DefaultLogPath)
	}
}
