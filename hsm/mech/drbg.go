package mech

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
)

// hmacDRBG is HMAC_DRBG with SHA-256 (NIST SP 800-90A Rev. 1 §10.1.2),
// without prediction resistance. The package uses it only for the POST
// health test (self-test 16): keys and nonces come from crypto/rand.
type hmacDRBG struct {
	k, v [sha256.Size]byte
	mac  hash.Hash
}

// newHMACDRBG instantiates with entropy || nonce || personalization.
func newHMACDRBG(entropy, nonce, pers []byte) *hmacDRBG {
	d := &hmacDRBG{}
	for i := range d.v {
		d.v[i] = 0x01
	}
	d.mac = hmac.New(sha256.New, d.k[:])
	d.update(entropy, nonce, pers)
	return d
}

// update is HMAC_DRBG_Update with provided data = concatenation of parts.
func (d *hmacDRBG) update(parts ...[]byte) {
	empty := true
	for _, p := range parts {
		empty = empty && len(p) == 0
	}
	for round := byte(0); round < 2; round++ {
		d.mac.Reset()
		d.mac.Write(d.v[:])
		d.mac.Write([]byte{round})
		for _, p := range parts {
			d.mac.Write(p)
		}
		d.mac.Sum(d.k[:0])
		d.mac = hmac.New(sha256.New, d.k[:])
		d.mac.Write(d.v[:])
		d.mac.Sum(d.v[:0])
		if empty {
			return
		}
	}
}

// reseed mixes in fresh entropy.
func (d *hmacDRBG) reseed(entropy []byte) { d.update(entropy) }

// generate fills out (no additional input).
func (d *hmacDRBG) generate(out []byte) {
	for len(out) > 0 {
		d.mac.Reset()
		d.mac.Write(d.v[:])
		d.mac.Sum(d.v[:0])
		out = out[copy(out, d.v[:]):]
	}
	d.update()
}
