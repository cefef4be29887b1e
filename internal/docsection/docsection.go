package docsection

import (
	"os"
	"strings"
	"testing"
)

// Check fails t unless the text of the file at path between the lines
// begin and end is body; with CRATON_UPDATE_DOCS=1 it rewrites that text.
// rerun is the command that regenerates the section, for the failure
// message.
func Check(t testing.TB, path, begin, end, body, rerun string) {
	t.Helper()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the markers %q … %q", path, begin, end)
	}
	want := s[:i+len(begin)] + "\n" + body + s[j:]
	if want == s {
		return
	}
	if os.Getenv("CRATON_UPDATE_DOCS") == "1" {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s: the generated section after %q is stale: run %s", path, begin, rerun)
}
