package audit

import (
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the package's boundary (doc.go): the standard library
// and only these modules; never the engine (hsm) or a migration package.
func TestImports(t *testing.T) {
	allowed := map[string]bool{"github.com/craton-co/craton/ck": true, "github.com/craton-co/craton/errs": true}
	files, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".go") || strings.HasSuffix(f.Name(), "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f.Name(), nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(p, "/")
			if !strings.Contains(first, ".") {
				continue // standard library
			}
			if !allowed[p] {
				t.Errorf("%s imports %s; allowed outside the standard library: %v", f.Name(), p, allowed)
			}
		}
	}
}
