package inventory

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
)

// FuzzReadCSV feeds arbitrary bytes to the inventory CSV reader: it never
// panics, and what it accepts writes back to a CSV that reads to the same
// records.
func FuzzReadCSV(f *testing.F) {
	if golden, err := os.ReadFile("testdata/inventory.golden.csv"); err == nil {
		f.Add(golden)
		lines := strings.SplitAfter(string(golden), "\n")
		if len(lines) > 2 {
			f.Add([]byte(lines[0] + lines[1]))
			f.Add([]byte(lines[0] + strings.Replace(lines[1], ",", ",\"", 1)))
		}
	}
	f.Add([]byte(""))
	f.Add([]byte("label\n"))
	f.Add([]byte("\xff\xfe,\"\n\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := ReadCSV(bytes.NewReader(data))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := WriteCSV(&buf, inv); err != nil {
			t.Fatalf("WriteCSV of an accepted inventory: %v", err)
		}
		again, err := ReadCSV(&buf)
		if err != nil {
			t.Fatalf("the CSV written from an accepted inventory does not read back: %v\n%s", err, buf.String())
		}
		if !reflect.DeepEqual(inv.Records, again.Records) {
			t.Fatalf("round trip changed the records:\n%+v\n%+v", inv.Records, again.Records)
		}
	})
}
