package hsm

import (
	"github.com/craton-co/craton/hsm/store"
	"github.com/miekg/pkcs11"
)

// Wrapping purposes of the OMK, bound as GCM additional data.
const (
	purposeSO   = "omk/so"
	purposeUser = "omk/user"
)

// pinPolicy applies the length and complexity rules (reference §9.2):
// length within [pin_min_length, pin_max_length] bytes, at least 3
// distinct bytes, and for printable-ASCII PINs at least two of the classes
// lower, upper, digit, other.
func (c *Ctx) pinPolicy(pin string) error {
	if len(pin) < c.set.PINMin || len(pin) > c.set.PINMax || len(pin) > 256 {
		return rvErr(pkcs11.CKR_PIN_LEN_RANGE)
	}
	distinct := map[byte]bool{}
	printable := true
	var classes [4]bool
	for i := 0; i < len(pin); i++ {
		b := pin[i]
		distinct[b] = true
		switch {
		case b < 0x20 || b > 0x7e:
			printable = false
		case b >= 'a' && b <= 'z':
			classes[0] = true
		case b >= 'A' && b <= 'Z':
			classes[1] = true
		case b >= '0' && b <= '9':
			classes[2] = true
		default:
			classes[3] = true
		}
	}
	n := 0
	for _, ok := range classes {
		if ok {
			n++
		}
	}
	if len(distinct) < 3 || (printable && n < 2) {
		return rvErr(pkcs11.CKR_PIN_INVALID)
	}
	return nil
}

// newPINRecord derives a KEK for pin under a fresh salt and wraps omk.
func (c *Ctx) newPINRecord(pin string, omk []byte, purpose string) (*store.PINRecord, error) {
	salt, err := store.RandomKey()
	if err != nil {
		return nil, errGeneral
	}
	kek, err := store.DeriveKEK(pin, salt, c.set.Iterations)
	if err != nil {
		return nil, errGeneral
	}
	wrapped, err := store.WrapKey(kek, omk, purpose)
	if err != nil {
		return nil, errGeneral
	}
	return &store.PINRecord{Salt: salt, Iterations: c.set.Iterations, Verifier: store.Verifier(kek), WrappedOMK: wrapped}, nil
}

// checkPIN verifies pin against snap (a copy of the role's record taken by
// the caller, who holds t.authMu) and updates the persistent failure
// counter: +1 on failure (locking at max_failed_logins), 0 on success. The
// PBKDF2 runs without Ctx.mu. Returns the KEK on success.
func (c *Ctx) checkPIN(t *token, snap *store.PINRecord, role uint, pin string) ([]byte, error) {
	if snap.Locked {
		return nil, rvErr(pkcs11.CKR_PIN_LOCKED)
	}
	kek, err := store.DeriveKEK(pin, snap.Salt, snap.Iterations)
	if err != nil {
		return nil, errGeneral
	}
	ok := store.CheckVerifier(kek, snap.Verifier)
	if err := c.lock(); err != nil {
		return nil, err
	}
	defer c.mu.Unlock()
	rec := t.pinRecord(role)
	if rec == nil {
		return nil, rvErr(pkcs11.CKR_USER_PIN_NOT_INITIALIZED)
	}
	if ok {
		if rec.Failed != 0 {
			rec.Failed = 0
			if err := c.st.SaveToken(t.slot, t.st); err != nil {
				return nil, asGeneral("save token state", err)
			}
		}
		return kek, nil
	}
	rec.Failed++
	if rec.Failed >= c.set.MaxFailedLogins {
		rec.Locked = true
	}
	if err := c.st.SaveToken(t.slot, t.st); err != nil {
		return nil, asGeneral("save token state", err)
	}
	return nil, rvErr(pkcs11.CKR_PIN_INCORRECT)
}

func (t *token) pinRecord(role uint) *store.PINRecord {
	if role == pkcs11.CKU_SO {
		return &t.st.SO
	}
	return t.st.User
}

// authSession returns sh's session with its token's authMu held, which
// serialises the token's login state changes (login, logout, PIN changes)
// without holding c.mu across PBKDF2; unlock releases it.
func (c *Ctx) authSession(sh pkcs11.SessionHandle) (s *session, unlock func(), err error) {
	if err := c.rlock(); err != nil {
		return nil, nil, err
	}
	s, err = c.sessionLocked(sh)
	c.mu.RUnlock()
	if err != nil {
		return nil, nil, err
	}
	s.tok.authMu.Lock()
	return s, s.tok.authMu.Unlock, nil
}

func purposeOf(role uint) string {
	if role == pkcs11.CKU_SO {
		return purposeSO
	}
	return purposeUser
}

// Login logs the token of sh's slot in as CKU_SO or CKU_USER (PKCS#11
// §5.6 state rules, reference §9.3). A user login unlocks the object master
// key and loads the private token objects; a user or SO login loads the key
// material of public key objects (loadMaterialLocked).
func (c *Ctx) Login(sh pkcs11.SessionHandle, userType uint, pin string) error {
	s, unlock, err := c.authSession(sh)
	if err != nil {
		return err
	}
	defer unlock()
	err = c.login(s, userType, pin)
	return c.audited(auditEvent{Op: "Login", Session: sh, UserType: userType}, err)
}

func (c *Ctx) login(s *session, role uint, pin string) error {
	snap, err := c.loginPrecheck(s, role)
	if err != nil {
		return err
	}
	kek, err := c.checkPIN(s.tok, &snap, role, pin)
	if err != nil {
		return err
	}
	omk, err := store.UnwrapKey(kek, snap.WrappedOMK, purposeOf(role))
	if err != nil {
		return errGeneral // verifier matched but the OMK does not open: damaged state
	}
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	if _, err := c.sessionLocked(s.h); err != nil {
		return err
	}
	t := s.tok
	t.login, t.omk = role, omk
	t.epoch.Add(1)
	if role == pkcs11.CKU_USER {
		c.loadObjectsLocked(t, store.SealedPrivate, omk)
	}
	// Both roles unwrap the OMK: either login loads the material of the
	// CKA_PRIVATE=false keys (and migrates a format-1 token).
	c.loadMaterialLocked(t)
	return nil
}

// loginPrecheck applies the state rules and returns a copy of the role's
// PIN record.
func (c *Ctx) loginPrecheck(s *session, role uint) (store.PINRecord, error) {
	if err := c.rlock(); err != nil {
		return store.PINRecord{}, err
	}
	defer c.mu.RUnlock()
	t := s.tok
	switch {
	case role == pkcs11.CKU_CONTEXT_SPECIFIC:
		// No key of this engine has CKA_ALWAYS_AUTHENTICATE semantics.
		return store.PINRecord{}, errOpNotInit
	case role != pkcs11.CKU_SO && role != pkcs11.CKU_USER:
		return store.PINRecord{}, rvErr(pkcs11.CKR_USER_TYPE_INVALID)
	case !t.initialized():
		return store.PINRecord{}, rvErr(pkcs11.CKR_TOKEN_NOT_RECOGNIZED)
	case t.login == role:
		return store.PINRecord{}, rvErr(pkcs11.CKR_USER_ALREADY_LOGGED_IN)
	case t.login != userNone:
		return store.PINRecord{}, rvErr(pkcs11.CKR_USER_ANOTHER_ALREADY_LOGGED_IN)
	case role == pkcs11.CKU_SO && c.hasROSession(t.slot):
		return store.PINRecord{}, rvErr(pkcs11.CKR_SESSION_READ_ONLY_EXISTS)
	case role == pkcs11.CKU_USER && !t.userPINSet():
		return store.PINRecord{}, rvErr(pkcs11.CKR_USER_PIN_NOT_INITIALIZED)
	}
	return *t.pinRecord(role), nil
}

// Logout logs the token out: every session of the slot returns to a public
// state, operations in progress become void, the OMK is forgotten and the
// private token objects leave memory.
func (c *Ctx) Logout(sh pkcs11.SessionHandle) error {
	s, unlock, err := c.authSession(sh)
	if err != nil {
		return err
	}
	defer unlock()
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	if s.tok.login == userNone {
		err = errNotLoggedIn
	} else {
		c.logoutTokenLocked(s.tok)
	}
	return c.auditLocked(evSession("Logout", sh), err)
}

// logoutTokenLocked drops the login of t; caller holds c.mu.
func (c *Ctx) logoutTokenLocked(t *token) {
	if t.login == pkcs11.CKU_USER {
		c.unloadPrivateLocked(t.slot)
	}
	t.logoutLocked()
}

func (t *token) logoutLocked() {
	clear(t.omk)
	t.login, t.omk = userNone, nil
	t.epoch.Add(1)
}

// InitPIN (SO) sets a new user PIN. The OMK, unlocked by the SO login, is
// wrapped under the new PIN's KEK, so every object stays readable
// (reference "differ" item 9). It also clears a user PIN lock.
func (c *Ctx) InitPIN(sh pkcs11.SessionHandle, pin string) error {
	s, unlock, err := c.authSession(sh)
	if err != nil {
		return err
	}
	defer unlock()
	err = c.initPIN(s, pin)
	return c.audited(auditEvent{Op: "InitPIN", Session: sh, Slot: s.slot}, err)
}

func (c *Ctx) initPIN(s *session, pin string) error {
	c.mu.RLock()
	t := s.tok
	isSO, omk := t.login == pkcs11.CKU_SO, append([]byte(nil), t.omk...)
	rw := s.rw()
	c.mu.RUnlock()
	switch {
	case !isSO:
		return errNotLoggedIn
	case !rw:
		return errReadOnlySession
	case len(omk) != store.KeySize:
		return errGeneral
	}
	if err := c.pinPolicy(pin); err != nil {
		return err
	}
	rec, err := c.newPINRecord(pin, omk, purposeUser)
	if err != nil {
		return err
	}
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	t.st.User = rec
	return asGeneral("save token state", c.st.SaveToken(t.slot, t.st))
}

// SetPIN changes the PIN of the role logged in on sh's token, or the user
// PIN when nobody is logged in. A wrong old PIN counts toward lockout. The
// OMK is re-wrapped under the new PIN; objects are not re-encrypted.
func (c *Ctx) SetPIN(sh pkcs11.SessionHandle, oldpin string, newpin string) error {
	s, unlock, err := c.authSession(sh)
	if err != nil {
		return err
	}
	defer unlock()
	err = c.setPIN(s, oldpin, newpin)
	return c.audited(evSession("SetPIN", sh), err)
}

func (c *Ctx) setPIN(s *session, oldpin, newpin string) error {
	c.mu.RLock()
	t := s.tok
	role := t.login
	if role == userNone {
		role = pkcs11.CKU_USER
	}
	rec := t.pinRecord(role)
	var snap store.PINRecord
	if rec != nil {
		snap = *rec
	}
	rw := s.rw()
	c.mu.RUnlock()
	switch {
	case !rw:
		return errReadOnlySession
	case rec == nil:
		return rvErr(pkcs11.CKR_USER_PIN_NOT_INITIALIZED)
	}
	kek, err := c.checkPIN(t, &snap, role, oldpin)
	if err != nil {
		return err
	}
	if err := c.pinPolicy(newpin); err != nil {
		return err
	}
	omk, err := store.UnwrapKey(kek, snap.WrappedOMK, purposeOf(role))
	if err != nil {
		return errGeneral
	}
	fresh, err := c.newPINRecord(newpin, omk, purposeOf(role))
	clear(omk)
	if err != nil {
		return err
	}
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	if role == pkcs11.CKU_SO {
		t.st.SO = *fresh
	} else {
		t.st.User = fresh
	}
	return asGeneral("save token state", c.st.SaveToken(t.slot, t.st))
}
