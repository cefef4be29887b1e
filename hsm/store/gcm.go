package store

import (
	"crypto/rand"
	"encoding/binary"
	"errors"

	bolt "go.etcd.io/bbolt"
)

// NonceBlock is a range of AES-GCM nonce counters reserved durably for one
// key: the engine may use counters [Next, End) with Prefix, in memory, and
// must reserve again before End. A restart resumes at End, so a nonce is
// never used twice even after a crash.
type NonceBlock struct {
	Prefix []byte // 4 bytes, random per key
	Next   uint64
	End    uint64
}

// ErrNoncesExhausted means a key has used its whole counter space.
var ErrNoncesExhausted = errors.New("store: AES-GCM nonce counter exhausted for this key; re-key required")

// ReserveNonces reserves the next n counters of key id in slot.
func (s *Store) ReserveNonces(slot uint, id uint64, n uint64) (NonceBlock, error) {
	var nb NonceBlock
	err := s.update(func(tx *bolt.Tx) error {
		b, err := sub(tx, slot, bucketGCM)
		if err != nil {
			return err
		}
		cur := b.Get(idKey(id))
		if len(cur) == 12 {
			nb.Prefix = append([]byte(nil), cur[:4]...)
			nb.Next = binary.BigEndian.Uint64(cur[4:])
		} else {
			nb.Prefix = make([]byte, 4)
			if _, err := rand.Read(nb.Prefix); err != nil {
				return err
			}
		}
		if nb.Next > ^uint64(0)-n {
			return ErrNoncesExhausted
		}
		nb.End = nb.Next + n
		v := binary.BigEndian.AppendUint64(append([]byte(nil), nb.Prefix...), nb.End)
		return b.Put(idKey(id), v)
	})
	return nb, err
}
