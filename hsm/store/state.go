package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// PINRecord is what the store keeps of one PIN: never the PIN, only the salt
// and iteration count of its KEK, the KEK's verifier, and the OMK wrapped
// under the KEK.
type PINRecord struct {
	Salt       []byte `json:"salt"`
	Iterations int    `json:"iterations"`
	Verifier   []byte `json:"verifier"`
	WrappedOMK []byte `json:"wrapped_omk"`
	Failed     int    `json:"failed"` // consecutive failed attempts
	Locked     bool   `json:"locked"`
}

// Set reports whether a PIN has been set.
func (p *PINRecord) Set() bool { return p != nil && len(p.Verifier) > 0 }

// TokenState is the persistent state of one slot's token. Nothing in it is
// secret except PublicKey (see the package documentation).
type TokenState struct {
	Initialized bool       `json:"initialized"`
	Label       string     `json:"label"`
	SO          PINRecord  `json:"so"`
	User        *PINRecord `json:"user,omitempty"`
	// PublicKey seals public objects; see the threat model in doc.go.
	PublicKey []byte `json:"public_key,omitempty"`
	// Generation counts C_InitToken runs; it changes the record AAD space
	// only through new handles, and helps diagnostics.
	Generation uint64 `json:"generation"`
	// SplitMaterial says that every key object of this token sealed under
	// PublicKey keeps its secret attributes in a material record under the
	// OMK (see doc.go). Set by C_InitToken since format 2 and by the
	// migration at the first login on an older token; once set, a public
	// record that holds key material is refused.
	SplitMaterial bool `json:"split_material,omitempty"`
}

func marshalState(st *TokenState) ([]byte, error) { return json.Marshal(st) }

// keyStateSum holds the SHA-256 of the token state record. The state is
// not sealed (it is read before any login), so without the checksum a
// damaged PIN verifier, salt or iteration count read as a wrong PIN
// (CKR_PIN_INCORRECT, counting towards the lockout) and a damaged flag as
// an uninitialised token (found by hsm.TestStoreBitFlips). Stores written
// before it have no checksum and load as before; the next save adds it.
var keyStateSum = []byte("state.sha256")

// putState writes the token state record and its checksum.
func putState(b *bolt.Bucket, v []byte) error {
	sum := sha256.Sum256(v)
	if err := b.Put(keyState, v); err != nil {
		return err
	}
	return b.Put(keyStateSum, sum[:])
}

// LoadToken returns slot's token state, or nil when none was ever saved.
func (s *Store) LoadToken(slot uint) (*TokenState, error) {
	var st *TokenState
	err := s.view(func(tx *bolt.Tx) error {
		b, err := slotBucket(tx, slot)
		if err != nil || b == nil {
			return err
		}
		v, sum := b.Get(keyState), b.Get(keyStateSum)
		if v == nil && sum == nil {
			return nil
		}
		if want := sha256.Sum256(v); v == nil || sum != nil && !bytes.Equal(sum, want[:]) {
			return fmt.Errorf("store: token state of slot %d is damaged (checksum mismatch)", slot)
		}
		st = new(TokenState)
		if err := json.Unmarshal(v, st); err != nil {
			return fmt.Errorf("store: token state of slot %d is corrupt: %w", slot, err)
		}
		return nil
	})
	return st, err
}

// SaveToken writes slot's token state durably.
func (s *Store) SaveToken(slot uint, st *TokenState) error {
	v, err := marshalState(st)
	if err != nil {
		return err
	}
	return s.update(func(tx *bolt.Tx) error {
		b, err := slotBucket(tx, slot)
		if err != nil {
			return err
		}
		return putState(b, v)
	})
}

// ResetSlot atomically deletes every object and nonce reservation of slot
// and writes its new token state (C_InitToken). Other slots are untouched.
func (s *Store) ResetSlot(slot uint, st *TokenState) error {
	v, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return s.update(func(tx *bolt.Tx) error {
		name := slotBucketName(slot)
		if tx.Bucket(name) != nil {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		b, err := slotBucket(tx, slot)
		if err != nil {
			return err
		}
		return putState(b, v)
	})
}
