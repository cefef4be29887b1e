package report

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

type sample struct {
	Label    string    `col:"label" json:"label" yaml:"label"`
	ID       string    `col:"id" json:"id" yaml:"id"`
	Bits     int       `col:"bits" json:"bits" yaml:"bits"`
	Sign     *bool     `col:"sign" json:"sign,omitempty" yaml:"sign,omitempty"`
	Secret   bool      `col:"sensitive" json:"sensitive" yaml:"sensitive"`
	Links    []string  `col:"links" json:"links,omitempty" yaml:"links,omitempty"`
	NotAfter time.Time `col:"not_after" json:"not_after" yaml:"not_after"`
	Internal string    `json:"-" yaml:"-"` // no col tag: not a column
}

func fixture() []sample {
	yes := true
	return []sample{
		{Label: "my-signing-key", ID: "01", Bits: 2048, Sign: &yes, Secret: true,
			Links: []string{"cert:01", "pub:01"}, NotAfter: time.Date(2036, 1, 2, 3, 4, 5, 0, time.UTC)},
		{Label: `tricky, "quoted" | piped`, ID: "", Bits: 0, Secret: false},
	}
}

func TestGolden(t *testing.T) {
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			if err := Render(&buf, f, Report{Title: "Sample report", Rows: fixture()}); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "sample."+string(f)), buf.Bytes())
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestCustomMarkdownAndData(t *testing.T) {
	var buf bytes.Buffer
	rep := Report{Rows: fixture(), Data: map[string]int{"n": 2},
		Markdown: func(w io.Writer) error { _, err := io.WriteString(w, "- [x] custom\n"); return err }}
	if err := Render(&buf, JSON, rep); err != nil || strings.TrimSpace(buf.String()) != "{\n  \"n\": 2\n}" {
		t.Fatalf("Data not used for JSON: %q %v", buf.String(), err)
	}
	buf.Reset()
	if err := Render(&buf, Markdown, rep); err != nil || buf.String() != "- [x] custom\n" {
		t.Fatalf("custom Markdown not used: %q %v", buf.String(), err)
	}
}

func TestParseFormat(t *testing.T) {
	if f, _ := ParseFormat("", true); f != Table {
		t.Errorf("TTY default = %s", f)
	}
	if f, _ := ParseFormat("", false); f != CSV {
		t.Errorf("non-TTY default = %s", f)
	}
	if f, _ := ParseFormat("MD", false); f != Markdown {
		t.Errorf("md alias = %s", f)
	}
	if _, err := ParseFormat("xml", false); err == nil || !strings.Contains(err.Error(), "table, csv, json, yaml, markdown") {
		t.Errorf("bad format error = %v", err)
	}
}

func TestRowsMustBeStructSlice(t *testing.T) {
	if err := Render(&bytes.Buffer{}, CSV, Report{Rows: 3}); err == nil {
		t.Error("non-slice accepted")
	}
}

func TestTableColumnsAndCSVOverride(t *testing.T) {
	var buf bytes.Buffer
	rep := Report{Rows: fixture(), TableColumns: []string{"id", "label"},
		CSV: func(w io.Writer) error { _, err := io.WriteString(w, "own,csv\n"); return err }}
	if err := Render(&buf, Table, rep); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if !strings.HasPrefix(strings.TrimSpace(lines[0]), "ID") || strings.Contains(lines[0], "BITS") {
		t.Fatalf("table columns not projected: %q", lines[0])
	}
	buf.Reset()
	if err := Render(&buf, CSV, rep); err != nil || buf.String() != "own,csv\n" {
		t.Fatalf("CSV override not used: %q %v", buf.String(), err)
	}
}

type csvTagged struct {
	A string `csv:"a"`
	B string `csv:"-"`
	C int    `csv:"c"`
}

func TestCSVTagFallback(t *testing.T) {
	var buf bytes.Buffer
	if err := Render(&buf, CSV, Report{Rows: []csvTagged{{"x", "hidden", 3}}}); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "a,c\nx,3\n" {
		t.Fatalf("got %q", buf.String())
	}
}
