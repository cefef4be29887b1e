package wrapmove

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// TestWriteJSONMatchesEncoder: WriteJSON is byte for byte what the report
// renderer's Encoder writes, for no rows, empty rows and rows with
// characters JSON escapes.
func TestWriteJSONMatchesEncoder(t *testing.T) {
	rows := []Row{
		{Label: "a<b>&c", ID: "01ff", Class: ClassSecretKey, KeyType: "aes", Action: ActWrap, Status: StatusMoved, Proof: "kcv:abc"},
		{Label: "quote\" back\\slash \u2028 ü \x01", Class: ClassPublicKey, Action: ActCopy, Status: StatusCopied},
		{Label: "", Status: StatusFailed, Detail: "line\nbreak\ttab"},
	}
	for name, r := range map[string]*Result{
		"nil rows":   {Counts: Counts{Failed: 1}, Elapsed: time.Second},
		"empty rows": {Rows: []Row{}, DryRun: true},
		"one row":    {Rows: rows[:1], Transport: "ecdh", JournalPath: "/tmp/j.json", Elapsed: 42},
		"rows":       {Rows: rows, Transport: "random", TransportNote: "no <ECDH>", Counts: Counts{Moved: 1, Copied: 1, Failed: 1}, Plan: Plan{Version: 1}},
	} {
		var want, got bytes.Buffer
		e := json.NewEncoder(&want)
		e.SetIndent("", "  ")
		if err := e.Encode(r); err != nil {
			t.Fatal(err)
		}
		if err := r.WriteJSON(&got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%s:\n got %q\nwant %q", name, got.String(), want.String())
		}
	}
}
