package store

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
)

// KeySize is the size of every token key (OMK, PK, KEKs) and salt.
const KeySize = 32

// ErrWrongKey means a wrapped key did not open under the given KEK.
var ErrWrongKey = errors.New("store: wrapped key fails authentication")

const verifierLabel = "craton-hsm pin verifier v1"

// RandomKey returns KeySize random bytes (keys and salts).
func RandomKey() ([]byte, error) {
	k := make([]byte, KeySize)
	_, err := rand.Read(k)
	return k, err
}

// DeriveKEK derives a PIN's key-encryption key:
// PBKDF2-HMAC-SHA256(pin, salt, iterations, 32).
func DeriveKEK(pin string, salt []byte, iterations int) ([]byte, error) {
	if iterations < 1 {
		iterations = 1
	}
	return pbkdf2.Key(sha256.New, pin, salt, iterations, KeySize)
}

// Verifier is the stored PIN check value of a KEK. Storing it instead of a
// second PBKDF2 hash means one derivation per login.
func Verifier(kek []byte) []byte {
	m := hmac.New(sha256.New, kek)
	m.Write([]byte(verifierLabel))
	return m.Sum(nil)
}

// CheckVerifier compares in constant time.
func CheckVerifier(kek, stored []byte) bool {
	return subtle.ConstantTimeCompare(Verifier(kek), stored) == 1
}

// WrapKey encrypts a token key under kek; purpose is bound as additional
// data so a user-wrapped OMK cannot be presented as something else.
func WrapKey(kek, key []byte, purpose string) ([]byte, error) {
	aead, err := newGCM(kek)
	if err != nil {
		return nil, err
	}
	out := make([]byte, nonceSize, nonceSize+len(key)+aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, err
	}
	return aead.Seal(out, out, key, []byte(purpose)), nil
}

// UnwrapKey opens a key wrapped by WrapKey; ErrWrongKey if kek is wrong.
func UnwrapKey(kek, wrapped []byte, purpose string) ([]byte, error) {
	aead, err := newGCM(kek)
	if err != nil {
		return nil, err
	}
	if len(wrapped) < nonceSize+aead.Overhead() {
		return nil, ErrWrongKey
	}
	key, err := aead.Open(nil, wrapped[:nonceSize], wrapped[nonceSize:], []byte(purpose))
	if err != nil {
		return nil, ErrWrongKey
	}
	return key, nil
}
