package mech

import (
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"math"

	"github.com/miekg/pkcs11"
)

const blockSize = 16

// cbcOp is CKM_AES_CBC / CKM_AES_CBC_PAD, multi-part: whole blocks are
// processed as they arrive; a decryptor with padding holds back the last
// full block because it may carry the padding.
type cbcOp struct {
	mode     cipher.BlockMode
	buf      []byte // pending input, always less than two blocks
	pad, dec bool
}

func newCBC(m *pkcs11.Mechanism, k *Key, dec bool) (CipherOp, error) {
	block, _, err := aesKey(k, errKeyType, errKeySize)
	if err != nil {
		return nil, err
	}
	iv, err := plainParam(m)
	if err != nil || len(iv) != blockSize {
		return nil, errParamInvalid
	}
	op := &cbcOp{pad: m.Mechanism == pkcs11.CKM_AES_CBC_PAD, dec: dec}
	if dec {
		op.mode = cipher.NewCBCDecrypter(block, iv)
	} else {
		op.mode = cipher.NewCBCEncrypter(block, iv)
	}
	return op, nil
}

// ready is how many of n pending bytes Update may process now.
func (c *cbcOp) ready(n int) int {
	r := n - n%blockSize
	if c.dec && c.pad && r == n && r > 0 {
		r -= blockSize
	}
	return r
}

func (c *cbcOp) Update(p []byte) ([]byte, error) {
	c.buf = append(c.buf, p...)
	n := c.ready(len(c.buf))
	out := make([]byte, n)
	c.mode.CryptBlocks(out, c.buf[:n])
	c.buf = append(c.buf[:0], c.buf[n:]...)
	return out, nil
}

func (c *cbcOp) Final() ([]byte, error) {
	switch {
	case !c.pad && len(c.buf) != 0 && c.dec:
		return nil, errEncDataLen
	case !c.pad && len(c.buf) != 0:
		return nil, errDataLen
	case !c.pad:
		return nil, nil
	case !c.dec:
		out := pkcs7Pad(c.buf)
		c.mode.CryptBlocks(out, out)
		return out, nil
	case len(c.buf) != blockSize:
		return nil, errEncDataLen
	}
	out := make([]byte, blockSize)
	c.mode.CryptBlocks(out, c.buf)
	return pkcs7Unpad(out, errEncData)
}

func (c *cbcOp) OutLen(inLen int, final bool) int {
	n := len(c.buf) + inLen
	switch {
	case !final:
		return c.ready(n)
	case c.pad && !c.dec:
		return n - n%blockSize + blockSize
	}
	return n // exact without padding; an upper bound when unpadding
}

// pkcs7Pad returns p padded to a whole number of blocks (a fresh slice).
func pkcs7Pad(p []byte) []byte {
	n := blockSize - len(p)%blockSize
	out := make([]byte, len(p)+n)
	copy(out, p)
	for i := len(p); i < len(out); i++ {
		out[i] = byte(n)
	}
	return out
}

// pkcs7Unpad strips PKCS#7 padding from the block-aligned p. The check runs
// in constant time over the last block so that a failure reveals nothing
// about where it failed.
func pkcs7Unpad(p []byte, bad error) ([]byte, error) {
	if len(p) == 0 || len(p)%blockSize != 0 {
		return nil, bad
	}
	last := p[len(p)-blockSize:]
	n := int(last[blockSize-1])
	good := subtle.ConstantTimeLessOrEq(1, n) & subtle.ConstantTimeLessOrEq(n, blockSize)
	for i := 0; i < blockSize; i++ {
		inPad := subtle.ConstantTimeLessOrEq(blockSize-i, n)
		good &= subtle.ConstantTimeSelect(inPad, subtle.ConstantTimeByteEq(last[i], byte(n)), 1)
	}
	if good != 1 {
		return nil, bad
	}
	return p[:len(p)-n], nil
}

// ctrOp is CKM_AES_CTR. Only the low counterBits bits of the counter block
// are incremented (modulo 2^counterBits), as PKCS#11 specifies; the upper
// bits are the caller's nonce and never change. An operation may consume
// at most 2^counterBits blocks: beyond that the counter would come back to
// its first value and reuse keystream, so CKR_DATA_LEN_RANGE is returned.
type ctrOp struct {
	block cipher.Block
	ctr   [blockSize]byte
	bits  int
	left  uint64 // keystream blocks still allowed
	ks    [32 * blockSize]byte
	ksLen int
	pos   int
}

func newCTR(m *pkcs11.Mechanism, k *Key) (CipherOp, error) {
	block, _, err := aesKey(k, errKeyType, errKeySize)
	if err != nil {
		return nil, err
	}
	b, err := plainParam(m)
	if err != nil {
		return nil, err
	}
	p, err := ParseCTRParams(b)
	if err != nil {
		return nil, err
	}
	op := &ctrOp{block: block, ctr: p.CB, bits: p.CounterBits, left: math.MaxUint64}
	if p.CounterBits < 64 {
		op.left = 1 << p.CounterBits
	}
	return op, nil
}

func (c *ctrOp) Update(p []byte) ([]byte, error) {
	if need := len(p) - (c.ksLen - c.pos); need > 0 && uint64((need+blockSize-1)/blockSize) > c.left {
		return nil, errDataLen
	}
	out := make([]byte, len(p))
	dst := out
	for len(p) > 0 {
		if c.pos == c.ksLen {
			c.refill()
		}
		n := subtle.XORBytes(dst, p, c.ks[c.pos:c.ksLen])
		c.pos += n
		dst, p = dst[n:], p[n:]
	}
	return out, nil
}

// refill encrypts the next batch of counter blocks (Update has checked
// that at least one is allowed).
func (c *ctrOp) refill() {
	n := uint64(len(c.ks) / blockSize)
	n = min(n, c.left)
	for i := 0; i < int(n); i++ {
		c.block.Encrypt(c.ks[i*blockSize:], c.ctr[:])
		c.increment()
	}
	c.left -= n
	c.ksLen, c.pos = int(n)*blockSize, 0
}

// increment adds one to the low c.bits bits of the counter block.
func (c *ctrOp) increment() {
	hi := binary.BigEndian.Uint64(c.ctr[:8])
	lo := binary.BigEndian.Uint64(c.ctr[8:])
	if c.bits < 64 {
		mask := uint64(1)<<c.bits - 1
		lo = lo&^mask | (lo+1)&mask
	} else {
		lo++
		if lo == 0 && c.bits > 64 {
			mask := uint64(math.MaxUint64)
			if c.bits < 128 {
				mask = uint64(1)<<(c.bits-64) - 1
			}
			hi = hi&^mask | (hi+1)&mask
		}
	}
	binary.BigEndian.PutUint64(c.ctr[:8], hi)
	binary.BigEndian.PutUint64(c.ctr[8:], lo)
}

func (c *ctrOp) Final() ([]byte, error) { return nil, nil }

func (c *ctrOp) OutLen(inLen int, final bool) int { return inLen }
