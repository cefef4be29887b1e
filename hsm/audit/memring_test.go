package audit

import (
	"bytes"
	"fmt"
	"testing"
)

// TestMemRing: the ring keeps the newest limit lines in order, through
// several chunk turnovers, and frees the chunks no kept line uses.
func TestMemRing(t *testing.T) {
	r := memRing{limit: 1000}
	line := func(i int) []byte {
		b := fmt.Appendf(nil, "line %d ", i)
		return append(b, bytes.Repeat([]byte{byte('a' + i%26)}, i%700)...)
	}
	const total = 7777
	for i := range total {
		r.add(line(i))
		if r.len() != min(i+1, r.limit) {
			t.Fatalf("after %d adds: %d lines", i+1, r.len())
		}
	}
	i := total - r.limit
	r.each(func(got []byte) {
		if want := line(i); !bytes.Equal(got, want) {
			t.Fatalf("line %d: got %.20q, want %.20q", i, got, want)
		}
		i++
	})
	if i != total {
		t.Fatalf("each stopped at %d", i)
	}
	// ~350 KB of kept lines: two or three 256 KB chunks.
	if len(r.chunks) > 3 {
		t.Errorf("%d chunks kept for %d lines", len(r.chunks), r.limit)
	}
	big := bytes.Repeat([]byte{'z'}, memChunk+1)
	r.add(big)
	var last []byte
	r.each(func(l []byte) { last = l })
	if !bytes.Equal(last, big) {
		t.Error("a line longer than a chunk was not kept whole")
	}
}
