package cmd

import (
	"os"
	"path/filepath"
	"testing"
)

// TestReferenceCurrent fails when docs/cli or docs/exit-codes.md lag the code.
func TestReferenceCurrent(t *testing.T) {
	tmp := t.TempDir()
	if err := GenReference(tmp); err != nil {
		t.Fatal(err)
	}
	repoDocs := filepath.Join("..", "docs")
	err := filepath.WalkDir(tmp, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(tmp, p)
		want, _ := os.ReadFile(p)
		got, rerr := os.ReadFile(filepath.Join(repoDocs, rel))
		if rerr != nil || string(got) != string(want) {
			t.Errorf("docs/%s is stale or missing: run 'make docs'", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// And nothing extra: a removed command must not leave its page behind.
	entries, _ := os.ReadDir(filepath.Join(repoDocs, "cli"))
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(tmp, "cli", e.Name())); err != nil {
			t.Errorf("docs/cli/%s documents a command that no longer exists: run 'make docs'", e.Name())
		}
	}
}
