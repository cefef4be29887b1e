package hsm

import (
	"sync"

	"github.com/miekg/pkcs11"
)

// session is one open session. Its operation state is guarded by mu (a
// session is used by one goroutine at a time, but the engine does not trust
// that); everything else is immutable after OpenSession.
type session struct {
	h     pkcs11.SessionHandle
	slot  uint
	flags uint
	tok   *token

	mu  sync.Mutex
	ops [numOpKinds]*activeOp
}

func (s *session) rw() bool { return s.flags&pkcs11.CKF_RW_SESSION != 0 }

// state is the CKS_* state, derived from the token's login (shared by all
// sessions). Caller holds Ctx.mu.
func (s *session) state() uint {
	switch {
	case s.tok.login == pkcs11.CKU_SO:
		return pkcs11.CKS_RW_SO_FUNCTIONS
	case s.tok.login == pkcs11.CKU_USER && s.rw():
		return pkcs11.CKS_RW_USER_FUNCTIONS
	case s.tok.login == pkcs11.CKU_USER:
		return pkcs11.CKS_RO_USER_FUNCTIONS
	case s.rw():
		return pkcs11.CKS_RW_PUBLIC_SESSION
	}
	return pkcs11.CKS_RO_PUBLIC_SESSION
}

// userLoggedIn reports whether private objects are accessible. Caller
// holds Ctx.mu.
func (s *session) userLoggedIn() bool { return s.tok.login == pkcs11.CKU_USER }

func (c *Ctx) sessionLocked(sh pkcs11.SessionHandle) (*session, error) {
	s := c.sessions[sh]
	if s == nil {
		return nil, errSessionHandle
	}
	return s, nil
}

func (c *Ctx) sessionCounts(slot uint) (all, rw uint) {
	for _, s := range c.sessions {
		if s.slot == slot {
			all++
			if s.rw() {
				rw++
			}
		}
	}
	return all, rw
}

func (c *Ctx) hasROSession(slot uint) bool {
	for _, s := range c.sessions {
		if s.slot == slot && !s.rw() {
			return true
		}
	}
	return false
}

// OpenSession opens a session; CKF_SERIAL_SESSION is mandatory. New
// sessions share the token's login state.
func (c *Ctx) OpenSession(slotID uint, flags uint) (pkcs11.SessionHandle, error) {
	if err := c.lock(); err != nil {
		return 0, err
	}
	defer c.mu.Unlock()
	t, err := c.tokenOf(slotID)
	if err != nil {
		return 0, err
	}
	if flags&pkcs11.CKF_SERIAL_SESSION == 0 {
		return 0, rvErr(pkcs11.CKR_SESSION_PARALLEL_NOT_SUPPORTED)
	}
	rw := flags&pkcs11.CKF_RW_SESSION != 0
	all, rwN := c.sessionCounts(slotID)
	switch {
	case all >= uint(c.set.MaxSessions), rw && rwN >= uint(c.set.MaxRWSessions):
		return 0, rvErr(pkcs11.CKR_SESSION_COUNT)
	case !rw && t.login == pkcs11.CKU_SO:
		return 0, rvErr(pkcs11.CKR_SESSION_READ_WRITE_SO_EXISTS)
	}
	s := &session{h: pkcs11.SessionHandle(c.sessHandles.alloc()), slot: slotID, flags: flags, tok: t}
	c.sessions[s.h] = s
	return s.h, nil
}

// CloseSession closes a session, destroying its session objects; closing
// the last session of a token logs the token out.
func (c *Ctx) CloseSession(sh pkcs11.SessionHandle) error {
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	s, err := c.sessionLocked(sh)
	if err != nil {
		return err
	}
	c.closeSessionLocked(s)
	return nil
}

func (c *Ctx) closeSessionLocked(s *session) {
	delete(c.sessions, s.h)
	for _, o := range c.objects {
		if o.owner == s.h {
			c.forgetLocked(o)
		}
	}
	if all, _ := c.sessionCounts(s.slot); all == 0 && s.tok.login != userNone {
		c.logoutTokenLocked(s.tok)
	}
}

// CloseAllSessions closes every session of a slot.
func (c *Ctx) CloseAllSessions(slotID uint) error {
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	if _, err := c.tokenOf(slotID); err != nil {
		return err
	}
	for _, s := range c.sessions {
		if s.slot == slotID {
			c.closeSessionLocked(s)
		}
	}
	return nil
}

// GetSessionInfo reports a session's slot, state and flags.
func (c *Ctx) GetSessionInfo(sh pkcs11.SessionHandle) (pkcs11.SessionInfo, error) {
	if err := c.rlock(); err != nil {
		return pkcs11.SessionInfo{}, err
	}
	defer c.mu.RUnlock()
	s, err := c.sessionLocked(sh)
	if err != nil {
		return pkcs11.SessionInfo{}, err
	}
	return pkcs11.SessionInfo{SlotID: s.slot, State: s.state(), Flags: s.flags}, nil
}
