package wrapmove

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestJournalEncodingMatchesEncodingJSON: the streamed journal is the
// document json.MarshalIndent wrote before (same JSON once compacted), one
// entry per line, and loads back equal.
func TestJournalEncodingMatchesEncodingJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.json")
	for _, n := range []int{0, 1, 7} {
		j := newJournal(path, Endpoint{Module: "m", Token: "A<&>", Serial: "1"}, Endpoint{Token: "B"})
		j.Transport = TransportECDH
		if n > 0 {
			h, err := HashPIN("target-user", "pin-Zq9x!")
			if err != nil {
				t.Fatal(err)
			}
			j.PINHashes = append(j.PINHashes, h)
		}
		for i := n - 1; i >= 0; i-- { // inserted out of order
			label := fmt.Sprintf("k\x00\xff\"<%d>\u2028", i)
			a := Action{Identity: Identity(ClassSecretKey, fmt.Sprintf("%02x", i), label), Label: label, ID: fmt.Sprintf("%02x", i), Class: ClassSecretKey}
			e, _ := j.entry(a)
			if i%2 == 0 {
				e.set(StateProven, "aes-encrypt-zero-block 01020304 equal on both", "")
				e.Preexisting = i%4 == 0
			}
		}
		for round := 0; round < 2; round++ { // the second save reuses the sorted keys
			if err := j.Save(); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(path)
			want, err := json.MarshalIndent(j, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			var cg, cw bytes.Buffer
			if err := json.Compact(&cg, got); err != nil {
				t.Fatalf("n=%d: journal is not JSON: %v\n%s", n, err, got)
			}
			json.Compact(&cw, want)
			if cg.String() != cw.String() {
				t.Fatalf("n=%d: journal differs from encoding/json:\n%s\nwant\n%s", n, got, want)
			}
			entryLines := 0
			for _, l := range bytes.Split(got, []byte("\n")) {
				if bytes.Contains(l, []byte(`"identity":`)) {
					entryLines++
					if l = bytes.TrimSuffix(l, []byte(",")); !bytes.HasSuffix(l, []byte("}")) {
						t.Errorf("n=%d: an entry spans lines: %s", n, l)
					}
				}
			}
			if entryLines != n {
				t.Errorf("n=%d: %d entry lines", n, entryLines)
			}
			k, err := LoadJournal(path)
			if err != nil || k == nil || len(k.Objects) != n {
				t.Fatalf("n=%d: reload: %v", n, err)
			}
		}
	}
}

// TestJournalEntryEncoding: appendEntry writes the bytes json.Marshal
// writes, for every kind of string a label can hold.
func TestJournalEntryEncoding(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	strs := []string{"", "plain", "quote\" back\\slash", "<&>", "\x00\x01\b\f\n\r\t\x1f\x7f", "\u2028\u2029", "\xff\xfe", "é中🔑",
		"a\xc3", "\xed\xa0\x80", "hex:0001"}
	for range 2000 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		strs = append(strs, string(b))
	}
	ts := []time.Time{{}, time.Date(2026, 11, 29, 7, 37, 9, 123456789, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))}
	for i, s := range strs {
		e := &JournalEntry{Identity: s, Label: strs[(i+1)%len(strs)], ID: "0a", Class: ClassPrivateKey, State: StateProven,
			Preexisting: i%2 == 0, Proof: strs[(i+2)%len(strs)], Reason: strs[(i+3)%len(strs)], UpdatedAt: ts[i%len(ts)]}
		want, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendEntry(nil, e)
		if err != nil || string(got) != string(want) {
			t.Fatalf("entry %q:\n got %s\nwant %s", s, got, want)
		}
		if k, _ := json.Marshal(s); string(appendJSONString(nil, s)) != string(k) {
			t.Fatalf("string %q: %s, want %s", s, appendJSONString(nil, s), k)
		}
	}
	if got, _ := appendEntry(nil, nil); string(got) != "null" {
		t.Errorf("nil entry: %s", got)
	}
}
