package errs

import (
	"errors"
	"fmt"
	"strings"

	"github.com/craton-co/craton/ck"
)

// Kind classifies a failure by what the operator must do about it.
type Kind int

// The kinds, in exit-code order. Add new kinds at the end: exit codes are API.
const (
	KindInternal      Kind = iota + 1 // a bug or an unexpected module answer
	KindUsage                         // bad flags or arguments
	KindModule                        // module cannot be loaded or initialised
	KindTokenNotFound                 // no token (or more than one) with that label/serial
	KindAuth                          // wrong PIN, or no PIN source
	KindPINLocked                     // PIN locked after too many failures
	KindVerifyFailed                  // a check failed (verify, --strict, proofs)
	KindPartial                       // migration finished with some objects failed
	KindStoreLocked                   // another process holds the engine's store
	KindInput                         // an input file (inventory, plan, config) is malformed
	KindState                         // token or store in a state that forbids the operation
)

// ExitCodes is the table from kind to exit code; 0 is success.
var ExitCodes = []struct {
	Kind    Kind
	Code    int
	Name    string
	Meaning string
}{
	{KindInternal, 1, "internal", "unexpected failure: a module returned an unexpected error, or a bug"},
	{KindUsage, 2, "usage", "invalid flags or arguments; nothing was changed"},
	{KindModule, 3, "module", "the PKCS#11 module could not be loaded or C_Initialize failed"},
	{KindTokenNotFound, 4, "token-not-found", "no token with that label (and serial); the message lists the labels present"},
	{KindAuth, 5, "auth", "login failed (CKR_PIN_INCORRECT) or no PIN source was given; craton never retries a PIN"},
	{KindPINLocked, 6, "pin-locked", "the PIN is locked (CKR_PIN_LOCKED); the SO must re-initialise it"},
	{KindVerifyFailed, 7, "verify-failed", "a verification item, proof or --strict check failed"},
	{KindPartial, 8, "partial", "migration finished but some objects failed; re-run to resume"},
	{KindStoreLocked, 9, "store-locked", "another process holds the engine store's lock"},
	{KindInput, 10, "input", "an input file (inventory CSV, plan YAML, config) is malformed"},
	{KindState, 11, "state", "the token is in a state that forbids the operation (e.g. not initialised)"},
}

// Error is craton's typed error: what failed, the PKCS#11 return value if
// any, and a hint that names the fix.
type Error struct {
	Kind Kind
	Op   string // what was being done, e.g. "C_Login on token \"x\""
	RV   uint   // CK_RV, 0 when the failure is not a PKCS#11 one
	Msg  string // the problem
	Hint string // the fix
	Err  error  // wrapped cause
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.Msg != "" {
		b.WriteString(e.Msg)
	} else if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	if e.RV != 0 && !strings.Contains(b.String(), ck.RVName(e.RV)) {
		fmt.Fprintf(&b, " (%s)", ck.RVName(e.RV))
	}
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an *Error of the given kind.
func New(kind Kind, op, msg, hint string) *Error {
	return &Error{Kind: kind, Op: op, Msg: msg, Hint: hint}
}

// Newf is New with a formatted message and no hint.
func Newf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// Usage reports bad flags or arguments.
func Usage(msg, hint string) *Error { return New(KindUsage, "", msg, hint) }

// KindOf returns the kind of the first *Error in err's chain, KindInternal otherwise.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// RVOf returns the CK_RV of the first *Error carrying one, else 0.
func RVOf(err error) uint {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return 0
		}
		if e.RV != 0 {
			return e.RV
		}
		err = e.Err
	}
	return 0
}

// ExitCode maps err to the process exit code: 0 for nil.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	k := KindOf(err)
	for _, row := range ExitCodes {
		if row.Kind == k {
			return row.Code
		}
	}
	return 1
}
