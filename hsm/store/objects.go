package store

import (
	"encoding/binary"

	bolt "go.etcd.io/bbolt"
)

// PutObject stores (or replaces) the sealed record of object id in slot,
// durably.
func (s *Store) PutObject(slot uint, id uint64, sealed []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := sub(tx, slot, bucketObjects)
		if err != nil {
			return err
		}
		return b.Put(idKey(id), sealed)
	})
}

// DeleteObject removes object id's record and its nonce reservation.
func (s *Store) DeleteObject(slot uint, id uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketObjects, bucketGCM} {
			b, err := sub(tx, slot, name)
			if err != nil {
				return err
			}
			if err := b.Delete(idKey(id)); err != nil {
				return err
			}
		}
		return nil
	})
}

// ForEachObject calls fn with every sealed record of slot, in id order. The
// slice is only valid during the call.
func (s *Store) ForEachObject(slot uint, fn func(id uint64, sealed []byte) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		b, err := sub(tx, slot, bucketObjects)
		if err != nil || b == nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			if len(k) != 8 {
				return nil
			}
			return fn(binary.BigEndian.Uint64(k), v)
		})
	})
}

// ObjectIDs lists the ids of slot's records without decrypting anything, so
// that the engine can reserve the handles of objects it cannot read yet.
func (s *Store) ObjectIDs(slot uint) ([]uint64, error) {
	var ids []uint64
	err := s.ForEachObject(slot, func(id uint64, _ []byte) error {
		ids = append(ids, id)
		return nil
	})
	return ids, err
}
