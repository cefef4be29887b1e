package p11

import (
	"fmt"

	"github.com/miekg/pkcs11"
)

// Session is an open session on a selected token.
type Session struct {
	M     Module
	H     pkcs11.SessionHandle
	Token Token
}

// OpenSession opens a session (read-write when rw) on tok.
func OpenSession(m Module, tok Token, rw bool) (*Session, error) {
	flags := uint(pkcs11.CKF_SERIAL_SESSION)
	if rw {
		flags |= pkcs11.CKF_RW_SESSION
	}
	h, err := m.OpenSession(tok.Slot, flags)
	if err != nil {
		return nil, Wrap(fmt.Sprintf("C_OpenSession on token %q", tok.Label), err)
	}
	return &Session{M: m, H: h, Token: tok}, nil
}

// Login logs in once. It never retries: a second wrong attempt would count
// toward the token's lockout. An already-logged-in session is fine.
func (s *Session) Login(userType uint, pin string) error {
	err := s.M.Login(s.H, userType, pin)
	if err == nil || isRV(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
		return nil
	}
	who := "user"
	if userType == pkcs11.CKU_SO {
		who = "SO"
	}
	return Wrap(fmt.Sprintf("C_Login as %s on token %q", who, s.Token.Label), err)
}

// Close closes the session, ignoring errors (the session may already be gone).
func (s *Session) Close() { _ = s.M.CloseSession(s.H) }

// FindAll returns every object matching template, in the module's order.
func (s *Session) FindAll(template []*pkcs11.Attribute) ([]pkcs11.ObjectHandle, error) {
	if err := s.M.FindObjectsInit(s.H, template); err != nil {
		return nil, Wrap("C_FindObjectsInit", err)
	}
	var all []pkcs11.ObjectHandle
	for {
		hs, _, err := s.M.FindObjects(s.H, 256)
		if err != nil {
			_ = s.M.FindObjectsFinal(s.H)
			return nil, Wrap("C_FindObjects", err)
		}
		all = append(all, hs...)
		if len(hs) == 0 {
			break
		}
	}
	if err := s.M.FindObjectsFinal(s.H); err != nil {
		return nil, Wrap("C_FindObjectsFinal", err)
	}
	return all, nil
}
