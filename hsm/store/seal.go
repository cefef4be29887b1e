package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
)

// KeyKind says which token key sealed a record. It is the one byte of a
// record stored in clear: the engine needs it to know whether a record can
// be read before login.
type KeyKind byte

// The record key kinds.
const (
	SealedPublic  KeyKind = 1 // under the public-object key (PK)
	SealedPrivate KeyKind = 2 // under the object master key (OMK)
	// SealedMaterial is the material record of a key object whose main
	// record is SealedPublic: its secret attributes, under the OMK, kept
	// in slot<N>/material/<id>.
	SealedMaterial KeyKind = 3
)

const (
	recordMagic = "CRO1"
	nonceSize   = 12
)

// RecordError reports a record that does not decrypt: bit rot, tampering or
// a record moved to another handle or slot.
type RecordError struct {
	Slot uint
	ID   uint64
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("store: slot %d object %d (0x%x): record fails authentication", e.Slot, e.ID, e.ID)
}

// Seal encrypts an object record for slot and id under key (32 bytes).
// Layout: kind (1) ‖ nonce (12) ‖ AES-256-GCM ciphertext ‖ tag (16).
func Seal(key []byte, kind KeyKind, slot uint, id uint64, plain []byte) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(plain)+aead.Overhead())
	out[0] = byte(kind)
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return aead.Seal(out, out[1:], plain, recordAAD(kind, slot, id)), nil
}

// Kind returns the key kind of a sealed record (0 if malformed).
func Kind(sealed []byte) KeyKind {
	if len(sealed) == 0 {
		return 0
	}
	return KeyKind(sealed[0])
}

// Unseal decrypts a record sealed by Seal for the same slot and id. Any
// failure is a *RecordError.
func Unseal(key []byte, slot uint, id uint64, sealed []byte) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < 1+nonceSize+aead.Overhead() {
		return nil, &RecordError{Slot: slot, ID: id}
	}
	kind := KeyKind(sealed[0])
	plain, err := aead.Open(nil, sealed[1:1+nonceSize], sealed[1+nonceSize:], recordAAD(kind, slot, id))
	if err != nil {
		return nil, &RecordError{Slot: slot, ID: id}
	}
	return plain, nil
}

// recordAAD binds a record to where it is stored.
func recordAAD(kind KeyKind, slot uint, id uint64) []byte {
	aad := append([]byte(recordMagic), byte(kind))
	aad = binary.BigEndian.AppendUint32(aad, uint32(slot))
	return binary.BigEndian.AppendUint64(aad, id)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, errors.New("store: record key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
