package errs

import (
	"errors"
	"fmt"
	"testing"
)

func TestExitCodeTable(t *testing.T) {
	seen := map[int]bool{0: true}
	for _, row := range ExitCodes {
		if seen[row.Code] {
			t.Errorf("exit code %d used twice", row.Code)
		}
		seen[row.Code] = true
		err := fmt.Errorf("wrapped: %w", &Error{Kind: row.Kind, Msg: "x"})
		if got := ExitCode(err); got != row.Code {
			t.Errorf("kind %s: exit %d, want %d", row.Name, got, row.Code)
		}
	}
	if ExitCode(nil) != 0 {
		t.Error("nil error must exit 0")
	}
	if ExitCode(errors.New("plain")) != 1 {
		t.Error("untyped error must exit 1 (internal)")
	}
}

func TestErrorText(t *testing.T) {
	e := &Error{Kind: KindAuth, Op: `C_Login on "tok"`, RV: 0xA0, Msg: "wrong user PIN", Hint: "check --pin-file"}
	want := `C_Login on "tok": wrong user PIN (CKR_PIN_INCORRECT); check --pin-file`
	if e.Error() != want {
		t.Errorf("got %q\nwant %q", e.Error(), want)
	}
	if RVOf(fmt.Errorf("x: %w", e)) != 0xA0 {
		t.Error("RVOf lost the CK_RV through wrapping")
	}
}
