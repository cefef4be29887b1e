package verify

import (
	"bufio"
	"io"
	"strings"
	"time"
)

// Markdown writes the report as the guide's checklist filled in: one
// check box per item, ticked when it passed, with the status and the
// evidence, and the details indented below.
func (r *Report) Markdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	date := r.Started
	if date.IsZero() {
		date = time.Now()
	}
	bw.WriteString("# Cutover verification: " + r.SourceToken + " → " + r.TargetToken + "\n\n")
	bw.WriteString("- Source token: `" + r.SourceToken + "`\n")
	bw.WriteString("- Target token: `" + r.TargetToken + "`\n")
	bw.WriteString("- Date: " + date.UTC().Format(time.RFC3339) + "\n")
	bw.WriteString(sprintf("- Result: %d passed, %d failed, %d warnings, %d skipped\n\n", r.Passed, r.Failed, r.Warned, r.Skipped))
	for _, it := range r.Items {
		box := "[ ]"
		if it.Status == Pass {
			box = "[x]"
		}
		bw.WriteString(sprintf("- %s %d. %s — %s: %s\n", box, it.Num, it.Item, it.Status, oneLine(it.Evidence)))
		for _, d := range it.Details {
			bw.WriteString("  - " + oneLine(d) + "\n")
		}
	}
	if r.Failed > 0 {
		bw.WriteString("\nDo not retire the source token: fix the failed items and verify again.\n")
	} else {
		bw.WriteString("\nNo item failed. Review warnings and skipped items before retiring the source token.\n")
	}
	return bw.Flush()
}

// oneLine keeps a list item on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
