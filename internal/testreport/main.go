// Command testreport reads `go test -json` on stdin and prints what an
// operator needs: one line per package, the tests that touched real
// modules, the full output of every failed or skipped test, and a final
// "tests: N passed, N failed, N skipped" line. It exits 1 when a test
// failed or was skipped (scripts/test.sh: real-token tests must run) or a
// package failed to build.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

type result struct {
	pkgLines  []string
	output    map[string]*strings.Builder // package/test -> output
	failed    []string
	skipped   []string
	realTests []string
	counts    map[string]int
	pkgFailed bool
}

// realTest names the tests that drive a real module, store or client.
var realTest = regexp.MustCompile(`SoftHSM|Softhsm|Fixture|Store|Engine|Real|PKCS11Tool|Interop|Crash|MainJob`)

func main() {
	r := read(os.Stdin)
	r.print(os.Stdout)
	if len(r.failed) > 0 || len(r.skipped) > 0 || r.pkgFailed {
		os.Exit(1)
	}
}

func read(in io.Reader) *result {
	r := &result{output: map[string]*strings.Builder{}, counts: map[string]int{}}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			fmt.Println(sc.Text()) // build errors are not JSON
			continue
		}
		r.add(e)
	}
	return r
}

func (r *result) add(e event) {
	key := e.Package + " " + e.Test
	switch e.Action {
	case "output":
		b := r.output[key]
		if b == nil {
			b = &strings.Builder{}
			r.output[key] = b
		}
		b.WriteString(e.Output)
	case "pass", "fail", "skip":
		if e.Test == "" {
			r.pkgLine(e)
			return
		}
		r.counts[e.Action]++
		switch {
		case e.Action == "fail":
			r.failed = append(r.failed, key)
		case e.Action == "skip":
			r.skipped = append(r.skipped, key)
		case !strings.Contains(e.Test, "/") && realTest.MatchString(e.Test):
			r.realTests = append(r.realTests, fmt.Sprintf("%s %s (%.1fs)", short(e.Package), e.Test, e.Elapsed))
		}
	}
}

func (r *result) pkgLine(e event) {
	status := map[string]string{"pass": "ok  ", "fail": "FAIL", "skip": "----"}[e.Action]
	if e.Action == "fail" {
		r.pkgFailed = true
	}
	r.pkgLines = append(r.pkgLines, fmt.Sprintf("%s %s %.1fs", status, e.Package, e.Elapsed))
}

func short(pkg string) string { return strings.TrimPrefix(pkg, "github.com/craton-co/craton/") }

func (r *result) print(w io.Writer) {
	for _, l := range r.pkgLines {
		fmt.Fprintln(w, l)
	}
	sort.Strings(r.realTests)
	fmt.Fprintln(w, "\nReal-module tests run (SoftHSMv2 tokens, engine store, libcraton_hsm.so clients):")
	for _, t := range r.realTests {
		fmt.Fprintln(w, "  "+t)
	}
	for _, group := range []struct {
		title string
		keys  []string
	}{{"FAILED", r.failed}, {"SKIPPED (not allowed: real-token tests must run)", r.skipped}} {
		for _, k := range group.keys {
			fmt.Fprintf(w, "\n--- %s: %s\n", group.title, k)
			if b := r.output[k]; b != nil {
				fmt.Fprint(w, b.String())
			}
		}
	}
	if r.pkgFailed && len(r.failed) == 0 {
		for k, b := range r.output {
			if strings.HasSuffix(k, " ") && strings.Contains(b.String(), "FAIL") {
				fmt.Fprintf(w, "\n--- package output: %s\n%s", k, b.String())
			}
		}
	}
	fmt.Fprintf(w, "\ntests: %d passed, %d failed, %d skipped\n", r.counts["pass"], r.counts["fail"], r.counts["skip"])
}
