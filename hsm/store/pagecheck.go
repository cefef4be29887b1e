package store

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"

	bolt "go.etcd.io/bbolt"
)

// bbolt's page header: id u64, flags u16, count u16, overflow u32.
const (
	pageHeaderSize = 16
	flagBranch     = 0x01
	flagLeaf       = 0x02
	flagMeta       = 0x04
	flagFreelist   = 0x10
)

// checkPages walks the pages below the high-water mark of db's current
// commit and checks each page header in use: it names its own page, has a
// known type, and its overflow run stays below the mark. bbolt trusts the
// overflow count when a commit frees a page (one map entry per page in the
// run), so a flipped high bit there made the first write after open spin
// through billions of iterations: found by hsm.TestStoreBitFlips. The
// headers are read with pread, not through bbolt's mapping, so the check
// adds nothing to the process's resident set.
func checkPages(db *bolt.DB, f io.ReaderAt) error {
	ps := int64(db.Info().PageSize)
	return db.View(func(tx *bolt.Tx) error {
		hwm := tx.Size() / ps
		hdr := make([]byte, pageHeaderSize)
		for i := int64(0); i < hwm; {
			info, err := tx.Page(int(i))
			if err != nil {
				return fmt.Errorf("page %d: %w", i, err)
			}
			if info != nil && info.Type == "free" {
				i++
				continue
			}
			if _, err := f.ReadAt(hdr, i*ps); err != nil {
				return fmt.Errorf("page %d: %w", i, err)
			}
			id := binary.LittleEndian.Uint64(hdr[0:8])
			flags := binary.LittleEndian.Uint16(hdr[8:10])
			overflow := int64(binary.LittleEndian.Uint32(hdr[12:16]))
			switch {
			case id != uint64(i):
				return fmt.Errorf("page %d: its header names page %d", i, id)
			case flags != flagBranch && flags != flagLeaf && flags != flagMeta && flags != flagFreelist:
				return fmt.Errorf("page %d: unknown page type %#x", i, flags)
			case i+1+overflow > hwm:
				return fmt.Errorf("page %d: %d overflow pages run past the last page %d", i, overflow, hwm-1)
			}
			i += 1 + overflow
		}
		return nil
	})
}

// checkFile runs checkPages on the database at path.
func checkFile(db *bolt.DB, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return checkPages(db, f)
}
