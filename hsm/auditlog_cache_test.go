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
