package store

import (
	"encoding/binary"

	bolt "go.etcd.io/bbolt"
)

// PutObject stores (or replaces) the sealed record of object id in slot,
// durably. It does not touch a material record; PutObjects does.
func (s *Store) PutObject(slot uint, id uint64, sealed []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := sub(tx, slot, bucketObjects)
		if err != nil {
			return err
		}
		return b.Put(idKey(id), sealed)
	})
}

// ObjectWrite is one object for PutObjects: its record and, for a public
// key object, its material record (nil: the object has none, and any
// stored one is deleted).
type ObjectWrite struct {
	ID       uint64
	Record   []byte
	Material []byte
}

// PutObjects stores the records of ws and, when st is not nil, slot's token
// state, all in one durable transaction: either everything is written or
// nothing is.
func (s *Store) PutObjects(slot uint, ws []ObjectWrite, st *TokenState) error {
	var state []byte
	if st != nil {
		var err error
		if state, err = marshalState(st); err != nil {
			return err
		}
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		sb, err := slotBucket(tx, slot)
		if err != nil {
			return err
		}
		objs, mats := sb.Bucket(bucketObjects), sb.Bucket(bucketMaterial)
		for _, w := range ws {
			if err := objs.Put(idKey(w.ID), w.Record); err != nil {
				return err
			}
			if w.Material == nil {
				err = mats.Delete(idKey(w.ID))
			} else {
				err = mats.Put(idKey(w.ID), w.Material)
			}
			if err != nil {
				return err
			}
		}
		if state != nil {
			return sb.Put(keyState, state)
		}
		return nil
	})
}

// DeleteObject removes object id's record, its material record and its
// nonce reservation.
func (s *Store) DeleteObject(slot uint, id uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketObjects, bucketGCM, bucketMaterial} {
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
	return s.forEach(slot, bucketObjects, fn)
}

// ForEachMaterial calls fn with every material record of slot, in id
// order. The slice is only valid during the call.
func (s *Store) ForEachMaterial(slot uint, fn func(id uint64, sealed []byte) error) error {
	return s.forEach(slot, bucketMaterial, fn)
}

func (s *Store) forEach(slot uint, name []byte, fn func(id uint64, sealed []byte) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		b, err := sub(tx, slot, name)
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
