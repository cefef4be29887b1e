package hsm

import (
	"crypto/rand"
	"encoding/binary"
)

// handleAlloc hands out 32-bit handles that are unique, never 0 and not
// sequential: a counter pushed through a 4-round Feistel permutation keyed
// at random per process (as Craton does). 32 bits so that the same values
// fit a 4-byte CK_ULONG. Guarded by the Ctx lock.
type handleAlloc struct {
	keys [4]uint32
	next uint32
	used func(uint32) bool // reports handles taken by other means (persisted objects)
}

func newHandleAlloc(used func(uint32) bool) *handleAlloc {
	a := &handleAlloc{used: used}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("hsm: no randomness for handle keys: " + err.Error())
	}
	for i := range a.keys {
		a.keys[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return a
}

// permute is a bijection on uint32, so distinct counters give distinct
// handles.
func (a *handleAlloc) permute(x uint32) uint32 {
	l, r := uint16(x>>16), uint16(x)
	for _, k := range a.keys {
		f := uint16((uint32(r)*0x9E37 ^ k) >> 3 * 0x85EB)
		l, r = r, l^f
	}
	return uint32(l)<<16 | uint32(r)
}

// alloc returns a fresh handle.
func (a *handleAlloc) alloc() uint32 {
	for {
		a.next++
		h := a.permute(a.next)
		if h != 0 && !a.used(h) {
			return h
		}
	}
}
