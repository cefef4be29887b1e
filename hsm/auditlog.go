package hsm

import (
	"sync/atomic"

	"github.com/craton-co/craton/hsm/audit"
	"github.com/miekg/pkcs11"
)

// auditEvent is one audited call, independent of the audit package's
// encoding so that the engine's call sites stay small.
type auditEvent struct {
	Op        string // "Login", "Sign", "SelfTest", "POST", ...
	Session   pkcs11.SessionHandle
	Slot      uint
	UserType  uint
	Mechanism uint
	FIPS      bool
	Length    int // GenerateRandom length, generated key length, POST failed count
	Object    pkcs11.ObjectHandle
	TestNum   int
	TestName  string
	Note      string
	RV        uint // CKR_OK on success
}

// auditSink writes events durably (append returns after fsync) and is safe
// for concurrent use.
type auditSink interface {
	append(ev auditEvent) error
	close() error
}

type nopAudit struct{}

func (nopAudit) append(auditEvent) error { return nil }
func (nopAudit) close() error            { return nil }

// logSink writes to an hsm/audit log (a file, or memory when
// audit.enabled=false).
type logSink struct{ l *audit.Log }

func (s logSink) append(ev auditEvent) error {
	return s.l.Append(audit.Event{Session: uint64(ev.Session), Op: ev.cachedOperation(), RV: ev.RV})
}

// mechOps caches the audit operations of the per-mechanism variants (Sign,
// Verify, Encrypt, Decrypt, WrapKey, UnwrapKey, DeriveKey): building one
// allocates its argument list (and boxes the mechanism), on every audited
// C_Sign/C_Encrypt/... A slot holds the last operation built for its hash;
// an Operation is never modified once built, so it is shared as is.
var mechOps [256]atomic.Pointer[mechOpEntry]

type mechOpEntry struct {
	name string
	mech uint
	fips bool
	op   audit.Operation
}

// cachedOperation is operation, from mechOps for the per-mechanism variants.
func (ev auditEvent) cachedOperation() audit.Operation {
	switch ev.Op {
	case "Sign", "Verify", "Encrypt", "Decrypt", "WrapKey", "UnwrapKey", "DeriveKey":
	default:
		return ev.operation()
	}
	m := ev.Mechanism
	slot := &mechOps[(uint(len(ev.Op))*31^uint(ev.Op[0])^m^m>>8)&255]
	if e := slot.Load(); e != nil && e.mech == m && e.fips == ev.FIPS && e.name == ev.Op {
		return e.op
	}
	op := ev.operation()
	if enc, err := op.Encoded(); err == nil {
		op = enc // Append copies its JSON (a bad one is left to Append to refuse)
	}
	slot.Store(&mechOpEntry{name: ev.Op, mech: m, fips: ev.FIPS, op: op})
	return op
}

func (s logSink) close() error { return s.l.Close() }

// operation maps an event to the audit log's operation variant.
func (ev auditEvent) operation() audit.Operation {
	m, f := ev.Mechanism, ev.FIPS
	switch ev.Op {
	case "Initialize":
		return audit.Initialize()
	case "Finalize":
		return audit.Finalize()
	case "Login":
		return audit.Login(ev.UserType)
	case "Logout":
		return audit.Logout()
	case "InitToken":
		return audit.InitToken(ev.Slot)
	case "InitPIN":
		return audit.InitPIN(ev.Slot)
	case "SetPIN":
		return audit.SetPIN()
	case "CreateObject":
		return audit.CreateObject()
	case "DestroyObject":
		return audit.DestroyObject()
	case "GenerateKey":
		return audit.GenerateKey(m, uint(ev.Length), f)
	case "GenerateKeyPair":
		return audit.GenerateKeyPair(m, uint(ev.Length), f)
	case "Sign":
		return audit.Sign(m, f)
	case "Verify":
		return audit.VerifySignature(m, f)
	case "Encrypt":
		return audit.Encrypt(m, f)
	case "Decrypt":
		return audit.Decrypt(m, f)
	case "WrapKey":
		return audit.WrapKey(m, f)
	case "UnwrapKey":
		return audit.UnwrapKey(m, f)
	case "DeriveKey":
		return audit.DeriveKey(m, f)
	case "GenerateRandom":
		return audit.GenerateRandom(uint(ev.Length))
	case "SelfTest":
		return audit.SelfTest(uint(ev.TestNum), ev.TestName, ev.RV == 0)
	case "POST":
		return audit.POST(ev.RV == 0, uint(ev.Length))
	}
	panic("hsm: no audit operation for " + ev.Op)
}

func evSystem(op string) auditEvent { return auditEvent{Op: op} }

func evSession(op string, sh pkcs11.SessionHandle) auditEvent {
	return auditEvent{Op: op, Session: sh}
}

func evMech(op string, sh pkcs11.SessionHandle, m uint) auditEvent {
	return auditEvent{Op: op, Session: sh, Mechanism: m, FIPS: cachedFIPS(m)}
}

// fipsSlots caches mechFIPS (a binary search of the mechanism table, which
// never changes) for evMech, which runs on every audited call: a slot holds
// (m+1)<<1 | fips, 0 when empty; a collision just searches again.
var fipsSlots [256]atomic.Uint64

func cachedFIPS(m uint) bool {
	if uint64(m) >= 1<<62 {
		return mechFIPS(m) // no room for the key: never in the table anyway
	}
	slot := &fipsSlots[(m^m>>8)&255]
	key := (uint64(m) + 1) << 1
	if v := slot.Load(); v&^1 == key {
		return v&1 == 1
	}
	f := mechFIPS(m)
	if f {
		slot.Store(key | 1)
	} else {
		slot.Store(key)
	}
	return f
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

// openAudit opens the configured audit log, or an in-memory one when
// auditing to a file is disabled. A log whose chain is broken is refused
// (Initialize fails with its error): the operator decides what to do with
// a tampered log, the engine does not silently start a new one.
func openAudit(s settings) (auditSink, error) {
	if !s.AuditEnabled || s.AuditPath == "" {
		return logSink{audit.NewMemory()}, nil
	}
	l, err := audit.Open(s.AuditPath)
	if err != nil {
		return nil, err
	}
	return logSink{l}, nil
}
