package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// PutObject stores (or replaces) the sealed record of object id in slot,
// durably. It does not touch a material record; PutObjects does.
func (s *Store) PutObject(slot uint, id uint64, sealed []byte) error {
	return s.update(func(tx *bolt.Tx) error {
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
	return s.update(func(tx *bolt.Tx) error {
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
			return putState(sb, state)
		}
		return nil
	})
}

// DeleteObject removes object id's record, its material record and its
// nonce reservation.
func (s *Store) DeleteObject(slot uint, id uint64) error {
	return s.update(func(tx *bolt.Tx) error {
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
	defer s.releaseMapped() // a scan touches every page of the records
	return s.view(func(tx *bolt.Tx) error {
		b, err := sub(tx, slot, name)
		if err != nil {
			return err
		}
		if b == nil {
			if sb, _ := slotBucket(tx, slot); string(name) == string(bucketObjects) && sb != nil && sb.Get(keyState) != nil {
				// An initialised slot always has its objects bucket (the
				// material bucket came with format 2: older stores lack it).
				return &SkippedError{Slot: slot, Bucket: string(name), N: -1}
			}
			return nil
		}
		skipped := 0
		err = b.ForEach(func(k, v []byte) error {
			if len(k) != 8 || v == nil {
				skipped++ // a damaged key length or flags: not a record
				return nil
			}
			return fn(binary.BigEndian.Uint64(k), v)
		})
		if err == nil && skipped > 0 {
			err = &SkippedError{Slot: slot, Bucket: string(name), N: skipped}
		}
		return err
	})
}

// SkippedError reports entries of a record bucket that cannot be records
// (a key that is not 8 bytes, a nested bucket): the file is damaged and the
// objects they were are lost. The well-formed records were all visited.
type SkippedError struct {
	Slot   uint
	Bucket string
	N      int
}

func (e *SkippedError) Error() string {
	if e.N < 0 {
		return fmt.Sprintf("slot %d: the %q bucket is missing (damaged file): its objects are lost", e.Slot, e.Bucket)
	}
	return fmt.Sprintf("slot %d: %d malformed entries in %q skipped (damaged file): the objects they held are lost", e.Slot, e.N, e.Bucket)
}

// ObjectIDs lists the ids of slot's records without decrypting anything, so
// that the engine can reserve the handles of objects it cannot read yet.
func (s *Store) ObjectIDs(slot uint) ([]uint64, error) {
	var ids []uint64
	err := s.ForEachObject(slot, func(id uint64, _ []byte) error {
		ids = append(ids, id)
		return nil
	})
	var skipped *SkippedError
	if errors.As(err, &skipped) {
		err = nil // the engine reports it when it loads the records
	}
	return ids, err
}
