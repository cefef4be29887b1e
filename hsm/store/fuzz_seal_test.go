package store

import (
	"bytes"
	"testing"
)

// FuzzUnseal feeds arbitrary bytes to the record codec: Unseal never panics
// and never accepts a record it did not seal; a sealed record round-trips,
// and any one flipped bit (at a fuzzed position) is reported as that
// record's error.
func FuzzUnseal(f *testing.F) {
	key := bytes.Repeat([]byte{0x11}, 32)
	known := []byte(`{"attrs":{"3":"bGFiZWw="}}`)
	sealed, err := Seal(key, KeyKind(1), 0, 7, known)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed, []byte("plain"), uint16(0), uint64(7))
	f.Add([]byte{}, []byte{}, uint16(1), uint64(0))
	f.Add([]byte{1}, bytes.Repeat([]byte{0}, 1000), uint16(999), uint64(1<<63))
	f.Fuzz(func(t *testing.T, record, plain []byte, pos uint16, id uint64) {
		// Only the seed record (sealed for slot 0, handle 7; each fuzz
		// worker seals its own copy) may open: GCM cannot be forged.
		if out, err := Unseal(key, 0, id, record); err == nil && (id != 7 || !bytes.Equal(out, known)) {
			t.Fatalf("Unseal accepted a record it never sealed: %x -> %q", record, out)
		}
		for _, kind := range []KeyKind{1, 2} {
			s, err := Seal(key, kind, 3, id, plain)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Unseal(key, 3, id, s)
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("round trip: %v", err)
			}
			bit := int(pos) % (len(s) * 8)
			s[bit/8] ^= 1 << (bit % 8)
			if _, err := Unseal(key, 3, id, s); err == nil {
				t.Fatalf("a flipped bit %d went unnoticed", bit)
			}
			s[bit/8] ^= 1 << (bit % 8)
			if _, err := Unseal(key, 3, id+1, s); err == nil {
				t.Fatal("a record moved to another handle went unnoticed")
			}
		}
	})
}
