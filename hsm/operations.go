package hsm

import (
	"github.com/craton-co/craton/hsm/mech"
	"github.com/miekg/pkcs11"
)

// opKind is one kind of active operation; a session has at most one of
// each kind at a time (CKR_OPERATION_ACTIVE / CKR_OPERATION_NOT_INITIALIZED).
type opKind int

const (
	opFind opKind = iota
	opEncrypt
	opDecrypt
	opSign
	opVerify
	opDigest
	numOpKinds
)

// activeOp is an operation in progress in a session.
type activeOp struct {
	epoch uint64 // token login epoch at Init: a login change voids the op
	mech  uint
	multi bool // an Update happened: the single-part call is no longer allowed

	found  []pkcs11.ObjectHandle
	sign   mech.SignOp
	verify mech.VerifyOp
	cipher mech.CipherOp
	digest mech.DigestOp
}

// beginOp starts an operation of kind in session sh; init builds it (it
// may take Ctx.mu itself; it is called without it).
func (c *Ctx) beginOp(sh pkcs11.SessionHandle, kind opKind, init func(s *session) (*activeOp, error)) error {
	s, err := c.sessionOnly(sh)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if op := s.ops[kind]; op != nil && op.epoch == s.tok.epoch.Load() {
		return errOpActive
	}
	epoch := s.tok.epoch.Load()
	op, err := init(s)
	if err != nil {
		return err
	}
	op.epoch = epoch
	s.ops[kind] = op
	return nil
}

// withOp runs fn on the active operation of kind; when fn reports done (or
// fails, except for CKR_BUFFER_TOO_SMALL) the operation ends, as PKCS#11
// requires. CKR_OPERATION_ACTIVE (a single-part call refused after an
// Update, see singlePart) leaves the multi-part operation running.
func (c *Ctx) withOp(sh pkcs11.SessionHandle, kind opKind, fn func(op *activeOp) (done bool, err error)) error {
	s, err := c.sessionOnly(sh)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	op := s.ops[kind]
	if op == nil || op.epoch != s.tok.epoch.Load() {
		s.ops[kind] = nil
		return errOpNotInit
	}
	done, err := fn(op)
	if rv := rvOf(err); done && rv != pkcs11.CKR_OPERATION_ACTIVE || err != nil && rv != pkcs11.CKR_BUFFER_TOO_SMALL && rv != pkcs11.CKR_OPERATION_ACTIVE {
		s.ops[kind] = nil
	}
	return err
}

// sessionOnly resolves sh through the gate, without keeping Ctx.mu.
func (c *Ctx) sessionOnly(sh pkcs11.SessionHandle) (*session, error) {
	if err := c.rlock(); err != nil {
		return nil, err
	}
	defer c.mu.RUnlock()
	return c.sessionLocked(sh)
}
