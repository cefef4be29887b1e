package store

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestReleaseMappedKeepsData: releasing the mapped pages (every
// releaseEvery writes and after scans) changes nothing a reader sees, and
// gives the pages back on Linux.
func TestReleaseMappedKeepsData(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	defer s.Close()
	val := func(id uint64) []byte { return bytes.Repeat([]byte{byte(id)}, 3000) }
	const n = 3 * releaseEvery
	for id := uint64(1); id <= n; id++ {
		if err := s.PutObject(0, id, val(id)); err != nil {
			t.Fatal(err)
		}
	}
	read := func() {
		t.Helper()
		seen := 0
		err := s.ForEachObject(0, func(id uint64, sealed []byte) error {
			if !bytes.Equal(sealed, val(id)) {
				t.Fatalf("object %d reads %d bytes, want its value", id, len(sealed))
			}
			seen++
			return nil
		})
		if err != nil || seen != n {
			t.Fatalf("read %d objects, err %v", seen, err)
		}
	}
	read()
	// Touch every page again without the scan's own release.
	s.view(func(tx *bolt.Tx) error {
		b, _ := sub(tx, 0, bucketObjects)
		return b.ForEach(func(k, v []byte) error { return nil })
	})
	before := mappedRSS(t, s.Path())
	s.releaseMapped()
	after := mappedRSS(t, s.Path())
	read()
	t.Logf("resident database pages: %d kB, %d kB after release", before, after)
	if before >= 0 && (before == 0 || after >= before) {
		t.Fatalf("resident pages of the database: %d kB before release, %d kB after", before, after)
	}
}

// mappedRSS is the resident size in kB of the process's mappings of path,
// -1 where /proc/self/smaps does not exist.
func mappedRSS(t *testing.T, path string) int {
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return -1
	}
	total, in := 0, false
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) >= 5 && strings.Contains(f[0], "-"):
			in = len(f) == 6 && f[5] == path
		case in && len(f) >= 2 && f[0] == "Rss:":
			n, _ := strconv.Atoi(f[1])
			total += n
		}
	}
	return total
}
