package audit

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/errs"
)

// Entry is one audit entry as `craton audit show` presents it.
type Entry struct {
	Line      int       // 1-based line in the file (0 for an in-memory log)
	Time      time.Time // from the Unix-nanosecond timestamp
	Session   uint64    // session handle, 0 for system events
	Op        string    // operation name, e.g. "Sign"
	Operation Operation // the operation with all its arguments
	// Mechanism and MechanismName (ck.MechName) are set when the operation
	// has a mechanism; FIPS when it has fips_approved.
	Mechanism     *uint
	MechanismName string
	FIPS          *bool
	KeyID         *string
	RV            uint   // 0 for success
	Result        string // "Success", or the CKR_ name of the failure (ck.RVName)
}

func entryOf(lineNo int, rec record) Entry {
	e := Entry{
		Line:      lineNo,
		Time:      timeOf(rec.Timestamp),
		Session:   rec.SessionHandle,
		Op:        rec.Operation.name,
		Operation: rec.Operation,
		RV:        uint(rec.Result.rv),
		Result:    "Success",
	}
	if rec.Result.failed {
		e.Result = ck.RVName(uint(rec.Result.rv))
	}
	if m, ok := rec.Operation.Mechanism(); ok {
		e.Mechanism, e.MechanismName = &m, ck.MechName(m)
	}
	if f, ok := rec.Operation.FIPSApproved(); ok {
		e.FIPS = &f
	}
	if rec.KeyID != nil {
		k := string(*rec.KeyID)
		e.KeyID = &k
	}
	return e
}

// Failed reports whether the entry records a failure.
func (e Entry) Failed() bool { return e.Result != "Success" }

// Filter selects entries for Read. Zero fields select everything.
type Filter struct {
	Ops          []string  // operation names (OperationNames), any case
	Since, Until time.Time // Since <= Time < Until
	FailuresOnly bool
}

// match reports whether e passes f; ops is f.Ops resolved to exact names.
func (f Filter) match(e Entry, ops map[string]bool) bool {
	switch {
	case len(ops) > 0 && !ops[e.Op]:
		return false
	case !f.Since.IsZero() && e.Time.Before(f.Since):
		return false
	case !f.Until.IsZero() && !e.Time.Before(f.Until):
		return false
	case f.FailuresOnly && !e.Failed():
		return false
	}
	return true
}

// resolveOps maps the filter's names to operation names, refusing unknown
// ones so that a typo does not silently show nothing.
func (f Filter) resolveOps() (map[string]bool, error) {
	if len(f.Ops) == 0 {
		return nil, nil
	}
	ops := map[string]bool{}
	for _, want := range f.Ops {
		found := false
		for name := range variants {
			if strings.EqualFold(name, want) {
				ops[name], found = true, true
			}
		}
		if !found {
			return nil, &errs.Error{Kind: errs.KindUsage, Op: "audit filter",
				Msg:  fmt.Sprintf("unknown operation %q", want),
				Hint: "use one of: " + strings.Join(OperationNames(), ", ")}
		}
	}
	return ops, nil
}

// Read returns the entries of the log at path that pass f, in file order.
// It parses every line strictly (as Verify does) and fails on the first one
// that is not a valid entry, naming it; it does not check the hash chain —
// run Verify for that.
func Read(path string, f Filter) ([]Entry, error) {
	ops, err := f.resolveOps()
	if err != nil {
		return nil, err
	}
	fail := func(msg string, err error) error {
		if err != nil && !strings.Contains(msg, err.Error()) {
			msg += ": " + err.Error()
		}
		return &errs.Error{Kind: errs.KindInput, Op: "audit log " + path, Msg: msg,
			Hint: "run `craton audit verify` on the file to see whether it was damaged", Err: err}
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, &errs.Error{Kind: errs.KindInput, Op: "audit log " + path, Msg: "cannot open the audit log: " + err.Error(),
			Hint: "check the path (audit.log_path) and its permissions", Err: err}
	}
	defer file.Close()
	lr := &lineReader{br: bufio.NewReaderSize(file, 64<<10)}
	var out []Entry
	for {
		c, err := lr.nextChecked()
		if err != nil {
			return nil, fail("cannot read the audit log", err)
		}
		if c == nil {
			return out, nil
		}
		if c.raw.truncated {
			return nil, fail(fmt.Sprintf("line %d: incomplete last line (no newline)", c.raw.no), nil)
		}
		if c.err != nil {
			return nil, fail(fmt.Sprintf("line %d: %v", c.raw.no, c.err), c.err)
		}
		if e := entryOf(c.raw.no, c.p.rec); f.match(e, ops) {
			out = append(out, e)
		}
	}
}
