package audit

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// fixture writes an n-entry log and returns its path and lines (each with
// its newline).
func fixture(t *testing.T, n int) (string, [][]byte) {
	t.Helper()
	l, path := openTemp(t)
	appendN(t, l, 0, n)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, bytes.SplitAfter(data, []byte{'\n'})[:n]
}

func rewrite(t *testing.T, path string, lines [][]byte) {
	t.Helper()
	if err := os.WriteFile(path, bytes.Join(lines, nil), 0o600); err != nil {
		t.Fatal(err)
	}
}

func expectBroken(t *testing.T, path string, line int, p Problem, detail ...string) Report {
	t.Helper()
	rep := mustVerify(t, path)
	if rep.OK() || rep.BrokenLine != line || rep.Problem != p {
		t.Fatalf("got %v at line %d (%s); want %v at line %d", rep.Problem, rep.BrokenLine, rep.Detail, p, line)
	}
	for _, d := range detail {
		if !strings.Contains(rep.Detail, d) {
			t.Errorf("detail %q does not mention %q", rep.Detail, d)
		}
	}
	if rep.Verified != line-1 {
		t.Errorf("Verified = %d, want %d", rep.Verified, line-1)
	}
	if rep.Err() == nil {
		t.Error("Report.Err() is nil for a broken chain")
	}
	return rep
}

// TestFlipAnyByte flips one bit (two different ones), and separately all
// bits, of every byte of a small log, one at a time (in memory: the same
// walk Verify does on the file), and expects each change to be reported at
// the line that holds the byte — including the last line, which only the
// head file protects.
func TestFlipAnyByte(t *testing.T) {
	const n = 5
	path, lines := fixture(t, n)
	orig := bytes.Join(lines, nil)
	lineOf := make([]int, len(orig))
	pos := 0
	for i, l := range lines {
		for range l {
			lineOf[pos] = i + 1
			pos++
		}
	}
	head := readHead(path)
	if !head.present {
		t.Fatal("fixture has no head file")
	}
	for _, mask := range []byte{0x01, 0x04, 0xFF} {
		for i := range orig {
			data := bytes.Clone(orig)
			data[i] ^= mask
			rep, err := verifyReader(bytes.NewReader(data), head)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() {
				t.Fatalf("flip 0x%02x at byte %d (line %d, %q) not detected", mask, i, lineOf[i], orig[max(i-10, 0):min(i+10, len(orig))])
			}
			if rep.BrokenLine != lineOf[i] {
				t.Fatalf("flip 0x%02x at byte %d in line %d reported at line %d: %v: %s", mask, i, lineOf[i], rep.BrokenLine, rep.Problem, rep.Detail)
			}
		}
	}
}

func TestDeleteLine(t *testing.T) {
	path, lines := fixture(t, 10)
	// Middle: the line before the gap is no longer committed to.
	rewrite(t, path, append(append([][]byte{}, lines[:4]...), lines[5:]...))
	expectBroken(t, path, 4, ContentMismatch, "line 4 was changed, or lines after it were removed")
	// First: line 1 no longer starts a chain.
	rewrite(t, path, lines[1:])
	expectBroken(t, path, 1, EntriesMissing, "before line 1")
	// Last: the head file records one more.
	rewrite(t, path, lines[:9])
	expectBroken(t, path, 9, EntriesMissing, "records 10 entries but the file has 9")
}

func TestSwapLines(t *testing.T) {
	path, lines := fixture(t, 10)
	for _, k := range []int{0, 4, 8} { // swap lines k+1 and k+2 (1-based)
		swapped := append([][]byte{}, lines...)
		swapped[k], swapped[k+1] = swapped[k+1], swapped[k]
		rewrite(t, path, swapped)
		expectBroken(t, path, k+1, PreviousHashMismatch)
	}
}

func TestTruncate(t *testing.T) {
	path, lines := fixture(t, 10)
	full := bytes.Join(lines, nil)
	// Mid-line: the last line is incomplete.
	os.WriteFile(path, full[:len(full)-20], 0o600)
	rep := expectBroken(t, path, 10, TruncatedLine)
	if rep.Entries != 10 {
		t.Errorf("Entries = %d, want 10 (the partial line counts)", rep.Entries)
	}
	// Just the final newline.
	os.WriteFile(path, full[:len(full)-1], 0o600)
	expectBroken(t, path, 10, TruncatedLine)
	// At a line boundary: the head file says what is missing.
	rewrite(t, path, lines[:7])
	expectBroken(t, path, 7, EntriesMissing, "entries after line 7 were removed")
	// Everything.
	os.WriteFile(path, nil, 0o600)
	expectBroken(t, path, 1, EntriesMissing, "records 10 entries but the file has 0")
}

func TestHeadFile(t *testing.T) {
	path, lines := fixture(t, 10)

	// Without a head (a Craton log): a valid chain with a warning; removing
	// whole lines from the end cannot be seen.
	os.Remove(path + headSuffix)
	rewrite(t, path, lines[:8])
	rep := mustVerify(t, path)
	if !rep.OK() || rep.HeadPresent || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "no head file") {
		t.Fatalf("headless: %+v", rep)
	}

	// A stale head (fewer entries than the file, as after a crash between
	// the log's fsync and the head write) protects its prefix.
	rewrite(t, path, lines)
	os.WriteFile(path+headSuffix, formatHead(headInfo{entries: 8, hash: rep.LastHash}), 0o600)
	if rep := mustVerify(t, path); !rep.OK() || !rep.HeadPresent || rep.Entries != 10 {
		t.Fatalf("stale head: %+v", rep)
	}
	// A head from another log.
	other := rep.LastHash
	other[0] ^= 1
	os.WriteFile(path+headSuffix, formatHead(headInfo{entries: 8, hash: other}), 0o600)
	expectBroken(t, path, 8, ContentMismatch, "head file")

	// A corrupt head is ignored with a warning; Open rewrites it.
	head := formatHead(headInfo{entries: 10, hash: rep.LastHash})
	head[len(headPrefix)+5] ^= 1
	os.WriteFile(path+headSuffix, head, 0o600)
	rep = mustVerify(t, path)
	if !rep.OK() || rep.HeadPresent || len(rep.Warnings) != 2 || !strings.Contains(rep.Warnings[0], "checksum") {
		t.Fatalf("corrupt head: %+v", rep)
	}
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if w := l.Opened().Warnings; len(w) != 2 {
		t.Errorf("Opened().Warnings = %v", w)
	}
	l.Close()
	if rep := mustVerify(t, path); !rep.OK() || !rep.HeadPresent {
		t.Fatalf("after Open rewrote the head: %+v", rep)
	}

	if _, err := parseHead(formatHead(headInfo{entries: 3})); err != nil {
		t.Errorf("parseHead(formatHead) = %v", err)
	}
	if got := len(formatHead(headInfo{entries: 1 << 40})); got != headLen {
		t.Errorf("head length %d, want %d", got, headLen)
	}
}

func TestVerifyOtherDamage(t *testing.T) {
	path, lines := fixture(t, 5)
	// A blank line inserted.
	rewrite(t, path, append(append(append([][]byte{}, lines[:2]...), []byte("\n")), lines[2:]...))
	expectBroken(t, path, 3, BadEntry, "empty line")
	// A duplicated line.
	rewrite(t, path, append(append([][]byte{}, lines[:3]...), lines[2:]...))
	expectBroken(t, path, 4, PreviousHashMismatch)
	// An over-long line.
	rewrite(t, path, [][]byte{bytes.Repeat([]byte("x"), maxLineLen+10), []byte("\n")})
	expectBroken(t, path, 1, BadEntry, "longer than")
	if _, err := Verify(path + ".missing"); err == nil {
		t.Error("Verify of a missing file returned no error")
	}
}
