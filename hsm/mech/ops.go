package mech

import (
	"crypto/subtle"

	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

// SignOp is a signature or MAC computation in progress.
type SignOp interface {
	Update(p []byte) error
	Final() ([]byte, error)
	// Len is the exact signature length, for the NULL-buffer size query.
	Len() int
}

// VerifyOp is a verification in progress. Final returns
// CKR_SIGNATURE_INVALID or CKR_SIGNATURE_LEN_RANGE on failure.
type VerifyOp interface {
	Update(p []byte) error
	Final(sig []byte) error
}

// CipherOp is an encryption or decryption in progress. C_Encrypt is
// Update(data) followed by Final(); C_EncryptUpdate is Update, C_EncryptFinal
// is Final. Mechanisms that PKCS#11 defines as single-part (RSA, GCM)
// accumulate in Update, which then returns no output, and work in Final.
type CipherOp interface {
	Update(p []byte) ([]byte, error)
	Final() ([]byte, error)
	// OutLen answers the size query without changing state (no GCM nonce
	// is consumed): with final == false the output length of Update with
	// inLen bytes; with final == true that of Update(inLen bytes) followed
	// by Final (so OutLen(0, true) sizes C_EncryptFinal). For decryption
	// with padding it is an upper bound, as PKCS#11 allows.
	OutLen(inLen int, final bool) int
}

// NonceSource supplies Craton's deterministic per-key GCM nonce (12 bytes)
// when the GCM parameter is NULL/empty; the engine persists the counter.
type NonceSource func() ([]byte, error)

// NewSign starts a signature or MAC operation with key k.
func NewSign(m *pkcs11.Mechanism, k *Key) (SignOp, error) {
	switch t := m.Mechanism; {
	case isRSASign(t):
		return newRSASign(m, k)
	case isECDSA(t):
		return newECDSASign(m, k)
	case t == ck.CKM_EDDSA:
		return newEdSign(m, k)
	case isPQSign(t):
		return newPQSign(m, k)
	case isMAC(t):
		return newMAC(m, k)
	}
	return nil, errMechInvalid
}

// NewVerify starts a verification with key k (a public key, or for MACs the
// secret key).
func NewVerify(m *pkcs11.Mechanism, k *Key) (VerifyOp, error) {
	switch t := m.Mechanism; {
	case isRSASign(t):
		return newRSAVerify(m, k)
	case isECDSA(t):
		return newECDSAVerify(m, k)
	case t == ck.CKM_EDDSA:
		return newEdVerify(m, k)
	case isPQSign(t):
		return newPQVerify(m, k)
	case isMAC(t):
		s, err := newMAC(m, k)
		if err != nil {
			return nil, err
		}
		return macVerify{s}, nil
	}
	return nil, errMechInvalid
}

// macVerify verifies a MAC by recomputing it.
type macVerify struct{ SignOp }

func (v macVerify) Final(sig []byte) error {
	if len(sig) != v.Len() {
		return errSignatureLen
	}
	mac, err := v.SignOp.Final()
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(mac, sig) != 1 {
		return errSignature
	}
	return nil
}

// NewEncrypt starts an encryption. nonces is only used by CKM_AES_GCM
// without parameter.
func NewEncrypt(m *pkcs11.Mechanism, k *Key, nonces NonceSource) (CipherOp, error) {
	return newCipher(m, k, nonces, false)
}

// NewDecrypt starts a decryption.
func NewDecrypt(m *pkcs11.Mechanism, k *Key) (CipherOp, error) {
	return newCipher(m, k, nil, true)
}

func newCipher(m *pkcs11.Mechanism, k *Key, nonces NonceSource, dec bool) (CipherOp, error) {
	switch m.Mechanism {
	case pkcs11.CKM_AES_CBC, pkcs11.CKM_AES_CBC_PAD:
		return newCBC(m, k, dec)
	case pkcs11.CKM_AES_CTR:
		return newCTR(m, k)
	case pkcs11.CKM_AES_GCM:
		return newGCM(m, k, nonces, dec)
	case pkcs11.CKM_RSA_PKCS, pkcs11.CKM_RSA_PKCS_OAEP:
		return newRSACipher(m, k, dec)
	}
	return nil, errMechInvalid
}

// SinglePart is implemented by the CipherOps that can serve C_Encrypt /
// C_Decrypt from the caller's input directly: Once(in) is Update(in)
// followed by Final() without first copying in into the operation. in is
// only read during the call, and the output never aliases it nor any state
// of the operation.
type SinglePart interface {
	Once(in []byte) ([]byte, error)
}

// oneShot is a CipherOp for single-part mechanisms: it accumulates input and
// runs once in Final.
type oneShot struct {
	buf    []byte
	run    func(in []byte) ([]byte, error)
	outLen func(n int) int
}

func (o *oneShot) Update(p []byte) ([]byte, error) {
	var err error
	o.buf, err = appendBounded(o.buf, p)
	return nil, err
}

func (o *oneShot) Final() ([]byte, error) { return o.run(o.buf) }

func (o *oneShot) OutLen(inLen int, final bool) int {
	if !final {
		return 0
	}
	return o.outLen(len(o.buf) + inLen)
}
