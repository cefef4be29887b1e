package hsm

import (
	"testing"

	"github.com/craton-co/craton/hsm/mech"
)

// TestCachedFIPS: the cache answers as mechFIPS does for every mechanism
// of the table and for unknown ones, on first and on repeated lookups.
func TestCachedFIPS(t *testing.T) {
	types := []uint{0, 1, 0x80000000, 1<<62 + 5, ^uint(0)}
	for _, in := range mech.Mechanisms() {
		types = append(types, in.Type)
	}
	for range 2 {
		for _, m := range types {
			if got, want := cachedFIPS(m), mechFIPS(m); got != want {
				t.Fatalf("mechanism %#x: cached %v, table %v", m, got, want)
			}
		}
	}
}

// TestCachedOperation: the cached operations encode as freshly built ones,
// across variants, mechanisms and FIPS flags sharing slots.
func TestCachedOperation(t *testing.T) {
	for range 2 {
		for _, name := range []string{"Sign", "Verify", "Encrypt", "Decrypt", "WrapKey", "UnwrapKey", "DeriveKey", "Login", "GenerateKey"} {
			for _, m := range []uint{0x1, 0x250, 0x1087, 0x1050, 0x80000001, 0x250 + 256, 0x250 + 512} {
				for _, f := range []bool{false, true} {
					ev := auditEvent{Op: name, Mechanism: m, FIPS: f, UserType: 1, Length: 32}
					got, err1 := ev.cachedOperation().MarshalJSON()
					want, err2 := ev.operation().MarshalJSON()
					if err1 != nil || err2 != nil || string(got) != string(want) {
						t.Fatalf("%s %#x %v: cached %s (%v), built %s (%v)", name, m, f, got, err1, want, err2)
					}
				}
			}
		}
	}
}
