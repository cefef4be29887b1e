package docsection

import (
	"os"
	"path/filepath"
	"testing"
)

type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Helper()               {}

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "doc.md")
	const doc = "intro\n<!-- b -->\nold\n<!-- e -->\ntail\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CRATON_UPDATE_DOCS", "")
	Check(t, path, "<!-- b -->", "<!-- e -->", "old\n", "x") // current: passes
	r := &recorder{TB: t}
	Check(r, path, "<!-- b -->", "<!-- e -->", "new\n", "x")
	if !r.failed {
		t.Error("a stale section did not fail")
	}
	t.Setenv("CRATON_UPDATE_DOCS", "1")
	Check(t, path, "<!-- b -->", "<!-- e -->", "new\n", "x")
	got, _ := os.ReadFile(path)
	if string(got) != "intro\n<!-- b -->\nnew\n<!-- e -->\ntail\n" {
		t.Errorf("rewritten document:\n%s", got)
	}
}
