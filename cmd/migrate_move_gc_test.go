package cmd

import (
	"os"
	"runtime/debug"
	"testing"
)

// TestMoveGC: the move's GOGC applies only when neither the environment
// nor the embedding program chose one, and is restored after.
func TestMoveGC(t *testing.T) {
	t.Setenv("GOGC", "") // restored after the test
	os.Unsetenv("GOGC")
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	restore := setMoveGC()
	if got := debug.SetGCPercent(moveGCPercent); got != moveGCPercent {
		t.Fatalf("GOGC during the move %d, want %d", got, moveGCPercent)
	}
	restore()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC after the move %d, want 100", got)
	}

	debug.SetGCPercent(200) // chosen by the embedding program
	setMoveGC()()
	if got := debug.SetGCPercent(100); got != 200 {
		t.Fatalf("a chosen GOGC became %d", got)
	}
	t.Setenv("GOGC", "100")
	restore = setMoveGC()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC set in the environment, yet %d", got)
	}
	restore()
}
