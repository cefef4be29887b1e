package mech

import (
	"crypto/cipher"
	"crypto/subtle"

	"github.com/miekg/pkcs11"
)

const (
	gcmNonceSize = 12
	gcmTagSize   = 16
	// cratonOverhead is nonce || ... || tag in Craton's parameterless mode.
	cratonOverhead = gcmNonceSize + gcmTagSize
	maxGCMIVLen    = 256
)

// newGCM sets up CKM_AES_GCM. With a CK_GCM_PARAMS the caller's IV, AAD and
// tag length are used and the ciphertext is ct || tag (PKCS#11). Without a
// parameter it is Craton's mode: the nonce comes from nonces, the output is
// nonce || ct || tag and decryption takes the nonce from the front.
// GCM is single-part; Update accumulates.
func newGCM(m *pkcs11.Mechanism, k *Key, nonces NonceSource, dec bool) (CipherOp, error) {
	block, aead, err := aesKey(k, errKeyType, errKeySize)
	if err != nil {
		return nil, err
	}
	p, ok, err := gcmParams(m)
	if err != nil {
		return nil, err
	}
	if !ok {
		return cratonGCM(aead, nonces, dec)
	}
	return specGCM(block, aead, p, dec)
}

// gcmOp is a CKM_AES_GCM operation, in one allocation: Update accumulates
// (bounded), Final runs on what was accumulated, and Once (SinglePart, a
// C_Encrypt / C_Decrypt) runs on the caller's input directly, which it
// only reads; every output is a fresh buffer. overhead is what encryption
// adds: the tag, and in Craton's mode (craton) the nonce too.
type gcmOp struct {
	buf      []byte
	dec      bool
	craton   bool
	overhead int
	nonces   NonceSource // Craton's mode, encryption
	gcmSpec              // aead (both modes); iv, aad, tagLen with CK_GCM_PARAMS
}

func (g *gcmOp) Update(p []byte) ([]byte, error) {
	var err error
	g.buf, err = appendBounded(g.buf, p)
	return nil, err
}

func (g *gcmOp) Final() ([]byte, error) { return g.run(g.buf) }

func (g *gcmOp) Once(in []byte) ([]byte, error) {
	if len(g.buf) != 0 {
		if _, err := g.Update(in); err != nil {
			return nil, err
		}
		return g.Final()
	}
	if len(in) > maxBuffered {
		return nil, errDataLen
	}
	return g.run(in)
}

func (g *gcmOp) OutLen(inLen int, final bool) int {
	if !final {
		return 0
	}
	n := len(g.buf) + inLen
	if g.dec {
		return max(n-g.overhead, 0)
	}
	return n + g.overhead
}

func (g *gcmOp) run(in []byte) ([]byte, error) {
	switch {
	case g.craton && g.dec:
		return g.cratonOpen(in)
	case g.craton:
		return g.cratonSeal(in)
	case g.dec:
		return g.open(in)
	}
	return g.seal(in)
}

func cratonGCM(aead cipher.AEAD, nonces NonceSource, dec bool) (CipherOp, error) {
	if !dec && nonces == nil {
		return nil, errParamInvalid
	}
	return &gcmOp{dec: dec, craton: true, overhead: cratonOverhead, nonces: nonces, gcmSpec: gcmSpec{aead: aead}}, nil
}

func (g *gcmOp) cratonOpen(in []byte) ([]byte, error) {
	if len(in) < cratonOverhead {
		return nil, errEncDataLen
	}
	out, err := g.aead.Open(nil, in[:gcmNonceSize], in[gcmNonceSize:], nil)
	if err != nil {
		return nil, errEncData
	}
	return out, nil
}

func (g *gcmOp) cratonSeal(in []byte) ([]byte, error) {
	nonce, err := g.nonces()
	if err != nil {
		return nil, err
	}
	if len(nonce) != gcmNonceSize {
		return nil, errGeneral
	}
	out := make([]byte, gcmNonceSize, cratonOverhead+len(in))
	copy(out, nonce)
	return g.aead.Seal(out, nonce, in, nil), nil
}

// specGCM implements CK_GCM_PARAMS. Go's GCM takes either a non-default
// nonce size or a non-default tag size, not both; for that combination the
// full tag is computed and truncated (a GCM tag of t bits is by definition
// the first t bits of the full tag, SP 800-38D §7.1).
func specGCM(block cipher.Block, def cipher.AEAD, p GCMParams, dec bool) (CipherOp, error) {
	if len(p.IV) == 0 || len(p.IV) > maxGCMIVLen || p.TagBits < 96 || p.TagBits > 128 || p.TagBits%8 != 0 {
		return nil, errParamInvalid
	}
	tagLen := p.TagBits / 8
	var aead cipher.AEAD
	var err error
	switch {
	case len(p.IV) == gcmNonceSize && tagLen == gcmTagSize:
		aead = def
	case len(p.IV) == gcmNonceSize:
		aead, err = cipher.NewGCMWithTagSize(block, tagLen)
	default:
		aead, err = cipher.NewGCMWithNonceSize(block, len(p.IV))
	}
	if err != nil {
		return nil, errParamInvalid
	}
	return &gcmOp{dec: dec, overhead: tagLen, gcmSpec: gcmSpec{aead: aead, iv: p.IV, aad: p.AAD, tagLen: tagLen}}, nil
}

type gcmSpec struct {
	aead    cipher.AEAD
	iv, aad []byte
	tagLen  int
}

// truncated reports whether the tag must be cut from the AEAD's full tag.
func (g *gcmSpec) truncated() bool { return g.aead.Overhead() != g.tagLen }

func (g *gcmSpec) seal(in []byte) ([]byte, error) {
	out := g.aead.Seal(make([]byte, 0, len(in)+g.aead.Overhead()), g.iv, in, g.aad)
	return out[:len(in)+g.tagLen], nil
}

func (g *gcmSpec) open(in []byte) ([]byte, error) {
	if len(in) < g.tagLen {
		return nil, errEncDataLen
	}
	if !g.truncated() {
		out, err := g.aead.Open(nil, g.iv, in, g.aad)
		if err != nil {
			return nil, errEncData
		}
		return out, nil
	}
	// Truncated tag with a non-96-bit IV: GCM's CTR part is its own
	// inverse, so sealing the ciphertext yields the plaintext, and sealing
	// that yields the full tag to compare.
	ct, tag := in[:len(in)-g.tagLen], in[len(in)-g.tagLen:]
	pt := g.aead.Seal(nil, g.iv, ct, nil)[:len(ct)]
	full := g.aead.Seal(nil, g.iv, pt, g.aad)
	if subtle.ConstantTimeCompare(full[len(ct):len(ct)+g.tagLen], tag) != 1 {
		clear(pt)
		return nil, errEncData
	}
	return pt, nil
}
