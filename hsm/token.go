package hsm

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/craton-co/craton/hsm/store"
	"github.com/miekg/pkcs11"
)

// Identity strings (reference §0, §9.1).
const (
	manufacturer      = "Craton HSM Project"
	libraryDesc       = "Craton HSM Software HSM"
	slotDesc          = "Craton HSM Virtual Slot"
	tokenModel        = "Craton HSM"
	userNone     uint = ^uint(0)
)

// token is one slot's token. Fields other than authMu and epoch are guarded
// by Ctx.mu.
type token struct {
	slot  uint
	st    *store.TokenState
	login uint   // userNone, CKU_SO or CKU_USER: shared by all sessions
	omk   []byte // object master key, in memory while someone is logged in

	// authMu serialises PIN operations on this token so that the slow PBKDF2
	// runs outside Ctx.mu without two logins racing.
	authMu sync.Mutex
	// epoch changes at every login and logout; an operation started in
	// another epoch is void (its key may no longer be accessible).
	epoch atomic.Uint64
}

func (t *token) initialized() bool { return t.st.Initialized }

func (t *token) userPINSet() bool { return t.st.User.Set() }

// loadTokens reads every slot's state, reserves the handles of all stored
// objects and loads the public ones. Caller holds c.mu.
func (c *Ctx) loadTokens() error {
	for i := 0; i < c.set.SlotCount; i++ {
		st, err := c.st.LoadToken(uint(i))
		if err != nil {
			return damagedStore(c.st.Path(), err)
		}
		if st == nil {
			st = &store.TokenState{}
		}
		t := &token{slot: uint(i), st: st, login: userNone}
		c.tokens = append(c.tokens, t)
		ids, err := c.st.ObjectIDs(t.slot)
		if err != nil {
			return damagedStore(c.st.Path(), err)
		}
		for _, id := range ids {
			c.reserved[uint32(id)] = true
		}
		if len(st.PublicKey) == store.KeySize {
			c.loadObjectsLocked(t, store.SealedPublic, st.PublicKey)
		}
	}
	return nil
}

func (c *Ctx) tokenOf(slot uint) (*token, error) {
	if slot >= uint(len(c.tokens)) {
		return nil, errSlotID
	}
	return c.tokens[slot], nil
}

// GetInfo returns the library identity.
func (c *Ctx) GetInfo() (pkcs11.Info, error) {
	if err := c.rlock(); err != nil {
		return pkcs11.Info{}, err
	}
	defer c.mu.RUnlock()
	return pkcs11.Info{
		CryptokiVersion:    pkcs11.Version{Major: 3, Minor: 0},
		ManufacturerID:     manufacturer,
		LibraryDescription: libraryDesc,
		LibraryVersion:     pkcs11.Version{Major: 0, Minor: 1},
	}, nil
}

// GetSlotList lists the slots; every slot always has a token present.
func (c *Ctx) GetSlotList(tokenPresent bool) ([]uint, error) {
	if err := c.rlock(); err != nil {
		return nil, err
	}
	defer c.mu.RUnlock()
	ids := make([]uint, len(c.tokens))
	for i := range ids {
		ids[i] = uint(i)
	}
	return ids, nil
}

// GetSlotInfo describes a slot.
func (c *Ctx) GetSlotInfo(slotID uint) (pkcs11.SlotInfo, error) {
	if err := c.rlock(); err != nil {
		return pkcs11.SlotInfo{}, err
	}
	defer c.mu.RUnlock()
	if _, err := c.tokenOf(slotID); err != nil {
		return pkcs11.SlotInfo{}, err
	}
	return pkcs11.SlotInfo{
		SlotDescription: slotDesc,
		ManufacturerID:  manufacturer,
		Flags:           pkcs11.CKF_TOKEN_PRESENT,
		HardwareVersion: pkcs11.Version{Major: 0, Minor: 1},
		FirmwareVersion: pkcs11.Version{Major: 0, Minor: 1},
	}, nil
}

// GetTokenInfo describes a slot's token, including the PIN counter flags.
func (c *Ctx) GetTokenInfo(slotID uint) (pkcs11.TokenInfo, error) {
	if err := c.rlock(); err != nil {
		return pkcs11.TokenInfo{}, err
	}
	defer c.mu.RUnlock()
	t, err := c.tokenOf(slotID)
	if err != nil {
		return pkcs11.TokenInfo{}, err
	}
	all, rw := c.sessionCounts(t.slot)
	label := c.set.Label
	if t.initialized() {
		label = t.st.Label
	}
	return pkcs11.TokenInfo{
		Label:              label,
		ManufacturerID:     manufacturer,
		Model:              tokenModel,
		SerialNumber:       c.set.Serial,
		Flags:              c.tokenFlags(t),
		MaxSessionCount:    uint(c.set.MaxSessions),
		SessionCount:       all,
		MaxRwSessionCount:  uint(c.set.MaxRWSessions),
		RwSessionCount:     rw,
		MaxPinLen:          uint(c.set.PINMax),
		MinPinLen:          uint(c.set.PINMin),
		TotalPublicMemory:  pkcs11.CK_UNAVAILABLE_INFORMATION,
		FreePublicMemory:   pkcs11.CK_UNAVAILABLE_INFORMATION,
		TotalPrivateMemory: pkcs11.CK_UNAVAILABLE_INFORMATION,
		FreePrivateMemory:  pkcs11.CK_UNAVAILABLE_INFORMATION,
		HardwareVersion:    pkcs11.Version{Major: 0, Minor: 1},
		FirmwareVersion:    pkcs11.Version{Major: 0, Minor: 1},
		UTCTime:            strings.Repeat(" ", 16),
	}, nil
}

func (c *Ctx) tokenFlags(t *token) uint {
	f := uint(pkcs11.CKF_RNG | pkcs11.CKF_LOGIN_REQUIRED)
	if !t.initialized() {
		return f
	}
	f |= pkcs11.CKF_TOKEN_INITIALIZED
	f |= pinFlags(&t.st.SO, c.set.MaxFailedLogins, pkcs11.CKF_SO_PIN_COUNT_LOW, pkcs11.CKF_SO_PIN_FINAL_TRY, pkcs11.CKF_SO_PIN_LOCKED)
	if t.userPINSet() {
		f |= pkcs11.CKF_USER_PIN_INITIALIZED
		f |= pinFlags(t.st.User, c.set.MaxFailedLogins, pkcs11.CKF_USER_PIN_COUNT_LOW, pkcs11.CKF_USER_PIN_FINAL_TRY, pkcs11.CKF_USER_PIN_LOCKED)
	}
	return f
}

func pinFlags(p *store.PINRecord, max int, low, final, locked uint) uint {
	switch {
	case p.Locked:
		return locked
	case p.Failed > 0 && p.Failed >= max-1:
		return low | final
	case p.Failed > 0:
		return low
	}
	return 0
}

// InitToken initialises (or re-initialises) one slot's token. On a token
// that is already initialised the SO PIN is checked first, and nothing is
// touched when it is wrong (unlike Craton, reference "differ" item 8). Only
// this slot is wiped. Sessions must be closed (CKR_SESSION_EXISTS).
func (c *Ctx) InitToken(slotID uint, pin string, label string) error {
	if err := c.rlock(); err != nil {
		return err
	}
	t, err := c.tokenOf(slotID)
	c.mu.RUnlock()
	if err != nil {
		return err
	}
	label = strings.TrimRight(label, " \x00")
	if len(label) > 32 {
		return errArgumentsBad
	}
	t.authMu.Lock()
	defer t.authMu.Unlock()
	err = c.initToken(t, pin, label)
	return c.audited(auditEvent{Op: "InitToken", Slot: slotID}, err)
}

func (c *Ctx) initToken(t *token, pin, label string) error {
	if err := c.rlock(); err != nil {
		return err
	}
	all, _ := c.sessionCounts(t.slot)
	wasInit := t.initialized()
	so := t.st.SO
	c.mu.RUnlock()
	if all > 0 {
		return rvErr(pkcs11.CKR_SESSION_EXISTS)
	}
	if wasInit {
		if _, err := c.checkPIN(t, &so, pkcs11.CKU_SO, pin); err != nil {
			return err
		}
	} else if err := c.pinPolicy(pin); err != nil {
		return err
	}
	fresh, err := c.freshTokenState(pin, label, t.st.Generation+1)
	if err != nil {
		return err
	}
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	if all, _ := c.sessionCounts(t.slot); all > 0 {
		return rvErr(pkcs11.CKR_SESSION_EXISTS)
	}
	if err := c.st.ResetSlot(t.slot, fresh); err != nil {
		return asGeneral("reset slot", err)
	}
	c.dropSlotObjectsLocked(t.slot)
	t.st, t.login, t.omk = fresh, userNone, nil
	t.epoch.Add(1)
	return nil
}

// freshTokenState builds the state of a newly initialised token: a new
// public-object key and object master key, the OMK wrapped under the SO
// PIN's KEK, no user PIN.
func (c *Ctx) freshTokenState(soPIN, label string, gen uint64) (*store.TokenState, error) {
	pk, err := store.RandomKey()
	if err != nil {
		return nil, errGeneral
	}
	omk, err := store.RandomKey()
	if err != nil {
		return nil, errGeneral
	}
	so, err := c.newPINRecord(soPIN, omk, purposeSO)
	if err != nil {
		return nil, err
	}
	return &store.TokenState{Initialized: true, Label: label, SO: *so, PublicKey: pk, Generation: gen, SplitMaterial: true}, nil
}
