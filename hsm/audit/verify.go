package audit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/craton-co/craton/errs"
)

// maxLineLen bounds one line; real entries are a few hundred bytes.
const maxLineLen = 1 << 20

// Problem says why verification failed.
type Problem int

const (
	// OK: the chain verified.
	OK Problem = iota
	// BadEntry: the line is not valid JSON, not a v0 entry, or not in the
	// canonical compact form (its text was edited).
	BadEntry
	// PreviousHashMismatch: the line's previous_hash does not follow from
	// the lines before it, and the lines after it do not confirm it either:
	// this line's previous_hash was changed, or lines were reordered or
	// inserted.
	PreviousHashMismatch
	// ContentMismatch: the line's content does not match the chain value the
	// next line (or the head file) records for it, which the rest of the
	// chain confirms: this line was changed, or lines after it were removed.
	ContentMismatch
	// TimestampNotIncreasing: the line's timestamp is not after the
	// previous line's.
	TimestampNotIncreasing
	// TruncatedLine: the file does not end with a newline; its last line is
	// incomplete (an interrupted write, or truncation).
	TruncatedLine
	// EntriesMissing: entries were removed — from the end (the head file
	// records more than the file holds) or from the start (line 1 continues
	// a chain instead of starting one).
	EntriesMissing
)

var problemNames = [...]string{"ok", "bad entry", "previous_hash mismatch", "content mismatch",
	"timestamp not increasing", "truncated last line", "entries missing"}

func (p Problem) String() string {
	if int(p) < len(problemNames) {
		return problemNames[p]
	}
	return fmt.Sprintf("Problem(%d)", int(p))
}

// Report is the result of verifying a log file.
type Report struct {
	Path string
	// Entries is the number of lines in the file (a truncated last line
	// counts), whether or not they verified.
	Entries int
	// Verified is the number of leading entries that verified: all of them
	// when the chain is OK, BrokenLine-1 otherwise.
	Verified int
	// LastHash and LastTimestamp (Unix ns) are the chain value and the
	// timestamp after the last entry, from which a log continues; set only
	// when the chain is OK (zero hash and 0 for an empty file).
	LastHash      Hash
	LastTimestamp uint64

	// Problem is OK, or why verification failed at BrokenLine (1-based).
	//
	// BrokenLine is the earliest line the evidence points at: for a changed
	// payload, the changed line (found through the next line's
	// previous_hash, or the head file for the last line); for a changed
	// previous_hash or swapped lines, the first line out of place; for a
	// removed line, the line before the gap, whose content nothing commits
	// to any more (Detail says "changed, or lines after it were removed":
	// the file cannot tell the two apart); for a truncated file, the
	// incomplete last line or, with a head file, the last line left.
	Problem    Problem
	BrokenLine int
	Detail     string

	// HeadPresent reports whether a valid head file was found and checked.
	// Without one (a Craton log, or a deleted head) a change to the last
	// line's payload or the removal of whole lines at the end cannot be
	// detected; Warnings says so.
	HeadPresent bool
	Warnings    []string
}

// OK reports whether the chain verified.
func (r Report) OK() bool { return r.Problem == OK }

// Err returns nil when the chain verified, otherwise an *errs.Error of kind
// errs.KindVerifyFailed that wraps a *ChainError holding r.
func (r Report) Err() error {
	if r.OK() {
		return nil
	}
	return &errs.Error{Kind: errs.KindVerifyFailed, Op: "audit log " + r.Path,
		Msg:  fmt.Sprintf("chain broken at line %d: %s: %s", r.BrokenLine, r.Problem, r.Detail),
		Hint: "keep the file as evidence and investigate; to start a new chain, move the log and its .head file aside",
		Err:  &ChainError{Report: r}}
}

// ChainError carries the Report of a log whose chain did not verify.
type ChainError struct{ Report Report }

func (e *ChainError) Error() string {
	return fmt.Sprintf("audit chain broken at line %d: %s", e.Report.BrokenLine, e.Report.Problem)
}

// Verify checks the log at path: every line is a canonical v0 entry, each
// previous_hash equals the chain value of the lines before it (starting
// from 32 zero bytes), timestamps strictly increase, the file ends with a
// newline, and, when <path>.head exists, the file holds at least the
// entries it records and their chain value matches. The error is for a
// file that cannot be read; a broken chain is reported in the Report (see
// Report.Err).
func Verify(path string) (Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return Report{Path: path}, &errs.Error{Kind: errs.KindInput, Op: "audit log " + path,
			Msg: "cannot open the audit log: " + err.Error(), Hint: "check the path (audit.log_path) and its permissions", Err: err}
	}
	defer f.Close()
	rep, err := verifyReader(f, readHead(path))
	rep.Path = path
	if err != nil {
		return rep, &errs.Error{Kind: errs.KindInput, Op: "audit log " + path,
			Msg: "cannot read the audit log: " + err.Error(), Hint: "check the file and the disk", Err: err}
	}
	return rep, nil
}

// lineReader yields the file's lines with their numbers.
type lineReader struct {
	br *bufio.Reader
	no int
}

// rawLine is one line of the file without its newline.
type rawLine struct {
	no        int
	text      []byte
	truncated bool // no newline at the end of the file
	tooLong   bool
}

func (lr *lineReader) next() (*rawLine, error) {
	var buf []byte
	for {
		chunk, err := lr.br.ReadSlice('\n')
		if len(buf)+len(chunk) <= maxLineLen+1 {
			buf = append(buf, chunk...)
		} else if buf == nil || len(buf) <= maxLineLen {
			buf = append(buf, chunk[:maxLineLen+1-len(buf)]...)
		}
		switch {
		case err == nil:
			lr.no++
			if len(buf) > maxLineLen {
				return &rawLine{no: lr.no, tooLong: true}, nil
			}
			return &rawLine{no: lr.no, text: buf[:len(buf)-1]}, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(buf) == 0 {
				return nil, nil
			}
			lr.no++
			return &rawLine{no: lr.no, text: buf, truncated: true, tooLong: len(buf) > maxLineLen}, nil
		default:
			return nil, err
		}
	}
}

// checked is a line with its parse result.
type checked struct {
	raw *rawLine
	p   parsed
	err error
}

func (lr *lineReader) nextChecked() (*checked, error) {
	raw, err := lr.next()
	if raw == nil || err != nil {
		return nil, err
	}
	c := &checked{raw: raw}
	switch {
	case raw.tooLong:
		c.err = fmt.Errorf("line is longer than %d bytes", maxLineLen)
	case raw.truncated:
		// reported as TruncatedLine
	case len(raw.text) == 0:
		c.err = errors.New("empty line")
	default:
		c.p, c.err = decode(raw.text)
	}
	return c, nil
}

// verifyReader walks the chain. See Report for how the broken line is
// chosen; the one-line lookahead is what tells a changed payload (the next
// line's previous_hash is confirmed by the line after it) from a changed
// previous_hash (it is not).
func verifyReader(r io.Reader, head headState) (Report, error) {
	var rep Report
	lr := &lineReader{br: bufio.NewReaderSize(r, 64<<10)}
	var pending *checked
	get := func() (*checked, error) {
		if pending != nil {
			c := pending
			pending = nil
			return c, nil
		}
		return lr.nextChecked()
	}
	peek := func() (*checked, error) {
		if pending == nil {
			c, err := lr.nextChecked()
			if err != nil {
				return nil, err
			}
			pending = c
		}
		return pending, nil
	}

	var (
		h          Hash // chain value after the lines verified so far
		lastPrev   Hash // previous_hash of the last verified line
		prevTS     uint64
		hashAtHead Hash // chain value after head.info.entries lines
		fail       = func(lineNo int, p Problem, format string, args ...any) {
			if rep.Problem == OK {
				rep.Problem, rep.BrokenLine, rep.Detail = p, lineNo, fmt.Sprintf(format, args...)
			}
		}
	)
	if head.problem != "" {
		rep.Warnings = append(rep.Warnings, head.problem+"; ignored")
	}
	for rep.Problem == OK {
		c, err := get()
		if err != nil {
			return rep, err
		}
		if c == nil {
			break
		}
		no := c.raw.no
		if c.raw.truncated && !c.raw.tooLong {
			fail(no, TruncatedLine, "line %d has no newline: the file ends in the middle of an entry (%d bytes)", no, len(c.raw.text))
			break
		}
		if c.err != nil {
			fail(no, BadEntry, "%v", c.err)
			break
		}
		if c.p.prev != h {
			// Does the rest of the chain confirm this line's previous_hash?
			after := chain(c.p.prev, c.p.payload)
			confirmed, by := false, ""
			next, err := peek()
			if err != nil {
				return rep, err
			}
			if next != nil && next.err == nil && !next.raw.truncated {
				confirmed, by = next.p.prev == after, fmt.Sprintf("line %d", no+1)
			} else if next == nil && head.present && head.info.entries == no {
				confirmed, by = head.info.hash == after, "the head file"
			}
			switch {
			case no > 1 && c.p.prev == lastPrev:
				fail(no, PreviousHashMismatch, "line %d has the same previous_hash as line %d: it is a copy or an inserted line", no, no-1)
			case confirmed && no == 1:
				fail(1, EntriesMissing, "line 1's previous_hash is not the zero hash that starts a chain, but %s confirms it: entries before line 1 were removed", by)
			case confirmed:
				fail(no-1, ContentMismatch, "line %d does not match the previous_hash recorded in line %d (which %s confirms): line %d was changed, or lines after it were removed", no-1, no, by, no-1)
			case no == 1:
				fail(1, PreviousHashMismatch, "line 1's previous_hash is not the zero hash that starts a chain")
			default:
				fail(no, PreviousHashMismatch, "line %d's previous_hash does not follow from line %d: its previous_hash was changed, or lines were reordered or inserted", no, no-1)
			}
			break
		}
		if ts := c.p.rec.Timestamp; no > 1 && ts <= prevTS {
			fail(no, TimestampNotIncreasing, "timestamp %d is not after line %d's %d", ts, no-1, prevTS)
			break
		}
		h, lastPrev = chain(h, c.p.payload), c.p.prev
		prevTS = c.p.rec.Timestamp
		rep.Verified++
		if head.present && rep.Verified == head.info.entries {
			hashAtHead = h
		}
	}
	rep.Entries = lr.no
	if rep.Problem == OK {
		switch {
		case !head.present:
			if rep.Verified > 0 {
				rep.Warnings = append(rep.Warnings, "no head file: a change to the last entry's content, or the removal of entries at the end, cannot be detected")
			}
		case head.info.entries > rep.Verified:
			fail(max(rep.Verified, 1), EntriesMissing, "the head file records %d entries but the file has %d: entries after line %d were removed", head.info.entries, rep.Verified, rep.Verified)
		case head.info.entries > 0 && hashAtHead != head.info.hash || head.info.entries == 0 && head.info.hash != (Hash{}):
			n := head.info.entries
			fail(max(n, 1), ContentMismatch, "line %d does not match the chain value recorded in the head file: line %d was changed (or the head file belongs to another log)", n, n)
		default:
			rep.HeadPresent = true
		}
	}
	if rep.Problem == OK {
		rep.LastHash, rep.LastTimestamp = h, prevTS
		return rep, nil
	}
	rep.Verified = rep.BrokenLine - 1
	n, err := countLines(lr.br)
	rep.Entries += n
	return rep, err
}

func countLines(r io.Reader) (int, error) {
	n, buf := 0, make([]byte, 64<<10)
	partial := false
	for {
		k, err := r.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if k > 0 {
			partial = buf[k-1] != '\n'
		}
		if errors.Is(err, io.EOF) {
			if partial {
				n++
			}
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// timeOf converts a log timestamp.
func timeOf(ns uint64) time.Time { return time.Unix(0, int64(ns)) }
