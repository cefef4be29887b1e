package audit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/craton-co/craton/errs"
)

// MemoryCap is how many entries an in-memory log keeps (the newest), as in
// Craton.
const MemoryCap = 100_000

// Event is what the engine records for one PKCS#11 call or system event.
type Event struct {
	Session uint64    // session handle; 0 for system events (Initialize, POST, ...)
	Op      Operation // what was done
	KeyID   *string   // key_id; nil writes null (Craton's PKCS#11 layer always does)
	RV      uint      // CK_RV: 0 = success, anything else is written as a failure
}

// appendFile is the log file as Append uses it; a test can wrap it to
// observe or break writes and syncs.
type appendFile interface {
	Write(p []byte) (int, error)
	Sync() error
	Close() error
}

// Log is an append-only, hash-chained audit log, in a file (Open) or in
// memory (NewMemory). It is safe for concurrent use.
//
// Appends are chained in the order they take the lock, and written in that
// order with group commit: while one goroutine writes and syncs, others
// queue their lines, and the next of them writes the whole queue with one
// write and one sync. Each Append still returns only once its own line is
// durable; concurrent callers just share syncs.
type Log struct {
	mu   sync.Mutex
	cond *sync.Cond // on mu: a flush finished

	path   string     // "" for an in-memory log
	f      appendFile // nil for an in-memory log
	head   *os.File   // <path>.head, nil for an in-memory log
	unlock func()     // releases the file lock

	// Chain state after every accepted entry (queued or written).
	hash   Hash
	lastTS uint64
	n      int

	// File logs: lines accepted but not yet written, and progress.
	pending     []byte
	spare       []byte // the other buffer, reused
	queued      int    // entries accepted (== n)
	durable     int    // entries written and synced
	durableHash Hash   // chain value after them
	flushing    bool   // a goroutine is writing outside the lock
	err         error  // sticky: a failed write, sync or head update

	// In-memory log only: the newest MemoryCap encoded lines (Entries
	// decodes them).
	mem memRing

	// scratch is the buffer every line is encoded into (under mu): a file
	// log copies it into pending, an in-memory log into mem.
	scratch []byte

	opened Report // what Open found
	closed bool
	now    func() time.Time
}

// NewMemory returns an in-memory log (audit.enabled=false): the same chain
// and checks as a file log, nothing written anywhere. Entries returns what
// it holds.
func NewMemory() *Log {
	l := &Log{now: time.Now, mem: memRing{limit: MemoryCap}}
	l.cond = sync.NewCond(&l.mu)
	return l
}

// Open opens (creating it with mode 0600 if needed) the log file at path
// for appending and continues its chain.
//
// It refuses a path that is a symbolic link or not a regular file, and
// takes an exclusive lock on the file (flock on Unix) so that two processes
// cannot interleave entries; a second Open fails with errs.KindStoreLocked.
// An existing file is verified first (see Verify): if its chain is broken,
// Open returns an error of kind errs.KindVerifyFailed naming the first
// broken line (errors.As gives the *ChainError and its Report) and no Log;
// the engine decides whether to refuse to start or to move the file (and
// its .head) aside and Open again, which starts a new chain. An existing
// file's permissions are set to 0600.
func Open(path string) (*Log, error) {
	op := "audit log " + path
	fail := func(kind errs.Kind, msg, hint string, err error) error {
		if err != nil && !strings.Contains(msg, err.Error()) {
			msg += ": " + err.Error()
		}
		return &errs.Error{Kind: kind, Op: op, Msg: msg, Hint: hint, Err: err}
	}
	existed, err := checkTarget(path)
	if err != nil {
		return nil, fail(errs.KindInput, err.Error(), "set audit.log_path to a regular file, not a symbolic link", err)
	}
	f, err := openNoFollow(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE)
	if err != nil {
		return nil, fail(errs.KindInput, "cannot open the audit log for appending", "check audit.log_path, its directory and their permissions", err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
		}
	}()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, fail(errs.KindInput, "the audit log is not a regular file", "set audit.log_path to a regular file", err)
	}
	if err := f.Chmod(0o600); err != nil {
		return nil, fail(errs.KindInput, "cannot set the audit log's mode to 0600", "make the file owned by the user running the engine", err)
	}
	unlock, err := lockFile(f)
	if errors.Is(err, errLocked) {
		return nil, fail(errs.KindStoreLocked, "the audit log is locked by another process",
			"stop the other process using this audit.log_path, or give this one its own", err)
	} else if err != nil {
		return nil, fail(errs.KindInternal, "cannot lock the audit log", "check the file system supports locks", err)
	}
	defer func() {
		if !ok {
			unlock()
		}
	}()
	if !existed {
		if err := syncDir(filepath.Dir(path)); err != nil {
			return nil, fail(errs.KindInternal, "cannot make the new audit log's directory entry durable", "check the directory of audit.log_path", err)
		}
	}

	// Verify what is there, reading through a descriptor of the same file.
	rf, err := openNoFollow(path, os.O_RDONLY)
	if err != nil {
		return nil, fail(errs.KindInput, "cannot open the audit log for reading", "check the permissions of audit.log_path", err)
	}
	defer rf.Close()
	if a, err1 := f.Stat(); err1 == nil {
		if b, err2 := rf.Stat(); err2 != nil || !os.SameFile(a, b) {
			return nil, fail(errs.KindInput, "the audit log was replaced while it was being opened", "make sure nothing else manages audit.log_path", err2)
		}
	}
	rep, err := verifyReader(rf, readHead(path))
	rep.Path = path
	if err != nil {
		return nil, fail(errs.KindInternal, "cannot read the audit log", "check the disk", err)
	}
	if err := rep.Err(); err != nil {
		return nil, err
	}
	head, err := openNoFollow(path+headSuffix, os.O_RDWR|os.O_CREATE)
	if err != nil {
		return nil, fail(errs.KindInput, "cannot open the audit head file "+path+headSuffix, "remove it if it is a symbolic link or not a regular file", err)
	}
	l := &Log{path: path, f: osFile{f}, head: head, unlock: unlock,
		hash: rep.LastHash, lastTS: rep.LastTimestamp, n: rep.Verified, queued: rep.Verified,
		durable: rep.Verified, durableHash: rep.LastHash, opened: rep, now: time.Now}
	l.cond = sync.NewCond(&l.mu)
	if fi, err := head.Stat(); err != nil || !fi.Mode().IsRegular() {
		head.Close()
		return nil, fail(errs.KindInput, "the audit head file "+path+headSuffix+" is not a regular file", "remove it", err)
	}
	if err := l.writeHead(l.durable, l.durableHash); err != nil {
		head.Close()
		return nil, fail(errs.KindInternal, "cannot write the audit head file", "check the directory of audit.log_path and free space", err)
	}
	ok = true
	return l, nil
}

// checkTarget refuses a symbolic link or a non-regular file at path and
// reports whether the file exists.
func checkTarget(path string) (bool, error) {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, err
	case fi.Mode()&fs.ModeSymlink != 0:
		return true, errors.New("the audit log is a symbolic link (refused)")
	case !fi.Mode().IsRegular():
		return true, fmt.Errorf("the audit log is not a regular file (%s)", fi.Mode().Type())
	}
	return true, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Append records ev: it assigns a timestamp after the previous entry's,
// chains the entry, and — for a file log — returns only after the line is
// written and synced (fdatasync on Linux), so an event is durable when the
// PKCS#11 call that caused it returns. Any failure is returned.
//
// A failed write or sync fails this Append and every later one (the file
// may hold part of a line): Close and Open the log again — Open reports a
// damaged last line — to continue. If only the head file cannot be updated
// after a successful write, this Append succeeds (its entry is durable)
// but every later Append, and Close, return that error.
func (l *Log) Append(ev Event) error {
	if ev.Op.enc == nil { // else Encoded checked it
		if err := ev.Op.check(); err != nil {
			return &errs.Error{Kind: errs.KindInternal, Op: "audit append", Msg: err.Error(), Hint: "this is a bug in the caller", Err: err}
		}
	}
	var kid *keyID
	if ev.KeyID != nil {
		if !utf8.ValidString(*ev.KeyID) {
			return &errs.Error{Kind: errs.KindInternal, Op: "audit append", Msg: "key_id is not valid UTF-8", Hint: "hex-encode binary key IDs"}
		}
		k := keyID(*ev.KeyID)
		kid = &k
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return &errs.Error{Kind: errs.KindState, Op: "audit append", Msg: "the audit log is closed", Hint: "open it again"}
	}
	if l.err != nil {
		return l.failedErr()
	}
	ts := uint64(max(l.now().UnixNano(), 0))
	if ts <= l.lastTS {
		ts = l.lastTS + 1
	}
	rec := record{FormatVersion: FormatVersion, Timestamp: ts, SessionHandle: ev.Session, Operation: ev.Op, KeyID: kid, Result: resultOf(ev.RV)}
	full, n, err := encodeLine(l.scratch, rec, l.hash)
	if err != nil {
		return &errs.Error{Kind: errs.KindInternal, Op: "audit append", Msg: "cannot encode the entry: " + err.Error(), Hint: "this is a bug", Err: err}
	}
	l.scratch = full[:0]
	l.hash, l.lastTS = chainLine(l.hash, full[:n]), ts
	l.n++

	if l.f == nil {
		l.mem.add(full)
		l.durable, l.durableHash = l.n, l.hash
		return nil
	}

	l.pending = append(append(l.pending, full...), '\n')
	l.queued++
	seq := l.queued
	for {
		switch {
		case l.durable >= seq:
			return nil
		case l.err != nil:
			return l.failedErr()
		case !l.flushing:
			l.flush()
		default:
			l.cond.Wait()
		}
	}
}

// failedErr is the error for an Append after (or during) a failure.
func (l *Log) failedErr() error {
	return &errs.Error{Kind: errs.KindInternal, Op: "audit append " + l.path,
		Msg:  "the entry could not be recorded durably: " + l.err.Error(),
		Hint: "check free space and the disk, then close and reopen the audit log", Err: l.err}
}

// flush writes everything pending with one write and one sync, outside the
// lock, then updates the head file. Called with l.mu held and !l.flushing.
func (l *Log) flush() {
	l.flushing = true
	buf, upto, n, hash := l.pending, l.queued, l.n, l.hash
	l.pending = l.spare[:0]
	l.mu.Unlock()

	err := l.write(buf)
	var headErr error
	if err == nil {
		headErr = l.writeHead(n, hash)
	}

	l.mu.Lock()
	l.spare = buf[:0]
	l.flushing = false
	switch {
	case err != nil:
		l.err = err
	default:
		l.durable, l.durableHash = upto, hash
		if headErr != nil {
			l.err = headErr
		}
	}
	l.cond.Broadcast()
}

// write writes the lines with a single write call (O_APPEND), then syncs.
func (l *Log) write(b []byte) error {
	n, err := l.f.Write(b)
	if err == nil && n != len(b) {
		err = fmt.Errorf("short write: %d of %d bytes", n, len(b))
	}
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	return nil
}

// writeHead overwrites the head file with a count and chain value whose
// entries are durable.
func (l *Log) writeHead(n int, hash Hash) error {
	if _, err := l.head.WriteAt(formatHead(headInfo{entries: n, hash: hash}), 0); err != nil {
		return fmt.Errorf("the head file %s could not be updated (the entries before are written): %w", l.path+headSuffix, err)
	}
	return nil
}

// Close writes any lines still queued, closes the file and releases its
// lock. It returns the log's sticky failure, if any, so that a failure is
// never lost. It is safe to call twice; Append after Close fails.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	for l.flushing {
		l.cond.Wait()
	}
	if l.f != nil && l.err == nil && l.durable < l.queued {
		l.flush() // waiters whose turn had not come yet
	}
	l.closed = true
	if l.f == nil {
		return nil
	}
	errClose := errors.Join(l.f.Close(), l.head.Close())
	l.unlock()
	if err := errors.Join(l.err, errClose); err != nil {
		return &errs.Error{Kind: errs.KindInternal, Op: "audit close " + l.path, Msg: "the audit log failed: " + err.Error(),
			Hint: "check the disk; reopen the log to see what it holds", Err: err}
	}
	return nil
}

// Path is the file path, "" for an in-memory log.
func (l *Log) Path() string { return l.path }

// Count is the number of durable entries in the chain, including those
// the file held when it was opened.
func (l *Log) Count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.durable
}

// LastHash is the chain value after the last durable entry.
func (l *Log) LastHash() Hash {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.durableHash
}

// Entries returns a copy of the entries an in-memory log holds (the newest
// MemoryCap); nil for a file log — use Read on its path.
func (l *Log) Entries() []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		return nil
	}
	out := make([]Entry, 0, l.mem.len())
	l.mem.each(func(raw []byte) {
		p, err := decode(raw)
		if err != nil {
			panic("audit: an in-memory entry does not decode: " + err.Error()) // encode and decode disagree: a bug
		}
		out = append(out, entryOf(0, p.rec))
	})
	return out
}

// Opened is what Open found in the existing file: its entry count and any
// warnings (for example a missing or corrupt head file, which Open has
// rewritten). Zero for an in-memory log.
func (l *Log) Opened() Report { return l.opened }
