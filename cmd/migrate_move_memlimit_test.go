package cmd

import (
	"math"
	"os"
	"runtime/debug"
	"testing"
)

// TestMoveMemoryLimit: the move's soft memory limit applies only when
// neither GOMEMLIMIT nor another limit is set, and is restored after.
func TestMoveMemoryLimit(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "") // restored after the test
	os.Unsetenv("GOMEMLIMIT")
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	restore := setMoveMemoryLimit()
	if got := debug.SetMemoryLimit(-1); got != moveMemoryLimit {
		t.Fatalf("limit during the move %d, want %d", got, moveMemoryLimit)
	}
	restore()
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("limit after the move %d, want none", got)
	}

	debug.SetMemoryLimit(1 << 30) // set by the embedding program
	setMoveMemoryLimit()()
	if got := debug.SetMemoryLimit(-1); got != 1<<30 {
		t.Fatalf("an existing limit became %d", got)
	}
	debug.SetMemoryLimit(math.MaxInt64)
	t.Setenv("GOMEMLIMIT", "off")
	restore = setMoveMemoryLimit()
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("GOMEMLIMIT=off, yet limit %d", got)
	}
	restore()
}
