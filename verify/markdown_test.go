package verify

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/craton-co/craton/errs"
	"github.com/craton-co/craton/report"
)

var update = flag.Bool("update", false, "rewrite golden files")

func fixedReport() *Report {
	r := &Report{SourceToken: "Your-Token-Label", TargetToken: "craton-prod",
		Started: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	for n := 1; n <= 10; n++ {
		r.Items = append(r.Items, Result{Num: n, Item: itemText[n], Status: Pass, Evidence: "ok"})
	}
	r.Items[0].Evidence = "C_Initialize CKR_OK (Craton HSM 0.9); POST 17/17 passed"
	r.Items[2] = Result{Num: 3, Item: itemText[3], Status: Fail, Evidence: "1 of 12 migrated objects failed",
		Details: []string{"ok: private-key \"a\" id=01 RSA-2048", "FAIL: secret-key \"k\" id=10 AES-256: not on the target"}}
	r.Items[6] = Result{Num: 7, Item: itemText[7], Status: Skip, Evidence: "no representative transaction given (--exec)"}
	r.Items[9] = Result{Num: 10, Item: itemText[10], Status: Warn, Evidence: "0 of 1 regenerate items passed, 1 with warnings",
		Details: []string{"WARN: private-key \"nx\" id=02 RSA: pending"}}
	r.Count()
	return r
}

func TestCount(t *testing.T) {
	r := fixedReport()
	if r.Passed != 7 || r.Failed != 1 || r.Warned != 1 || r.Skipped != 1 {
		t.Fatalf("counts %d/%d/%d/%d, want 7/1/1/1", r.Passed, r.Failed, r.Warned, r.Skipped)
	}
	var e *errs.Error
	if err := r.Err(); !errors.As(err, &e) || e.Kind != errs.KindVerifyFailed {
		t.Fatalf("Err() = %v, want KindVerifyFailed", err)
	}
	r.Items[2].Status = Warn
	r.Count()
	if r.Err() != nil || r.Failed != 0 || r.Warned != 2 {
		t.Fatalf("after fixing item 3: err %v, failed %d, warned %d", r.Err(), r.Failed, r.Warned)
	}
}

func TestMarkdownGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := fixedReport().Markdown(&buf); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "report.md")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("markdown differs from %s (go test ./verify -run Golden -update):\n%s", golden, buf.String())
	}
}

func TestRowsRender(t *testing.T) {
	r := fixedReport()
	var buf bytes.Buffer
	if err := report.Render(&buf, report.CSV, report.Report{Rows: r.Items}); err != nil {
		t.Fatal(err)
	}
	if want := "num,item,status,evidence\n"; !bytes.HasPrefix(buf.Bytes(), []byte(want)) {
		t.Errorf("CSV header: %q", buf.String()[:40])
	}
	buf.Reset()
	if err := report.Render(&buf, report.Markdown, report.Report{Rows: r.Items, Markdown: r.Markdown}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte("- [ ] 3. Every migrated key")) {
		t.Errorf("markdown via report.Render:\n%s", buf.String())
	}
}
