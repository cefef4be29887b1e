package wrapmove

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/craton-co/craton/errs"
)

// JournalVersion is the journal format version.
const JournalVersion = 1

// Journal states of one object.
const (
	StatePending   = "pending"   // not yet on the target (as far as this run knows)
	StateUnwrapped = "unwrapped" // created on the target, not yet proven
	StateProven    = "proven"    // on the target and proven equal
	StateFailed    = "failed"    // attempted and failed; Reason says why
)

// Journal records a move's progress so that a re-run resumes, and what
// verify needs afterwards. Handles are never recorded: objects are found
// again by class, CKA_ID and label, and re-proven on the target.
type Journal struct {
	Version   int                      `json:"version"`
	Source    Endpoint                 `json:"source"`
	Target    Endpoint                 `json:"target"`
	StartedAt time.Time                `json:"started_at"`
	UpdatedAt time.Time                `json:"updated_at"`
	Transport string                   `json:"transport,omitempty"`
	PINHashes []PINHash                `json:"pin_hashes,omitempty"`
	Objects   map[string]*JournalEntry `json:"objects"`

	path string
	keys []string // Objects' keys, sorted: kept between saves
}

// JournalEntry is one object's state.
type JournalEntry struct {
	Identity string `json:"identity"`
	Label    string `json:"label"`
	ID       string `json:"id"`
	Class    string `json:"class"`
	State    string `json:"state"`
	// Preexisting: the target already held an object with this identity
	// before craton first touched it. craton never destroys such objects.
	Preexisting bool      `json:"preexisting,omitempty"`
	Proof       string    `json:"proof,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// PINHash is a salted, slow hash of a PIN used during the move. verify
// compares the current PINs against it to report whether they were rotated
// away from the migration values; the PIN itself is never stored.
type PINHash struct {
	Role       string    `json:"role"` // source-user, target-user
	Algorithm  string    `json:"algorithm"`
	Iterations int       `json:"iterations"`
	Salt       []byte    `json:"salt"`
	Hash       []byte    `json:"hash"`
	RecordedAt time.Time `json:"recorded_at"`
}

// PIN hashing parameters: PBKDF2-HMAC-SHA256 at OWASP's 2023 iteration count.
const (
	pinHashAlgorithm  = "PBKDF2-HMAC-SHA256"
	pinHashIterations = 600_000
)

// HashPIN returns a new salted hash of pin for role.
func HashPIN(role, pin string) (PINHash, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return PINHash{}, err
	}
	h, err := pbkdf2.Key(sha256.New, pin, salt, pinHashIterations, 32)
	if err != nil {
		return PINHash{}, err
	}
	return PINHash{Role: role, Algorithm: pinHashAlgorithm, Iterations: pinHashIterations, Salt: salt, Hash: h,
		RecordedAt: time.Now().UTC()}, nil
}

// Matches reports whether pin is the PIN that was hashed.
func (p PINHash) Matches(pin string) bool {
	if p.Algorithm != pinHashAlgorithm || p.Iterations <= 0 {
		return false
	}
	h, err := pbkdf2.Key(sha256.New, pin, p.Salt, p.Iterations, len(p.Hash))
	return err == nil && subtle.ConstantTimeCompare(h, p.Hash) == 1
}

// LoadJournal reads the journal at path; a missing file gives (nil, nil).
func LoadJournal(path string) (*Journal, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &errs.Error{Kind: errs.KindInput, Op: "read journal " + path, Err: err}
	}
	var j Journal
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, &errs.Error{Kind: errs.KindInput, Op: "read journal " + path, Msg: "malformed journal: " + err.Error(),
			Hint: "move the file away to start a fresh journal; objects already on the target are found and re-proven"}
	}
	if j.Version != JournalVersion {
		return nil, &errs.Error{Kind: errs.KindInput, Op: "read journal " + path,
			Msg: fmt.Sprintf("unsupported journal version %d", j.Version)}
	}
	if j.Objects == nil {
		j.Objects = map[string]*JournalEntry{}
	}
	j.path = path
	return &j, nil
}

// newJournal starts a journal for moving src to dst.
func newJournal(path string, src, dst Endpoint) *Journal {
	now := time.Now().UTC()
	return &Journal{Version: JournalVersion, Source: src, Target: dst, StartedAt: now, UpdatedAt: now,
		Objects: map[string]*JournalEntry{}, path: path}
}

// matches reports whether the journal belongs to this source and target
// (labels and, when both are known, serials).
func (j *Journal) matches(src, dst Endpoint) bool {
	same := func(a, b Endpoint) bool {
		return a.Token == b.Token && (a.Serial == "" || b.Serial == "" || a.Serial == b.Serial)
	}
	return same(j.Source, src) && same(j.Target, dst)
}

// entry returns the entry for an action, creating a pending one.
func (j *Journal) entry(a Action) (*JournalEntry, bool) {
	if e, ok := j.Objects[a.Identity]; ok {
		return e, false
	}
	e := &JournalEntry{Identity: a.Identity, Label: a.Label, ID: a.ID, Class: a.Class, State: StatePending,
		UpdatedAt: time.Now().UTC()}
	j.Objects[a.Identity] = e
	return e, true
}

func (e *JournalEntry) set(state, proof, reason string) {
	e.State, e.Proof, e.Reason, e.UpdatedAt = state, proof, reason, time.Now().UTC()
}

// recordPIN adds a hash of pin for role unless an existing hash matches it.
func (j *Journal) recordPIN(role, pin string) error {
	for _, h := range j.PINHashes {
		if h.Role == role && h.Matches(pin) {
			return nil
		}
	}
	h, err := HashPIN(role, pin)
	if err != nil {
		return err
	}
	j.PINHashes = append(j.PINHashes, h)
	return nil
}

// Save writes the journal atomically (0600: it names keys, not secrets,
// but belongs to the operator).
//
// The file is the JSON document encoding/json would write (keys of objects
// sorted), one object entry per line. It is streamed entry by entry, so a
// save allocates per entry, never a copy of the whole journal.
func (j *Journal) Save() error {
	if j.path == "" {
		return nil
	}
	j.UpdatedAt = time.Now().UTC()
	if err := writeFileAtomicFunc(j.path, 0o600, j.encode); err != nil {
		return &errs.Error{Kind: errs.KindInternal, Op: "write journal " + j.path, Err: err,
			Hint: "check that the journal's directory is writable"}
	}
	return nil
}

// journalFields is Journal without its methods, for journalHead.
type journalFields Journal

// journalHead encodes as Journal without its objects, in the same field
// order: the nil Objects shadows the embedded one and is omitted.
type journalHead struct {
	*journalFields
	Objects *struct{} `json:"objects,omitempty"`
}

func (j *Journal) encode(w io.Writer) error {
	head, err := json.MarshalIndent(journalHead{journalFields: (*journalFields)(j)}, "", "  ")
	if err != nil {
		return err
	}
	// head ends in "\n}": continue the object with the objects member.
	if _, err := w.Write(head[:len(head)-2]); err != nil {
		return err
	}
	io.WriteString(w, ",\n  \"objects\": {")
	var buf []byte
	for i, k := range j.sortedKeys() {
		kb := appendJSONString(nil, k)
		buf, err = appendEntry(buf[:0], j.Objects[k])
		if err != nil {
			return err
		}
		if i > 0 {
			io.WriteString(w, ",")
		}
		io.WriteString(w, "\n    ")
		w.Write(kb)
		io.WriteString(w, ": ")
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	if len(j.Objects) > 0 {
		io.WriteString(w, "\n  ")
	}
	_, err = io.WriteString(w, "}\n}\n")
	return err
}

// sortedKeys returns Objects' keys in order, sorting only when the set of
// keys changed since the last call.
func (j *Journal) sortedKeys() []string {
	if len(j.keys) == len(j.Objects) {
		same := true
		for _, k := range j.keys {
			if _, ok := j.Objects[k]; !ok {
				same = false
				break
			}
		}
		if same {
			return j.keys
		}
	}
	j.keys = j.keys[:0]
	for k := range j.Objects {
		j.keys = append(j.keys, k)
	}
	sort.Strings(j.keys)
	return j.keys
}

// appendEntry appends e as json.Marshal encodes it, without reflection
// (TestJournalEntryEncoding checks the bytes against encoding/json).
func appendEntry(b []byte, e *JournalEntry) ([]byte, error) {
	if e == nil {
		return append(b, "null"...), nil
	}
	b = append(b, `{"identity":`...)
	b = appendJSONString(b, e.Identity)
	b = append(b, `,"label":`...)
	b = appendJSONString(b, e.Label)
	b = append(b, `,"id":`...)
	b = appendJSONString(b, e.ID)
	b = append(b, `,"class":`...)
	b = appendJSONString(b, e.Class)
	b = append(b, `,"state":`...)
	b = appendJSONString(b, e.State)
	if e.Preexisting {
		b = append(b, `,"preexisting":true`...)
	}
	if e.Proof != "" {
		b = append(b, `,"proof":`...)
		b = appendJSONString(b, e.Proof)
	}
	if e.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendJSONString(b, e.Reason)
	}
	b = append(b, `,"updated_at":`...)
	t, err := e.UpdatedAt.MarshalJSON()
	if err != nil {
		return b, err
	}
	b = append(b, t...)
	return append(b, '}'), nil
}

// appendJSONString appends s as a JSON string exactly as encoding/json
// does (HTML-safe; invalid UTF-8 becomes U+FFFD; U+2028 and U+2029 escaped).
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
