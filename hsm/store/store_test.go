package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/craton-co/craton/errs"
)

func mustOpen(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSealBindsSlotAndID(t *testing.T) {
	key, _ := RandomKey()
	rec, err := Seal(key, SealedPrivate, 1, 42, []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if Kind(rec) != SealedPrivate {
		t.Fatalf("kind = %d", Kind(rec))
	}
	if got, err := Unseal(key, 1, 42, rec); err != nil || string(got) != "hello" {
		t.Fatalf("unseal: %q %v", got, err)
	}
	for _, c := range []struct {
		slot uint
		id   uint64
	}{{0, 42}, {1, 43}} {
		var re *RecordError
		if _, err := Unseal(key, c.slot, c.id, rec); !errors.As(err, &re) {
			t.Errorf("record moved to slot %d id %d opened: %v", c.slot, c.id, err)
		}
	}
	rec[0] = byte(SealedPublic) // claiming another key kind breaks the AAD
	if _, err := Unseal(key, 1, 42, rec); err == nil {
		t.Error("kind byte is not authenticated")
	}
}

func TestPersistAndReset(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	if st, err := s.LoadToken(0); err != nil || st != nil {
		t.Fatalf("fresh store has state %v %v", st, err)
	}
	if err := s.SaveToken(0, &TokenState{Initialized: true, Label: "a"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveToken(1, &TokenState{Initialized: true, Label: "b"}); err != nil {
		t.Fatal(err)
	}
	for id := uint64(1); id <= 3; id++ {
		if err := s.PutObject(0, id, []byte{byte(id)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutObject(1, 9, []byte{9}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteObject(0, 2); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = mustOpen(t, dir)
	defer s.Close()
	ids, _ := s.ObjectIDs(0)
	if len(ids) != 2 || ids[0] != 1 || ids[1] != 3 {
		t.Fatalf("ids after restart = %v", ids)
	}
	if err := s.ResetSlot(0, &TokenState{Initialized: true, Label: "new"}); err != nil {
		t.Fatal(err)
	}
	ids, _ = s.ObjectIDs(0)
	other, _ := s.ObjectIDs(1)
	st, _ := s.LoadToken(0)
	if len(ids) != 0 || len(other) != 1 || st.Label != "new" {
		t.Fatalf("reset: ids %v other %v label %q", ids, other, st.Label)
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	defer s.Close()
	_, err := Open(dir)
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.KindStoreLocked {
		t.Fatalf("second open: %v", err)
	}
	want := "Database at " + filepath.Join(dir, FileName) + " is locked by another process"
	if e.Msg != want || e.RV != 0x5 {
		t.Fatalf("msg %q rv %#x, want %q", e.Msg, e.RV, want)
	}
}

func TestFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	s := mustOpen(t, dir)
	s.Close()
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, FileName): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
}

func TestNonceReservationsNeverRepeat(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	a, err := s.ReserveNonces(0, 7, 100)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = mustOpen(t, dir)
	defer s.Close()
	b, err := s.ReserveNonces(0, 7, 100)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Prefix, b.Prefix) || b.Next != a.End || b.End != a.End+100 {
		t.Fatalf("a %+v b %+v", a, b)
	}
}

func TestWrapKeyAndVerifier(t *testing.T) {
	salt, _ := RandomKey()
	kek, _ := DeriveKEK("user-pin-1", salt, 10)
	other, _ := DeriveKEK("user-pin-2", salt, 10)
	omk, _ := RandomKey()
	w, err := WrapKey(kek, omk, "user")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := UnwrapKey(kek, w, "user"); err != nil || !bytes.Equal(got, omk) {
		t.Fatal("unwrap failed")
	}
	if _, err := UnwrapKey(other, w, "user"); !errors.Is(err, ErrWrongKey) {
		t.Error("wrong KEK opened the OMK")
	}
	if _, err := UnwrapKey(kek, w, "so"); !errors.Is(err, ErrWrongKey) {
		t.Error("purpose not bound")
	}
	if !CheckVerifier(kek, Verifier(kek)) || CheckVerifier(other, Verifier(kek)) {
		t.Error("verifier")
	}
}
