package softhsmtest

import (
	"fmt"

	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// Token is a token a fixture initialised.
type Token struct {
	Label string
	Slot  uint

	f *Fixture
}

// initToken runs C_InitToken on the free slot and C_InitPIN as SO. It holds
// the environment lock: two parallel tests must not both pick the same free
// slot.
func initToken(f *Fixture, name string) (*Token, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	label := shared.uniqueLabel(name)
	m := f.lib
	slot, ok, err := p11.FreeSlot(m)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("SoftHSM presents no free slot")
	}
	if err := m.InitToken(slot, SOPIN, label); err != nil {
		return nil, p11.Wrap("C_InitToken", err)
	}
	if err := initUserPIN(m, slot); err != nil {
		return nil, err
	}
	return &Token{Label: label, Slot: slot, f: f}, nil
}

func initUserPIN(m p11.Module, slot uint) error {
	sh, err := m.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return p11.Wrap("C_OpenSession", err)
	}
	defer func() { _ = m.CloseSession(sh) }()
	if err := m.Login(sh, pkcs11.CKU_SO, SOPIN); err != nil {
		return p11.Wrap("C_Login(SO)", err)
	}
	defer func() { _ = m.Logout(sh) }()
	if err := m.InitPIN(sh, UserPIN); err != nil {
		return p11.Wrap("C_InitPIN", err)
	}
	return nil
}

// Module is the loaded library the token lives in.
func (tk *Token) Module() p11.Module { return tk.f.lib }

// P11 selects the token through p11.FindToken, as production code does.
func (tk *Token) P11() p11.Token {
	tk.f.t.Helper()
	t, err := p11.FindToken(tk.f.lib, tk.Label, "")
	if err != nil {
		tk.f.t.Fatalf("softhsmtest: %v", err)
	}
	return t
}

// Do runs fn in a read-write session logged in as user, then logs out and
// closes the session. SoftHSM shares the login state between all sessions
// of a token in one process, so leaving a session logged in would make
// "no PIN" or "wrong PIN" tests on this token see a logged-in token.
func (tk *Token) Do(fn func(s *p11.Session)) {
	tk.f.t.Helper()
	s, err := p11.OpenSession(tk.f.lib, tk.P11(), true)
	if err != nil {
		tk.f.t.Fatalf("softhsmtest: %v", err)
	}
	defer s.Close()
	if err := s.Login(pkcs11.CKU_USER, UserPIN); err != nil {
		tk.f.t.Fatalf("softhsmtest: %v", err)
	}
	defer func() { _ = s.M.Logout(s.H) }()
	fn(s)
}
