package wrapmove

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

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
func (j *Journal) Save() error {
	if j.path == "" {
		return nil
	}
	j.UpdatedAt = time.Now().UTC()
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(j.path, append(data, '\n'), 0o600); err != nil {
		return &errs.Error{Kind: errs.KindInternal, Op: "write journal " + j.path, Err: err,
			Hint: "check that the journal's directory is writable"}
	}
	return nil
}
