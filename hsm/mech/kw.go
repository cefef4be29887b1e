package mech

import (
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
)

// AES Key Wrap (RFC 3394) and AES Key Wrap with Padding (RFC 5649),
// NIST SP 800-38F's KW and KWP. Go's standard library has neither.

var (
	kwDefaultIV   = [8]byte{0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6}
	kwpDefaultAIV = [4]byte{0xa6, 0x59, 0x59, 0xa6}
)

// kwWrap is RFC 3394 §2.2.1 (index-based form): p is a multiple of 8 bytes,
// at least 16; the result is 8 bytes longer.
func kwWrap(b cipher.Block, iv [8]byte, p []byte) []byte {
	out := make([]byte, 8+len(p))
	copy(out[8:], p)
	kwW(b, iv, out)
	return out
}

// kwW runs the wrapping function W in place on buf = A || R[1..n].
func kwW(b cipher.Block, a [8]byte, buf []byte) {
	n := len(buf)/8 - 1
	var blk [16]byte
	for j := 0; j < 6; j++ {
		for i := 1; i <= n; i++ {
			copy(blk[:8], a[:])
			copy(blk[8:], buf[8*i:8*i+8])
			b.Encrypt(blk[:], blk[:])
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(a[:], binary.BigEndian.Uint64(blk[:8])^t)
			copy(buf[8*i:], blk[8:])
		}
	}
	copy(buf[:8], a[:])
}

// kwWInv is the unwrapping function W^-1: it returns A and leaves R[1..n]
// in c[8:] of a copy.
func kwWInv(b cipher.Block, c []byte) ([8]byte, []byte) {
	n := len(c)/8 - 1
	r := append([]byte(nil), c[8:]...)
	var a [8]byte
	copy(a[:], c[:8])
	var blk [16]byte
	for j := 5; j >= 0; j-- {
		for i := n; i >= 1; i-- {
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(blk[:8], binary.BigEndian.Uint64(a[:])^t)
			copy(blk[8:], r[8*(i-1):8*i])
			b.Decrypt(blk[:], blk[:])
			copy(a[:], blk[:8])
			copy(r[8*(i-1):], blk[8:])
		}
	}
	return a, r
}

// kwUnwrap is RFC 3394 §2.2.2 with the integrity check against iv.
func kwUnwrap(b cipher.Block, iv [8]byte, c []byte) ([]byte, error) {
	if len(c)%8 != 0 || len(c) < 24 {
		return nil, errWrappedKeyLen
	}
	a, p := kwWInv(b, c)
	if subtle.ConstantTimeCompare(a[:], iv[:]) != 1 {
		clear(p)
		return nil, errWrappedKey
	}
	return p, nil
}

// kwpWrap is RFC 5649 §4.1: AIV || 32-bit MLI (the true length), zero
// padding to a multiple of 8; one block is a single AES encryption.
func kwpWrap(b cipher.Block, aiv [4]byte, p []byte) []byte {
	padded := (len(p) + 7) &^ 7
	out := make([]byte, 8+padded)
	copy(out[:4], aiv[:])
	binary.BigEndian.PutUint32(out[4:8], uint32(len(p)))
	copy(out[8:], p)
	if padded == 8 {
		b.Encrypt(out, out)
		return out
	}
	var a [8]byte
	copy(a[:], out[:8])
	kwW(b, a, out)
	return out
}

// kwpUnwrap is RFC 5649 §4.2 with the AIV, MLI range and zero-padding
// checks, all folded into one constant-time verdict.
func kwpUnwrap(b cipher.Block, aiv [4]byte, c []byte) ([]byte, error) {
	if len(c)%8 != 0 || len(c) < 16 {
		return nil, errWrappedKeyLen
	}
	var a [8]byte
	var p []byte
	if len(c) == 16 {
		var blk [16]byte
		b.Decrypt(blk[:], c)
		copy(a[:], blk[:8])
		p = append([]byte(nil), blk[8:]...)
	} else {
		a, p = kwWInv(b, c)
	}
	mli := int(binary.BigEndian.Uint32(a[4:]))
	mli = min(mli, len(p)+1) // keeps the constant-time comparisons in range
	ok := subtle.ConstantTimeCompare(a[:4], aiv[:])
	ok &= subtle.ConstantTimeLessOrEq(len(p)-7, mli) & subtle.ConstantTimeLessOrEq(mli, len(p))
	for i := len(p) - 7; i < len(p); i++ {
		inPad := subtle.ConstantTimeLessOrEq(mli, i)
		ok &= subtle.ConstantTimeSelect(inPad, subtle.ConstantTimeByteEq(p[i], 0), 1)
	}
	if ok != 1 {
		clear(p)
		return nil, errWrappedKey
	}
	return p[:mli], nil
}
