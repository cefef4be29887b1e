package hsm

import (
	"github.com/miekg/pkcs11"
)

// auditEvent is one audited call, independent of the audit package's
// encoding so that the engine's call sites stay small.
type auditEvent struct {
	Op        string // "Login", "Sign", "POST", ...
	Session   pkcs11.SessionHandle
	Slot      uint
	UserType  uint
	Mechanism uint
	HasMech   bool
	FIPS      bool
	Length    int
	Object    pkcs11.ObjectHandle
	TestNum   int
	TestName  string
	Note      string
	RV        uint // CKR_OK on success
}

// auditSink writes events durably (Append returns after fsync) and is safe
// for concurrent use.
type auditSink interface {
	append(ev auditEvent) error
	close() error
}

type nopAudit struct{}

func (nopAudit) append(auditEvent) error { return nil }
func (nopAudit) close() error            { return nil }

func evSystem(op string) auditEvent { return auditEvent{Op: op} }

func evSession(op string, sh pkcs11.SessionHandle) auditEvent {
	return auditEvent{Op: op, Session: sh}
}

func evMech(op string, sh pkcs11.SessionHandle, m uint) auditEvent {
	return auditEvent{Op: op, Session: sh, Mechanism: m, HasMech: true, FIPS: mechFIPS(m)}
}

// auditLocked records ev with the outcome of opErr. It returns opErr, or,
// when the operation succeeded but the record could not be written,
// CKR_GENERAL_ERROR: an operation that cannot be audited is not reported as
// done. The caller holds c.mu.
func (c *Ctx) auditLocked(ev auditEvent, opErr error) error {
	ev.RV = rvOf(opErr)
	if err := c.audit.append(ev); err != nil && opErr == nil {
		return errGeneral
	}
	return opErr
}

// audited is auditLocked for callers that do not hold c.mu.
func (c *Ctx) audited(ev auditEvent, opErr error) error {
	c.mu.RLock()
	a := c.audit
	c.mu.RUnlock()
	ev.RV = rvOf(opErr)
	if a == nil {
		return opErr
	}
	if err := a.append(ev); err != nil && opErr == nil {
		return errGeneral
	}
	return opErr
}

// openAudit opens the configured audit log; until hsm/audit is wired in,
// events are dropped.
func openAudit(s settings) (auditSink, error) { return nopAudit{}, nil }
