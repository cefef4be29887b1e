package audit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/craton-co/craton/errs"
)

// sampleEvent returns a varied event for entry i.
func sampleEvent(i int) Event {
	kid := "key-" + string(rune('a'+i%26))
	switch i % 7 {
	case 0:
		return Event{Session: uint64(i), Op: Sign(0x1044, true)}
	case 1:
		return Event{Session: uint64(i), Op: Login(1), RV: 0xA0}
	case 2:
		return Event{Op: SelfTest(uint(i%17), "SHA-256 KAT", true)}
	case 3:
		return Event{Session: uint64(i), Op: GenerateKey(0x1080, 32, true), KeyID: &kid}
	case 4:
		return Event{Session: uint64(i), Op: Decrypt(0x1087, true), RV: 0x40}
	case 5:
		return Event{Op: Initialize()}
	default:
		return Event{Session: uint64(i), Op: FindObjects(uint(i))}
	}
}

func openTemp(t testing.TB) (*Log, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, path
}

func appendN(t testing.TB, l *Log, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		if err := l.Append(sampleEvent(i)); err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
	}
}

func mustVerify(t *testing.T, path string) Report {
	t.Helper()
	rep, err := Verify(path)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestVerifyThousand(t *testing.T) {
	l, path := openTemp(t)
	appendN(t, l, 0, 1000)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	rep := mustVerify(t, path)
	if !rep.OK() || rep.Entries != 1000 || rep.Verified != 1000 || !rep.HeadPresent || len(rep.Warnings) != 0 {
		t.Fatalf("report %+v", rep)
	}
	if rep.LastHash != l.LastHash() {
		t.Errorf("Verify's last hash %x differs from the log's %x", rep.LastHash, l.LastHash())
	}
	entries, err := Read(path, Filter{})
	if err != nil || len(entries) != 1000 {
		t.Fatalf("Read: %d entries, %v", len(entries), err)
	}
	for i := 1; i < len(entries); i++ {
		if !entries[i].Time.After(entries[i-1].Time) || entries[i].Line != i+1 {
			t.Fatalf("entry %d: line %d time %v after %v", i, entries[i].Line, entries[i].Time, entries[i-1].Time)
		}
	}
}

func TestFileModeAndRefusals(t *testing.T) {
	l, path := openTemp(t)
	appendN(t, l, 0, 1)
	for _, p := range []string{path, path + headSuffix} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600", p, fi.Mode().Perm(), err)
		}
	}

	dir := t.TempDir()
	link := filepath.Join(dir, "link.jsonl")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(link); err == nil || errs.KindOf(err) != errs.KindInput {
		t.Errorf("Open(symlink) = %v, want an input error", err)
	}
	danglingLink := filepath.Join(dir, "dangling.jsonl")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), danglingLink); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(danglingLink); err == nil {
		t.Error("Open(dangling symlink) succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "nowhere")); err == nil {
		t.Error("Open created the symlink's target")
	}
	if _, err := Open(dir); err == nil {
		t.Error("Open(directory) succeeded")
	}

	// An existing file with a wider mode is narrowed to 0600.
	wide := filepath.Join(dir, "wide.jsonl")
	if err := os.WriteFile(wide, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l2, err := Open(wide)
	if err != nil {
		t.Fatal(err)
	}
	l2.Close()
	if fi, _ := os.Stat(wide); fi.Mode().Perm() != 0o600 {
		t.Errorf("existing file mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	l, path := openTemp(t)
	if _, err := Open(path); errs.KindOf(err) != errs.KindStoreLocked {
		t.Fatalf("second Open = %v, want KindStoreLocked", err)
	}
	l.Close()
	l2, err := Open(path)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	l2.Close()
}

func TestReopenContinuesChain(t *testing.T) {
	l, path := openTemp(t)
	appendN(t, l, 0, 10)
	h10 := l.LastHash()
	l.Close()

	l2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if got := l2.Opened(); got.Entries != 10 || !got.OK() || l2.Count() != 10 || l2.LastHash() != h10 {
		t.Fatalf("reopened: %+v, count %d", got, l2.Count())
	}
	// A clock that went backwards still gives increasing timestamps.
	l2.now = func() time.Time { return time.Unix(0, 1) }
	appendN(t, l2, 10, 10)
	rep := mustVerify(t, path)
	if !rep.OK() || rep.Entries != 20 {
		t.Fatalf("after reopen: %+v", rep)
	}
	entries, err := Read(path, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	line11 := bytes.Split(data, []byte{'\n'})[10]
	p, err := decode(line11)
	if err != nil || p.prev != h10 {
		t.Fatalf("line 11 previous_hash %x, want %x (%v)", p.prev, h10, err)
	}
	if !entries[10].Time.After(entries[9].Time) {
		t.Errorf("timestamps not increasing across the reopen")
	}
}

func TestOpenRefusesBrokenChain(t *testing.T) {
	l, path := openTemp(t)
	appendN(t, l, 0, 5)
	l.Close()
	data, _ := os.ReadFile(path)
	lines := bytes.SplitAfter(data, []byte{'\n'})
	lines[2], lines[3] = lines[3], lines[2]
	if err := os.WriteFile(path, bytes.Join(lines, nil), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path)
	if errs.KindOf(err) != errs.KindVerifyFailed {
		t.Fatalf("Open(broken) = %v, want KindVerifyFailed", err)
	}
	var ce *ChainError
	if !errors.As(err, &ce) || ce.Report.BrokenLine != 3 {
		t.Fatalf("Open(broken) = %v; want a *ChainError at line 3", err)
	}
	// The lock was released: the file can be moved aside and a new chain begun.
	if err := os.Rename(path, path+".broken"); err != nil {
		t.Fatal(err)
	}
	os.Remove(path + headSuffix)
	l2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	l2.Close()

	// A torn last line (a crash mid-write) is reported too.
	l3, path3 := openTemp(t)
	appendN(t, l3, 0, 3)
	l3.Close()
	f, _ := os.OpenFile(path3, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"format_version":0,"timest`)
	f.Close()
	_, err = Open(path3)
	if !errors.As(err, &ce) || ce.Report.Problem != TruncatedLine || ce.Report.BrokenLine != 4 {
		t.Fatalf("Open(torn) = %v", err)
	}
}

// spyFile records what Append does to the file and can fail or slow down
// on demand.
type spyFile struct {
	appendFile
	mu        sync.Mutex
	calls     []string
	written   []byte // everything written
	synced    []byte // everything written before the last successful sync
	failWrite error
	failSync  error
	short     bool
	syncDelay time.Duration
}

func (s *spyFile) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "write")
	if s.failWrite != nil {
		return 0, s.failWrite
	}
	if s.short {
		p = p[:len(p)/2]
	}
	n, err := s.appendFile.Write(p)
	s.written = append(s.written, p[:n]...)
	return n, err
}

func (s *spyFile) Sync() error {
	time.Sleep(s.syncDelay)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "sync")
	if s.failSync != nil {
		return s.failSync
	}
	if err := s.appendFile.Sync(); err != nil {
		return err
	}
	s.synced = bytes.Clone(s.written)
	return nil
}

func (s *spyFile) syncedContains(sub string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Contains(s.synced, []byte(sub))
}

// TestAppendIsDurable checks every Append writes then syncs before it
// returns, and that the file is complete and verifies while still open.
func TestAppendIsDurable(t *testing.T) {
	l, path := openTemp(t)
	spy := &spyFile{appendFile: l.f}
	l.f = spy
	for i := range 5 {
		if err := l.Append(sampleEvent(i)); err != nil {
			t.Fatal(err)
		}
		spy.mu.Lock()
		calls := append([]string(nil), spy.calls...)
		spy.mu.Unlock()
		if len(calls) != 2*(i+1) || calls[2*i] != "write" || calls[2*i+1] != "sync" {
			t.Fatalf("after Append %d the file saw %v; want write, sync per Append", i, calls)
		}
		// Not closed: another reader sees the complete, verifiable file.
		rep := mustVerify(t, path)
		if !rep.OK() || rep.Entries != i+1 || !rep.HeadPresent {
			t.Fatalf("after Append %d, without Close: %+v", i, rep)
		}
	}
}

func TestAppendFailuresAreReturned(t *testing.T) {
	for name, spy := range map[string]*spyFile{
		"write": {failWrite: syscall.ENOSPC},
		"sync":  {failSync: syscall.EIO},
		"short": {short: true},
	} {
		t.Run(name, func(t *testing.T) {
			l, _ := openTemp(t)
			appendN(t, l, 0, 2)
			spy.appendFile = l.f
			l.f = spy
			err := l.Append(sampleEvent(2))
			if err == nil {
				t.Fatal("Append succeeded")
			}
			if spy.failWrite != nil && !errors.Is(err, syscall.ENOSPC) || spy.failSync != nil && !errors.Is(err, syscall.EIO) {
				t.Errorf("error %v does not wrap the cause", err)
			}
			if l.Count() != 2 {
				t.Errorf("count %d after a failed Append, want 2", l.Count())
			}
			// Sticky: the file may hold part of a line.
			spy.failWrite, spy.failSync, spy.short = nil, nil, false
			if err := l.Append(sampleEvent(3)); err == nil {
				t.Error("Append after a failure succeeded")
			}
		})
	}
}

// TestGroupCommit has 32 goroutines append while each sync takes 20 ms:
// they must share syncs, and each Append must still return only after a
// sync that covered its own line.
func TestGroupCommit(t *testing.T) {
	l, path := openTemp(t)
	spy := &spyFile{appendFile: l.f, syncDelay: 20 * time.Millisecond}
	l.f = spy
	const workers = 32
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			session := uint64(1000 + w)
			if err := l.Append(Event{Session: session, Op: CloseSession()}); err != nil {
				errc <- err
				return
			}
			if !spy.syncedContains(fmt.Sprintf(`"session_handle":%d,`, session)) {
				errc <- fmt.Errorf("Append for session %d returned before its line was synced", session)
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	syncs := 0
	for _, c := range spy.calls {
		if c == "sync" {
			syncs++
		}
	}
	if syncs >= workers {
		t.Errorf("%d syncs for %d concurrent appends: no group commit", syncs, workers)
	}
	t.Logf("%d appends, %d syncs", workers, syncs)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if rep := mustVerify(t, path); !rep.OK() || rep.Entries != workers {
		t.Fatalf("report %+v", rep)
	}
}

// TestHeadFailure: the entry is durable, so its Append succeeds; the
// failure is returned by the next Append and by Close.
func TestHeadFailure(t *testing.T) {
	l, path := openTemp(t)
	appendN(t, l, 0, 2)
	l.head.Close() // WriteAt now fails
	if err := l.Append(sampleEvent(2)); err != nil {
		t.Fatalf("Append with a failing head: %v (its entry is durable)", err)
	}
	if err := l.Append(sampleEvent(3)); err == nil || !strings.Contains(err.Error(), "head file") {
		t.Errorf("next Append = %v, want the head failure", err)
	}
	if err := l.Close(); err == nil || !strings.Contains(err.Error(), "head file") {
		t.Errorf("Close = %v, want the head failure", err)
	}
	rep := mustVerify(t, path)
	if !rep.OK() || rep.Entries != 3 {
		t.Fatalf("report %+v", rep)
	}
}

func TestAppendRejectsBadEvents(t *testing.T) {
	l := NewMemory()
	if err := l.Append(Event{}); err == nil {
		t.Error("zero Operation accepted")
	}
	bad := "\xff"
	if err := l.Append(Event{Op: Logout(), KeyID: &bad}); err == nil {
		t.Error("invalid UTF-8 key_id accepted")
	}
	if err := l.Append(Event{Op: Operation{name: "Sign"}}); err == nil {
		t.Error("Sign without arguments accepted")
	}
	l.Close()
	if err := l.Append(Event{Op: Logout()}); err == nil {
		t.Error("Append after Close succeeded")
	}
}

func TestConcurrentAppend(t *testing.T) {
	l, path := openTemp(t)
	const workers, each = 32, 25
	var wg sync.WaitGroup
	errc := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if err := l.Append(sampleEvent(w*each + i)); err != nil {
					errc <- err
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	rep := mustVerify(t, path)
	if !rep.OK() || rep.Entries != workers*each {
		t.Fatalf("report %+v", rep)
	}
}

func TestMemoryLog(t *testing.T) {
	l := NewMemory()
	l.mem.limit = 3
	for i := range 5 {
		if err := l.Append(sampleEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	got := l.Entries()
	if len(got) != 3 || l.Count() != 5 || l.Path() != "" {
		t.Fatalf("%d entries, count %d", len(got), l.Count())
	}
	for i, e := range got {
		if want := sampleEvent(i + 2).Op.Name(); e.Op != want || e.Line != 0 {
			t.Errorf("entry %d: %s line %d, want %s (the newest three, oldest first)", i, e.Op, e.Line, want)
		}
	}
	if l.LastHash() == (Hash{}) {
		t.Error("memory log does not chain")
	}
}

func TestReadFilter(t *testing.T) {
	l, path := openTemp(t)
	base := time.Unix(1_700_000_000, 0)
	tick := 0
	l.now = func() time.Time { tick++; return base.Add(time.Duration(tick) * time.Second) }
	appendN(t, l, 0, 14) // two of each sampleEvent kind
	l.Close()

	all, err := Read(path, Filter{})
	if err != nil || len(all) != 14 {
		t.Fatalf("Read: %d, %v", len(all), err)
	}
	sign := all[0]
	if sign.Op != "Sign" || sign.Mechanism == nil || *sign.Mechanism != 0x1044 || sign.MechanismName != "CKM_ECDSA_SHA256" ||
		sign.FIPS == nil || !*sign.FIPS || sign.Result != "Success" || sign.Session != 0 || !sign.Time.Equal(base.Add(time.Second)) {
		t.Errorf("Sign entry %+v", sign)
	}
	login := all[1]
	if login.Result != "CKR_PIN_INCORRECT" || login.RV != 0xA0 || login.Mechanism != nil || login.FIPS != nil || !login.Failed() {
		t.Errorf("Login entry %+v", login)
	}
	if k := all[3].KeyID; k == nil || *k != "key-d" {
		t.Errorf("key_id %v", k)
	}

	count := func(f Filter) int {
		t.Helper()
		got, err := Read(path, f)
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	if n := count(Filter{Ops: []string{"sign", "LOGIN"}}); n != 4 {
		t.Errorf("Ops sign,login: %d, want 4", n)
	}
	if n := count(Filter{FailuresOnly: true}); n != 4 {
		t.Errorf("FailuresOnly: %d, want 4", n)
	}
	if n := count(Filter{Since: base.Add(3 * time.Second), Until: base.Add(6 * time.Second)}); n != 3 {
		t.Errorf("Since 3s Until 6s: %d, want 3 (entries at 3, 4, 5 s)", n)
	}
	if _, err := Read(path, Filter{Ops: []string{"Sgin"}}); errs.KindOf(err) != errs.KindUsage {
		t.Errorf("unknown op: %v, want a usage error", err)
	}

	// A damaged line is an error naming it.
	data, _ := os.ReadFile(path)
	os.WriteFile(path, bytes.Replace(data, []byte(`"Initialize"`), []byte(`"Initialise"`), 1), 0o600)
	if _, err := Read(path, Filter{}); err == nil || !bytes.Contains([]byte(err.Error()), []byte("line 6:")) {
		t.Errorf("damaged line: %v", err)
	}
}

func BenchmarkAppend(b *testing.B) {
	l, _ := openTemp(b)
	ev := Event{Session: 42, Op: Sign(0x1044, true)}
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Append(ev); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendParallel(b *testing.B) {
	l, _ := openTemp(b)
	ev := Event{Session: 42, Op: Sign(0x1044, true)}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Append(ev); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkAppendMemory(b *testing.B) {
	l := NewMemory()
	ev := Event{Session: 42, Op: Sign(0x1044, true)}
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Append(ev); err != nil {
			b.Fatal(err)
		}
	}
}
