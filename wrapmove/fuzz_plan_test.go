package wrapmove

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
)

// FuzzReadPlan feeds arbitrary bytes to the plan YAML reader: it never
// panics, and a plan it accepts writes back to YAML that reads to the same
// plan.
func FuzzReadPlan(f *testing.F) {
	if golden, err := os.ReadFile("testdata/plan.golden.yaml"); err == nil {
		f.Add(golden)
		f.Add([]byte(strings.Replace(string(golden), "action: wrap", "action: teleport", 1)))
		f.Add(golden[:len(golden)/2])
	}
	f.Add([]byte(""))
	f.Add([]byte("version: 1\nactions: [{}]\n"))
	f.Add([]byte("&a [*a, *a, *a]"))
	f.Add([]byte("version: !!binary \xff\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ReadPlan(bytes.NewReader(data), "fuzz.yaml")
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := WritePlan(&buf, p); err != nil {
			t.Fatalf("WritePlan of an accepted plan: %v", err)
		}
		again, err := ReadPlan(&buf, "again.yaml")
		if err != nil {
			t.Fatalf("the YAML written from an accepted plan does not read back: %v\n%s", err, buf.String())
		}
		if !reflect.DeepEqual(p, again) {
			t.Fatalf("round trip changed the plan:\n%+v\n%+v", p, again)
		}
	})
}
