package hsm

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/hsm/mech"
)

// TestFIPSModeDocCurrent keeps the table of docs/fips-mode.md equal to the
// mechanism table and the policy filter.
func TestFIPSModeDocCurrent(t *testing.T) {
	b, err := os.ReadFile("../docs/fips-mode.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Split(line, "|"); len(f) == 7 && strings.HasPrefix(strings.TrimSpace(f[2]), "0x") {
			rows[strings.TrimSpace(f[2])] = strings.Join(strings.Fields(line), " ")
		}
	}
	yn := func(v bool) string {
		if v {
			return "yes"
		}
		return "no"
	}
	all := mech.Mechanisms()
	for _, i := range all {
		code := fmt.Sprintf("0x%08X", i.Type)
		want := fmt.Sprintf("| %s | %s | yes | %s | %s |", ck.MechName(i.Type), code, yn(i.FIPS), yn(!isPQC(i.Type)))
		if rows[code] != want {
			t.Errorf("docs/fips-mode.md row for %s is %q, want %q", code, rows[code], want)
		}
	}
	if len(rows) != len(all) {
		t.Errorf("docs/fips-mode.md has %d rows, the engine %d mechanisms", len(rows), len(all))
	}
}
