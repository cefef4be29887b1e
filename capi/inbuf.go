package main

import "sync"

// Input copies of the single-part calls (C_Encrypt, C_Decrypt, C_Sign,
// C_Digest) come from pools of wiped buffers instead of a fresh allocation
// per call: a new 4 KB buffer is cold memory (a GCM or digest row spent
// ~0.5 us copying into it) and garbage to collect. A buffer goes back only
// when nothing refers to it any more: after a successful single-part call
// has handed its output out, when the operation it was the input of has
// ended (the engine has dropped it, with anything it kept) and the output
// has been copied to the caller and wiped. The *Update calls, whose
// operation goes on and may keep what it was given, copy into fresh memory
// as before.

// inClasses are the pooled capacities; larger inputs are not pooled.
var inClasses = [...]int{256, 1 << 10, 2 << 10, 4 << 10, 8 << 10, 16 << 10, 32 << 10, 64 << 10}

var inPools [len(inClasses)]sync.Pool

func inClass(n int) int {
	for i, c := range inClasses {
		if n <= c {
			return i
		}
	}
	return -1
}

// inCopy returns a copy of b, from a pool when b is small enough (pooled
// buffers come back wiped, so they are zero past what they hold). Hand
// others c[:len(c):len(c)], so that an append of theirs never writes into
// the rest of the buffer and only c[:len(c)] needs wiping.
func inCopy(b []byte) []byte {
	i := inClass(len(b))
	if i < 0 {
		return append([]byte(nil), b...)
	}
	if p, ok := inPools[i].Get().(*[]byte); ok {
		return append((*p)[:0], b...)
	}
	return append(make([]byte, 0, inClasses[i]), b...)
}

// inRecycle wipes b and returns it to its pool if it has a pooled size; b
// must come from inCopy and nothing may refer to it any more.
func inRecycle(b []byte) {
	i := inClass(cap(b))
	if i < 0 || cap(b) != inClasses[i] {
		clear(b)
		return
	}
	clear(b) // past len(b) nothing wrote (see inCopy): still zero
	b = b[:0]
	inPools[i].Put(&b)
}
