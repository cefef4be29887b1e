package hsm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"sync/atomic"

	"github.com/craton-co/craton/hsm/mech"
	"github.com/craton-co/craton/hsm/store"
	"github.com/miekg/pkcs11"
)

// object is one PKCS#11 object in memory. attrs is never mutated once the
// object is in Ctx.objects: C_SetAttributeValue installs a new map under the
// write lock, so readers may keep the map they saw under the read lock.
type object struct {
	h     pkcs11.ObjectHandle
	slot  uint
	owner pkcs11.SessionHandle // creating session of a session object; 0 for token objects
	seq   uint64               // creation order
	attrs attrMap
	// private caches CKA_PRIVATE (which never changes on an object): the
	// visibility check of every find touches it.
	private bool

	key    atomic.Pointer[mech.Key] // parsed key material, cached on first use
	nonces *nonceState              // AES-GCM nonce counter, for secret keys
}

func (o *object) isToken() bool   { return o.owner == 0 }
func (o *object) isPrivate() bool { return o.private }
func (o *object) class() uint     { return o.attrs.ulong(pkcs11.CKA_CLASS) }
func (o *object) keyType() uint   { return o.attrs.ulong(pkcs11.CKA_KEY_TYPE) }

// visibleTo reports whether s may see o: same slot, and private objects only
// while the user is logged in. Caller holds Ctx.mu.
func (o *object) visibleTo(s *session) bool {
	return o.slot == s.slot && (!o.isPrivate() || s.userLoggedIn())
}

// objectFor returns object oh if s may see it, else CKR_OBJECT_HANDLE_INVALID
// (an invisible object does not exist for the caller). Caller holds Ctx.mu.
func (c *Ctx) objectFor(s *session, oh pkcs11.ObjectHandle) (*object, error) {
	o := c.objects[oh]
	if o == nil || !o.visibleTo(s) {
		return nil, errObjectHandle
	}
	return o, nil
}

// parsedKey returns o's key material as mech wants it, parsing it once.
func (o *object) parsedKey(attrs attrMap) (*mech.Key, error) {
	if k := o.key.Load(); k != nil {
		return k, nil
	}
	var k *mech.Key
	if o.class() == pkcs11.CKO_SECRET_KEY {
		// mech.ParseKey caches the AES key schedule and GCM instance on the
		// Key (no aes.NewCipher/cipher.NewGCM per *Init); a value it
		// refuses keeps the plain literal, so the operation reports what it
		// always did (e.g. CKR_KEY_SIZE_RANGE).
		kt := attrs.ulong(pkcs11.CKA_KEY_TYPE)
		var err error
		if k, err = mech.ParseKey(pkcs11.CKO_SECRET_KEY, kt, attrs); err != nil {
			k = &mech.Key{Class: pkcs11.CKO_SECRET_KEY, KeyType: kt, Secret: attrs[pkcs11.CKA_VALUE]}
		}
	} else {
		var err error
		if k, err = mech.ParseKey(attrs.ulong(pkcs11.CKA_CLASS), attrs.ulong(pkcs11.CKA_KEY_TYPE), attrs); err != nil {
			return nil, asRV(err)
		}
	}
	o.key.Store(k)
	return k, nil
}

// Record encoding: "CRA1" ‖ u32 count ‖ count × (u64 type ‖ u32 len ‖ value),
// sorted by type, big-endian. The whole record is then sealed.
const recMagic = "CRA1"

func encodeRecord(m attrMap) []byte {
	types := make([]uint, 0, len(m))
	for t := range m {
		types = append(types, t)
	}
	sort.Slice(types, func(i, j int) bool { return types[i] < types[j] })
	b := binary.BigEndian.AppendUint32([]byte(recMagic), uint32(len(types)))
	for _, t := range types {
		b = binary.BigEndian.AppendUint64(b, uint64(t))
		b = binary.BigEndian.AppendUint32(b, uint32(len(m[t])))
		b = append(b, m[t]...)
	}
	return b
}

var errBadRecord = errors.New("record does not decode")

func decodeRecord(b []byte) (attrMap, error) {
	if len(b) < 8 || string(b[:4]) != recMagic {
		return nil, errBadRecord
	}
	n := binary.BigEndian.Uint32(b[4:])
	b = b[8:]
	m := make(attrMap, n)
	for i := uint32(0); i < n; i++ {
		if len(b) < 12 {
			return nil, errBadRecord
		}
		t, l := binary.BigEndian.Uint64(b), binary.BigEndian.Uint32(b[8:])
		b = b[12:]
		if uint64(len(b)) < uint64(l) {
			return nil, errBadRecord
		}
		m[uint(t)] = append([]byte{}, b[:l]...)
		b = b[l:]
	}
	if len(b) != 0 {
		return nil, errBadRecord
	}
	return m, nil
}

// persistLocked writes a token object's record (a no-op for session
// objects). Private records need the OMK, i.e. a logged-in user.
func (c *Ctx) persistLocked(o *object, attrs attrMap) error {
	if !o.isToken() {
		return nil
	}
	t := c.tokens[o.slot]
	kind, key := store.SealedPublic, t.st.PublicKey
	if attrs.bool(pkcs11.CKA_PRIVATE) {
		kind, key = store.SealedPrivate, t.omk
		if t.login != pkcs11.CKU_USER || len(key) != store.KeySize {
			return errNotLoggedIn
		}
	}
	sealed, err := store.Seal(key, kind, o.slot, uint64(o.h), encodeRecord(attrs))
	if err != nil {
		return errGeneral
	}
	return asGeneral("put object", c.st.PutObject(o.slot, uint64(o.h), sealed))
}

// addLocked publishes a new object.
func (c *Ctx) addLocked(o *object) {
	c.seq++
	o.seq = c.seq
	o.private = o.attrs.bool(pkcs11.CKA_PRIVATE)
	delete(c.reserved, uint32(o.h))
	c.objects[o.h] = o
	c.index.add(o)
}

// forgetLocked removes an object from memory (not from the store).
func (c *Ctx) forgetLocked(o *object) {
	c.index.remove(o)
	delete(c.objects, o.h)
}

// loadObjectsLocked decrypts and publishes the records of t sealed with
// kind under key. A record that fails authentication is reported in
// StoreProblems and skipped; the others load.
func (c *Ctx) loadObjectsLocked(t *token, kind store.KeyKind, key []byte) {
	err := c.st.ForEachObject(t.slot, func(id uint64, sealed []byte) error {
		if store.Kind(sealed) != kind {
			return nil
		}
		attrs, err := openRecord(key, t.slot, id, sealed)
		if err != nil {
			c.problem(err)
			return nil
		}
		c.addLocked(&object{h: pkcs11.ObjectHandle(id), slot: t.slot, attrs: attrs, nonces: newNonceState(c, t.slot, id, true)})
		return nil
	})
	if err != nil {
		c.problem(fmt.Errorf("store: reading slot %d: %w", t.slot, err))
	}
}

func openRecord(key []byte, slot uint, id uint64, sealed []byte) (attrMap, error) {
	plain, err := store.Unseal(key, slot, id, sealed)
	if err != nil {
		return nil, err
	}
	attrs, err := decodeRecord(plain)
	if err != nil {
		return nil, fmt.Errorf("store: slot %d object %d: %w", slot, id, err)
	}
	return attrs, nil
}

// problem records a store problem once.
func (c *Ctx) problem(err error) {
	for _, p := range c.problems {
		if p.Error() == err.Error() {
			return
		}
	}
	c.problems = append(c.problems, err)
}

// unloadPrivateLocked removes the private token objects of slot from memory
// at logout; their handles stay reserved for the next login.
func (c *Ctx) unloadPrivateLocked(slot uint) {
	for h, o := range c.objects {
		if o.slot == slot && o.isToken() && o.isPrivate() {
			c.forgetLocked(o)
			c.reserved[uint32(h)] = true
		}
	}
}

// dropSlotObjectsLocked forgets every object of slot (C_InitToken).
func (c *Ctx) dropSlotObjectsLocked(slot uint) {
	for _, o := range c.objects {
		if o.slot == slot {
			c.forgetLocked(o)
		}
	}
}
