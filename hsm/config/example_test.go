package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestExampleLoads proves Example is a valid file holding the defaults.
func TestExampleLoads(t *testing.T) {
	cleanEnv(t)
	dir := t.TempDir()
	p := write(t, dir, DefaultFile, Example)
	c, src, err := Load(p)
	if err != nil {
		t.Fatalf("Load(Example): %v", err)
	}
	if src != p {
		t.Errorf("source %q, want %q", src, p)
	}
	want := Default()
	want.Token.StoragePath = filepath.Join(dir, LocalStorageDir)
	want.Audit.LogPath = filepath.Join(dir, DefaultLogPath)
	if c != want {
		t.Errorf("Example loads as\n%+v\nwant the defaults\n%+v", c, want)
	}
}

// TestExampleCoversEveryKey keeps Example in step with Config: every key
// appears, with a comment line above it.
func TestExampleCoversEveryKey(t *testing.T) {
	lines := strings.Split(Example, "\n")
	for _, s := range sections {
		if !strings.Contains(Example, "\n"+s.name+":\n") {
			t.Errorf("Example has no section %s", s.name)
		}
		for _, k := range s.keys {
			found := false
			for i, l := range lines {
				if strings.HasPrefix(l, "  "+k+":") {
					found = true
					if i == 0 || !strings.HasPrefix(strings.TrimSpace(lines[i-1]), "#") && !strings.HasPrefix(strings.TrimSpace(lines[i-1]), "pin_min_length:") {
						t.Errorf("Example key %s.%s has no comment above it", s.name, k)
					}
				}
			}
			if !found {
				t.Errorf("Example has no key %s.%s", s.name, k)
			}
		}
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	cleanEnv(t)
	dir := t.TempDir()
	c := Default()
	c.Token.Label = "prod: signing #1"
	c.Token.StoragePath = filepath.Join(dir, "store")
	c.Token.PersistObjects = true
	c.Token.SlotCount = 4
	c.Token.SerialNumber = "0000000000000042"
	c.Security.PINMinLength = 12
	c.Security.PBKDF2Iterations = 1_000_000
	c.Algorithms.FIPSApprovedOnly = true
	c.Algorithms.EnablePQC = false
	c.Audit.LogPath = filepath.Join(dir, "audit.jsonl")
	c.Audit.LogLevel = "crypto"
	out, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	p := write(t, dir, "c.yaml", string(out))
	got, _, err := Load(p)
	if err != nil {
		t.Fatalf("Load(Marshal(c)): %v\n%s", err, out)
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("round trip:\n%+v\nwant\n%+v\nyaml:\n%s", got, c, out)
	}
}
