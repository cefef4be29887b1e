package mech

import (
	"hash"

	"github.com/miekg/pkcs11"
)

// DigestOp is a message digest in progress.
type DigestOp interface {
	Update(p []byte) error
	Final() ([]byte, error)
	// Len is the digest length, for the NULL-buffer size query.
	Len() int
}

type digestOp struct{ h hash.Hash }

// NewDigest starts a digest (CKM_SHA_1, CKM_SHA224/256/384/512,
// CKM_SHA3_256/384/512).
func NewDigest(m *pkcs11.Mechanism) (DigestOp, error) {
	h, ok := digestHashes[m.Mechanism]
	if !ok {
		return nil, errMechInvalid
	}
	if err := noParam(m); err != nil {
		return nil, err
	}
	return &digestOp{h.New()}, nil
}

func (d *digestOp) Update(p []byte) error {
	d.h.Write(p)
	return nil
}

func (d *digestOp) Final() ([]byte, error) { return d.h.Sum(nil), nil }

func (d *digestOp) Len() int { return d.h.Size() }
