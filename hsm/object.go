package hsm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/craton-co/craton/hsm/mech"
	"github.com/craton-co/craton/hsm/store"
	"github.com/miekg/pkcs11"
)

// object is one PKCS#11 object in memory. attrs is never mutated once the
// object is in Ctx.objects: C_SetAttributeValue installs a new list under
// the write lock, so readers may keep the list they saw under the read lock.
type object struct {
	h     pkcs11.ObjectHandle
	slot  uint
	owner pkcs11.SessionHandle // creating session of a session object; 0 for token objects
	seq   uint64               // creation order
	attrs attrList
	// private caches CKA_PRIVATE (which never changes on an object): the
	// visibility check of every find touches it.
	private bool

	key    keySlot     // parsed key material, cached on first use
	nonces *nonceState // AES-GCM nonce counter, for secret keys

	// mat says whether a token key object's secret attributes are in attrs
	// (see matState). Guarded by Ctx.mu.
	mat matState
}

// keyCacheSize is how many objects of a Ctx keep their parsed key at most.
// A parsed key costs ~1 KB (AES: key schedule and GCM) to ~5 KB (RSA with
// its precomputed values); a token of 10,000 keys, each used once (a
// migration proving every key), kept ~12 MB of them for good. Keys in use
// stay cached; an evicted key is parsed again from its attributes at its
// next use, as after a restart.
const keyCacheSize = 1024

// keySlot is an object's parsed key. Load and Store read like the
// atomic.Pointer it wraps; a stored key enters its Ctx's keyRing, which
// bounds how many are kept.
type keySlot struct {
	p      atomic.Pointer[mech.Key]
	used   atomic.Bool // loaded since the ring last came round to it
	ring   *keyRing    // nil: unbounded (never evicted)
	inRing bool        // guarded by ring.mu
}

func (s *keySlot) Load() *mech.Key {
	k := s.p.Load()
	if k != nil && !s.used.Load() {
		s.used.Store(true)
	}
	return k
}

func (s *keySlot) Store(k *mech.Key) {
	s.p.Store(k)
	if k != nil && s.ring != nil {
		s.ring.enter(s)
	}
}

// keyRing is a clock over the slots holding a parsed key: entering a slot
// when the ring is full drops the key of the next slot not used since the
// hand last passed it.
type keyRing struct {
	mu    sync.Mutex
	slots [keyCacheSize]*keySlot
	hand  int
}

func newKeyRing() *keyRing { return new(keyRing) }

func (r *keyRing) enter(s *keySlot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s.inRing {
		return
	}
	// Second chance, bounded (keys loaded while the hand turns).
	for range 2 * keyCacheSize {
		old := r.slots[r.hand]
		if old == nil || !old.used.Load() {
			break
		}
		old.used.Store(false)
		r.hand = (r.hand + 1) % keyCacheSize
	}
	if old := r.slots[r.hand]; old != nil {
		old.p.Store(nil)
		old.inRing = false
	}
	r.slots[r.hand] = s
	s.inRing = true
	r.hand = (r.hand + 1) % keyCacheSize
}

// matState is where the secret attributes (see isMaterialAttr) of a
// CKA_PRIVATE=false token key object are. Its public view is loaded at
// Initialize; its material needs the OMK, so it waits for a login.
type matState uint8

const (
	matLoaded  matState = iota // in attrs (or the object has no material)
	matPending                 // in the material record, not loaded yet: needs a login
	matLegacy                  // inside a format-1 public record: migrated at the first login
	matBroken                  // material record missing or failing authentication (StoreProblems)
)

// materialErr is the error of an operation that needs o's key material
// while it is not loaded. Caller holds Ctx.mu.
func (o *object) materialErr() error {
	switch o.mat {
	case matLoaded:
		return nil
	case matBroken:
		// The object is visible (its public view loaded), so
		// CKR_KEY_HANDLE_INVALID would contradict C_FindObjects; the
		// record's problem is in StoreProblems.
		return errGeneral
	}
	return errNotLoggedIn
}

// isMaterialAttr reports whether attribute t of a key object of class is
// secret key material: CKA_VALUE of secret and private keys and every
// attribute the engine hides as secret (RSA private components, CKA_SEED,
// the hybrid keys' EC private value). Such attributes are never sealed
// under the public-object key.
func isMaterialAttr(class, t uint) bool {
	if class != pkcs11.CKO_PRIVATE_KEY && class != pkcs11.CKO_SECRET_KEY {
		return false
	}
	return t == pkcs11.CKA_VALUE || attrTable[t].flags&fSecret != 0
}

// splitMaterial returns the attributes of m without key material, and the
// material (nil when m has none).
func splitMaterial(m attrMap) (pub, mat attrMap) {
	class := m.ulong(pkcs11.CKA_CLASS)
	pub = make(attrMap, len(m))
	for t, v := range m {
		if isMaterialAttr(class, t) {
			if mat == nil {
				mat = attrMap{}
			}
			mat[t] = v
		} else {
			pub[t] = v
		}
	}
	return pub, mat
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
// attrs is o.attrs as read under Ctx.mu.
func (o *object) parsedKey(al attrList) (*mech.Key, error) {
	if k := o.key.Load(); k != nil {
		return k, nil
	}
	attrs := al.clone() // mech reads a map; values are shared, not copied
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

// persistLocked writes a token object's records (a no-op for session
// objects). Private records need the OMK, i.e. a logged-in user; so does
// the material of a public key object (see sealObject). An object whose
// material is not loaded cannot be rewritten: its material is not at hand.
func (c *Ctx) persistLocked(o *object, attrs attrMap) error {
	if !o.isToken() {
		return nil
	}
	if err := o.materialErr(); err != nil {
		return err
	}
	w, err := sealObject(c.tokens[o.slot], o.h, attrs)
	if err != nil {
		return err
	}
	return asGeneral("put object", c.st.PutObjects(o.slot, []store.ObjectWrite{w}, nil))
}

// sealObject seals the records of token object h of t:
//   - CKA_PRIVATE=true: one record, the whole object under the OMK (needs
//     the user logged in);
//   - otherwise one record under the public-object key with every
//     attribute but key material, and, for a secret or private key, a
//     material record under the OMK with the rest. Sealing material needs
//     the OMK in memory (a user or SO login): the engine cannot protect key
//     material without a PIN-derived key, so it refuses
//     (CKR_USER_NOT_LOGGED_IN) rather than store it readable.
//
// Caller holds Ctx.mu.
func sealObject(t *token, h pkcs11.ObjectHandle, attrs attrMap) (store.ObjectWrite, error) {
	id := uint64(h)
	w := store.ObjectWrite{ID: id}
	var err error
	if attrs.bool(pkcs11.CKA_PRIVATE) {
		if t.login != pkcs11.CKU_USER || len(t.omk) != store.KeySize {
			return w, errNotLoggedIn
		}
		if w.Record, err = store.Seal(t.omk, store.SealedPrivate, t.slot, id, encodeRecord(attrs)); err != nil {
			return w, errGeneral
		}
		return w, nil
	}
	pub, mat := splitMaterial(attrs)
	if mat != nil {
		if len(t.omk) != store.KeySize {
			return w, errNotLoggedIn
		}
		if w.Material, err = store.Seal(t.omk, store.SealedMaterial, t.slot, id, encodeRecord(mat)); err != nil {
			return w, errGeneral
		}
	}
	if w.Record, err = store.Seal(t.st.PublicKey, store.SealedPublic, t.slot, id, encodeRecord(pub)); err != nil {
		return w, errGeneral
	}
	return w, nil
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
// StoreProblems and skipped; the others load. A public record of a secret
// or private key is its public view: the object is published with its
// material pending (matPending) until loadMaterialLocked runs; a format-1
// public record still holding the material (matLegacy) is published
// without it, waiting for the migration of the first login — or refused
// once the token has been migrated (someone with write access to the
// files could forge it under the public-object key).
func (c *Ctx) loadObjectsLocked(t *token, kind store.KeyKind, key []byte) {
	err := c.st.ForEachObject(t.slot, func(id uint64, sealed []byte) error {
		if k := store.Kind(sealed); k != kind {
			if kind == store.SealedPublic && k != store.SealedPrivate {
				// Neither pass would ever load it (a damaged kind byte).
				c.problem(fmt.Errorf("store: slot %d object %d (0x%x): record of unknown kind %d (damaged file)", t.slot, id, id, k))
			}
			return nil
		}
		attrs, err := openRecord(key, t.slot, id, sealed)
		if err != nil {
			c.problem(err)
			return nil
		}
		o := &object{h: pkcs11.ObjectHandle(id), slot: t.slot, nonces: newNonceState(c, t.slot, id, true), key: keySlot{ring: c.keys}}
		if kind == store.SealedPublic && attrs.isPrivateOrSecretKey() {
			pub, mat := splitMaterial(attrs)
			switch {
			case mat != nil && t.st.SplitMaterial:
				clearAttrs(mat)
				c.problem(fmt.Errorf("store: slot %d object %d (0x%x): public record holds key material; refused (the token stores key material only under the OMK)", t.slot, id, id))
				return nil
			case mat != nil:
				clearAttrs(mat)
				attrs, o.mat = pub, matLegacy
			default:
				o.mat = matPending
			}
		}
		o.attrs = newAttrList(attrs)
		c.addLocked(o)
		return nil
	})
	if err != nil {
		c.problem(fmt.Errorf("store: reading slot %d: %w", t.slot, err))
	}
}

// loadMaterialLocked runs when t's OMK becomes available (user or SO
// login): it migrates a format-1 token (migrateLocked), then decrypts the
// material records of the key objects whose material is pending and merges
// them into the objects. Material stays loaded until C_Finalize or
// C_InitToken, logouts included (see hsm/store/doc.go). A material record
// that fails authentication or is missing leaves its object visible but
// unusable (matBroken), reported in StoreProblems. Caller holds Ctx.mu.
func (c *Ctx) loadMaterialLocked(t *token) {
	if len(t.omk) != store.KeySize {
		return
	}
	if !t.st.SplitMaterial {
		c.migrateLocked(t)
	}
	pending := map[uint64]*object{}
	for h, o := range c.objects {
		if o.slot == t.slot && o.mat == matPending {
			pending[uint64(h)] = o
		}
	}
	if len(pending) == 0 {
		return
	}
	err := c.st.ForEachMaterial(t.slot, func(id uint64, sealed []byte) error {
		o := pending[id]
		if o == nil {
			return nil // an orphan (its public record failed): already reported
		}
		delete(pending, id)
		var mat attrMap
		err := error(&store.RecordError{Slot: t.slot, ID: id})
		if store.Kind(sealed) == store.SealedMaterial {
			mat, err = openRecord(t.omk, t.slot, id, sealed)
		}
		if err != nil {
			o.mat = matBroken
			c.problem(fmt.Errorf("%w (key material record: the key stays visible but cannot be used)", err))
			return nil
		}
		o.mergeMaterial(mat)
		return nil
	})
	if err != nil {
		c.problem(fmt.Errorf("store: reading key material of slot %d: %w", t.slot, err))
		return
	}
	for id, o := range pending {
		o.mat = matBroken
		c.problem(fmt.Errorf("store: slot %d object %d (0x%x): key material record missing (the key stays visible but cannot be used)", t.slot, id, id))
	}
}

// mergeMaterial installs the key material mat into o (a new attribute list,
// as attrs is never mutated in place). Caller holds Ctx.mu for writing.
func (o *object) mergeMaterial(mat attrMap) {
	class := o.class()
	n := o.attrs.clone()
	for t, v := range mat {
		if isMaterialAttr(class, t) {
			n[t] = v
		}
	}
	o.attrs, o.mat = newAttrList(n), matLoaded
	o.key.Store(nil)
}

// migrateLocked converts a format-1 token: every public record of a secret
// or private key (its material sealed under the public-object key) is
// rewritten as a public view under that key plus a material record under
// the OMK, and the token state is marked SplitMaterial, all in one
// transaction — a crash leaves the old or the new form, never a mix. The
// migrated objects' material then loads like any other. Caller holds
// Ctx.mu and t.omk is set.
func (c *Ctx) migrateLocked(t *token) {
	var ws []store.ObjectWrite
	err := c.st.ForEachObject(t.slot, func(id uint64, sealed []byte) error {
		if store.Kind(sealed) != store.SealedPublic {
			return nil
		}
		attrs, err := openRecord(t.st.PublicKey, t.slot, id, sealed)
		if err != nil {
			return nil // reported when the public objects loaded
		}
		if !attrs.isPrivateOrSecretKey() || attrs.bool(pkcs11.CKA_PRIVATE) {
			return nil
		}
		if _, mat := splitMaterial(attrs); mat == nil {
			return nil
		}
		w, err := sealObject(t, pkcs11.ObjectHandle(id), attrs)
		clearAttrs(attrs)
		if err != nil {
			return err
		}
		ws = append(ws, w)
		return nil
	})
	if err == nil {
		st := *t.st
		st.SplitMaterial = true
		err = c.st.PutObjects(t.slot, ws, &st)
	}
	if err != nil {
		c.problem(fmt.Errorf("store: slot %d: moving key material of public keys under the OMK failed (they stay unusable until a later login succeeds): %w", t.slot, err))
		return
	}
	t.st.SplitMaterial = true
	for _, w := range ws {
		if o := c.objects[pkcs11.ObjectHandle(w.ID)]; o != nil && o.mat == matLegacy {
			o.mat = matPending
		}
	}
}

// clearAttrs zeroes the values of m (key material no longer needed).
func clearAttrs(m attrMap) {
	for _, v := range m {
		clear(v)
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
