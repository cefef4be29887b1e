package mech

import (
	"crypto/cipher"
	"crypto/subtle"

	"github.com/miekg/pkcs11"
)

// cmacOp is AES-CMAC (NIST SP 800-38B). The last block is treated
// differently, so one block of input is always held back until Final.
type cmacOp struct {
	block  cipher.Block
	k1, k2 [blockSize]byte
	x      [blockSize]byte // chaining value
	buf    [blockSize]byte // pending input
	n      int             // bytes in buf
	len    int             // output length
}

func newCMAC(m *pkcs11.Mechanism, k *Key) (SignOp, error) {
	block, _, err := aesKey(k, errKeyType, errKeySize)
	if err != nil {
		return nil, err
	}
	n, err := macLen(m, m.Mechanism == pkcs11.CKM_AES_CMAC_GENERAL, blockSize)
	if err != nil {
		return nil, err
	}
	c := &cmacOp{block: block, len: n}
	// Subkeys: L = E_K(0^128), K1 = dbl(L), K2 = dbl(K1) (SP 800-38B §6.1).
	var l [blockSize]byte
	block.Encrypt(l[:], l[:])
	c.k1 = dbl(l)
	c.k2 = dbl(c.k1)
	return c, nil
}

// dbl is doubling in GF(2^128) with the CMAC polynomial (R_128 = 0x87).
func dbl(v [blockSize]byte) [blockSize]byte {
	var out [blockSize]byte
	carry := v[0] >> 7
	for i := 0; i < blockSize-1; i++ {
		out[i] = v[i]<<1 | v[i+1]>>7
	}
	out[blockSize-1] = v[blockSize-1]<<1 ^ byte(subtle.ConstantTimeSelect(int(carry), 0x87, 0))
	return out
}

func (c *cmacOp) Update(p []byte) error {
	// Fill the pending block; process it only once more input follows.
	for len(p) > 0 {
		if c.n == blockSize {
			c.mix(c.buf[:])
			c.n = 0
		}
		if c.n == 0 {
			for len(p) > blockSize {
				c.mix(p[:blockSize])
				p = p[blockSize:]
			}
		}
		k := copy(c.buf[c.n:], p)
		c.n += k
		p = p[k:]
	}
	return nil
}

// mix folds one full block into the chaining value.
func (c *cmacOp) mix(b []byte) {
	subtle.XORBytes(c.x[:], c.x[:], b)
	c.block.Encrypt(c.x[:], c.x[:])
}

func (c *cmacOp) Final() ([]byte, error) {
	last := c.buf
	key := &c.k1
	if c.n < blockSize {
		clear(last[c.n:])
		last[c.n] = 0x80
		key = &c.k2
	}
	subtle.XORBytes(last[:], last[:], key[:])
	c.mix(last[:])
	return append([]byte(nil), c.x[:c.len]...), nil
}

func (c *cmacOp) Len() int { return c.len }
