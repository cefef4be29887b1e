package store

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func materials(t *testing.T, s *Store, slot uint) map[uint64][]byte {
	t.Helper()
	m := map[uint64][]byte{}
	if err := s.ForEachMaterial(slot, func(id uint64, sealed []byte) error {
		m[id] = append([]byte(nil), sealed...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPutObjectsWritesRecordsMaterialAndState(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	err := s.PutObjects(0, []ObjectWrite{
		{ID: 1, Record: []byte("pub1"), Material: []byte("mat1")},
		{ID: 2, Record: []byte("pub2")},
	}, &TokenState{Initialized: true, Label: "t", SplitMaterial: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = mustOpen(t, dir)
	defer s.Close()
	if ids, _ := s.ObjectIDs(0); len(ids) != 2 {
		t.Fatalf("ids %v", ids)
	}
	if m := materials(t, s, 0); len(m) != 1 || string(m[1]) != "mat1" {
		t.Fatalf("material records %v", m)
	}
	if st, _ := s.LoadToken(0); st == nil || !st.SplitMaterial || st.Label != "t" {
		t.Fatalf("state %+v", st)
	}
	// Rewriting without material drops the material record; without a
	// state the state is untouched.
	if err := s.PutObjects(0, []ObjectWrite{{ID: 1, Record: []byte("pub1b")}}, nil); err != nil {
		t.Fatal(err)
	}
	if m := materials(t, s, 0); len(m) != 0 {
		t.Fatalf("material kept: %v", m)
	}
	if st, _ := s.LoadToken(0); !st.SplitMaterial {
		t.Fatal("state changed by a write without state")
	}
	// DeleteObject removes the material record too.
	if err := s.PutObjects(0, []ObjectWrite{{ID: 2, Record: []byte("pub2"), Material: []byte("mat2")}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteObject(0, 2); err != nil {
		t.Fatal(err)
	}
	if m := materials(t, s, 0); len(m) != 0 {
		t.Fatalf("material outlived its object: %v", m)
	}
	// Another slot never sees them.
	if m := materials(t, s, 1); len(m) != 0 {
		t.Fatal("slot 1 sees slot 0's material")
	}
}

func TestMaterialSealIsItsOwnKind(t *testing.T) {
	key, _ := RandomKey()
	rec, err := Seal(key, SealedMaterial, 0, 5, []byte("material"))
	if err != nil {
		t.Fatal(err)
	}
	if Kind(rec) != SealedMaterial {
		t.Fatalf("kind %d", Kind(rec))
	}
	for _, k := range []KeyKind{SealedPublic, SealedPrivate} {
		forged := append([]byte{byte(k)}, rec[1:]...)
		if _, err := Unseal(key, 0, 5, forged); err == nil {
			t.Errorf("a material record opened as kind %d", k)
		}
	}
}

func TestFormatVersions(t *testing.T) {
	for _, c := range []struct {
		stored, want string
		ok           bool
	}{{"1", "2", true}, {"2", "2", true}, {"3", "3", false}, {"x", "x", false}} {
		t.Run(c.stored, func(t *testing.T) {
			dir := t.TempDir()
			mustOpen(t, dir).Close()
			setVersion(t, dir, c.stored)
			s, err := Open(dir)
			if c.ok != (err == nil) {
				t.Fatalf("open of version %q: %v", c.stored, err)
			}
			if err == nil {
				s.Close()
			} else if !strings.Contains(err.Error(), fmt.Sprintf("store format version %q", c.stored)) {
				t.Fatalf("error %v", err)
			}
			if got := getVersion(t, dir); got != c.want {
				t.Fatalf("version after open %q, want %q", got, c.want)
			}
		})
	}
}

func setVersion(t *testing.T, dir, v string) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyVersion, []byte(v)) }); err != nil {
		t.Fatal(err)
	}
}

func getVersion(t *testing.T, dir string) string {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v []byte
	db.View(func(tx *bolt.Tx) error { v = bytes.Clone(tx.Bucket(bucketMeta).Get(keyVersion)); return nil })
	return string(v)
}
