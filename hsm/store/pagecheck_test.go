package store

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// A healthy store that has grown, shrunk and holds records spanning
// several pages (overflow runs) passes the page check on every reopen.
func TestPageCheckAcceptsHealthyStores(t *testing.T) {
	dir := t.TempDir()
	big := bytes.Repeat([]byte{0xA5}, 3*4096+100)
	for round := range 4 {
		s := mustOpen(t, dir)
		for i := range uint64(300) {
			v := []byte("small record")
			if i%7 == 0 {
				v = big
			}
			if err := s.PutObject(0, uint64(round)*1000+i, v); err != nil {
				t.Fatal(err)
			}
		}
		for i := uint64(0); i < 300; i += 2 {
			if err := s.DeleteObject(0, uint64(round)*1000+i); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	s := mustOpen(t, dir)
	defer s.Close()
	if err := checkFile(s.db, s.path); err != nil {
		t.Fatalf("healthy store refused: %v", err)
	}
}

// A page header whose overflow count runs past the file, whose id names
// another page, or whose type is unknown is refused at open with an error
// naming the page, instead of hanging the first commit.
func TestPageCheckRefusesDamagedHeaders(t *testing.T) {
	for name, damage := range map[string]func(hdr []byte){
		"overflow": func(h []byte) { binary.LittleEndian.PutUint32(h[12:], 1<<26) },
		"id":       func(h []byte) { binary.LittleEndian.PutUint64(h[0:], 12345) },
		"type":     func(h []byte) { binary.LittleEndian.PutUint16(h[8:], 0x40) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s := mustOpen(t, dir)
			for i := range uint64(50) {
				if err := s.PutObject(0, i, []byte("record")); err != nil {
					t.Fatal(err)
				}
			}
			var ps int
			var used int
			if err := s.db.View(func(tx *bolt.Tx) error {
				ps = s.db.Info().PageSize
				// The last page in use that is not free.
				for i := int(tx.Size()/int64(ps)) - 1; i >= 2; i-- {
					if info, _ := tx.Page(i); info != nil && info.Type != "free" {
						used = i
						return nil
					}
				}
				return nil
			}); err != nil || used == 0 {
				t.Fatalf("no page in use found (%v)", err)
			}
			path := s.path
			s.Close()
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			damage(raw[used*ps : used*ps+pageHeaderSize])
			if err := os.WriteFile(path, raw, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err = Open(dir)
			if err == nil || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), "page ") {
				t.Fatalf("damaged %s of page %d: Open = %v, want a damaged-page error", name, used, err)
			}
			if !strings.Contains(err.Error(), filepath.Base(path)) {
				t.Errorf("error does not name the file: %v", err)
			}
			if !strings.Contains(err.Error(), "restore the storage_path directory from a backup") {
				t.Errorf("error does not say what to do: %v", err)
			}
		})
	}
}
