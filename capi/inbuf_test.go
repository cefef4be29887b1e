package main

import (
	"bytes"
	"testing"
)

// TestInCopy: copies are equal to their source and independent of it;
// a recycled buffer comes back wiped, whatever its size class.
func TestInCopy(t *testing.T) {
	for _, n := range []int{0, 1, 255, 256, 257, 1000, 4096, 5000, 64 << 10, 64<<10 + 1} {
		src := bytes.Repeat([]byte{0xA5}, n)
		c := inCopy(src)
		if !bytes.Equal(c, src) || (n > 0 && &c[0] == &src[0]) {
			t.Fatalf("n=%d: not an independent copy", n)
		}
		inRecycle(c)
		for i, b := range c[:cap(c)] {
			if b != 0 {
				t.Fatalf("n=%d: recycled buffer not wiped at %d", n, i)
			}
		}
		// A copy from the pool holds the new input and zeros after it.
		d := inCopy(src[:min(n, 3)])
		if !bytes.Equal(d, src[:min(n, 3)]) || len(bytes.Trim(d[len(d):cap(d)], "\x00")) != 0 {
			t.Fatalf("n=%d: pooled copy %x", n, d[:cap(d)])
		}
		inRecycle(d)
	}
}
