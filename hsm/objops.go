package hsm

import (
	"bytes"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/hsm/store"
	"github.com/miekg/pkcs11"
)

// checkWritable enforces who may hold an object with these attributes:
// token objects need a read-write session, private objects a logged-in
// user, and a public token key with key material the OMK (a user or SO
// login), which seals its material (see sealObject). Caller holds Ctx.mu.
func checkWritable(s *session, m attrMap) error {
	token := m.bool(pkcs11.CKA_TOKEN)
	if token && !s.rw() {
		return errReadOnlySession
	}
	if m.bool(pkcs11.CKA_PRIVATE) && !s.userLoggedIn() {
		return errNotLoggedIn
	}
	if token && len(s.tok.omk) != store.KeySize {
		if _, mat := splitMaterial(m); mat != nil {
			return errNotLoggedIn
		}
	}
	return nil
}

// newObjectLocked allocates, persists (token objects) and publishes an
// object with attributes m created through session s.
func (c *Ctx) newObjectLocked(s *session, m attrMap) (*object, error) {
	return c.newObjectListLocked(s, m, nil)
}

// newObjectListLocked is newObjectLocked for an object whose compact
// attribute list al was built beforehand (the KEM shared-secret keys,
// publishKEMFromBase); al must hold what newAttrList(m) would. m is still
// what checkWritable and, for a token object, persisting read. A nil al
// is built from m.
func (c *Ctx) newObjectListLocked(s *session, m attrMap, al attrList) (*object, error) {
	if err := checkWritable(s, m); err != nil {
		return nil, err
	}
	if al == nil {
		al = newAttrList(m)
	}
	o := &object{h: pkcs11.ObjectHandle(c.objHandles.alloc()), slot: s.slot, attrs: al, key: keySlot{ring: c.keys}}
	if !m.bool(pkcs11.CKA_TOKEN) {
		o.owner = s.h
	}
	o.nonces = newNonceState(c, s.slot, uint64(o.h), o.isToken())
	if err := c.persistLocked(o, m); err != nil {
		return nil, err
	}
	c.addLocked(o)
	return o, nil
}

// sessionRole returns s (checked) and whether the SO is logged in.
func (c *Ctx) sessionRole(sh pkcs11.SessionHandle) (*session, bool, error) {
	if err := c.rlock(); err != nil {
		return nil, false, err
	}
	defer c.mu.RUnlock()
	s, err := c.sessionLocked(sh)
	if err != nil {
		return nil, false, err
	}
	return s, s.tok.login == pkcs11.CKU_SO, nil
}

// CreateObject creates a data object, certificate or key from a template.
// Key material is validated (and public components derived) through mech.
func (c *Ctx) CreateObject(sh pkcs11.SessionHandle, temp []*pkcs11.Attribute) (pkcs11.ObjectHandle, error) {
	s, isSO, err := c.sessionRole(sh)
	if err != nil {
		return 0, err
	}
	tm, err := parseTemplate(temp)
	var m attrMap
	if err == nil {
		m, err = buildCreated(tm, isSO) // parsing keys may be slow: outside the lock
	}
	h, err := c.publish(s, m, err)
	return h, c.audited(auditEvent{Op: "CreateObject", Session: sh, Object: h}, err)
}

// publish adds a fully built object, unless building failed (prior).
func (c *Ctx) publish(s *session, m attrMap, prior error) (pkcs11.ObjectHandle, error) {
	if prior != nil {
		return 0, prior
	}
	if err := c.lock(); err != nil {
		return 0, err
	}
	defer c.mu.Unlock()
	if _, err := c.sessionLocked(s.h); err != nil {
		return 0, err
	}
	o, err := c.newObjectLocked(s, m)
	if err != nil {
		return 0, err
	}
	return o.h, nil
}

// CopyObject copies an object, applying a template of changeable
// attributes (CKA_TOKEN, CKA_PRIVATE, CKA_MODIFIABLE and what
// C_SetAttributeValue may change, one-way rules included).
func (c *Ctx) CopyObject(sh pkcs11.SessionHandle, oh pkcs11.ObjectHandle, temp []*pkcs11.Attribute) (pkcs11.ObjectHandle, error) {
	tm, err := parseTemplate(temp)
	if err != nil {
		return 0, err
	}
	if err := c.lock(); err != nil {
		return 0, err
	}
	defer c.mu.Unlock()
	s, o, err := c.sessionObject(sh, oh)
	if err != nil {
		return 0, err
	}
	if !o.attrs.bool(pkcs11.CKA_COPYABLE) {
		return 0, errActionProhibited
	}
	if err := o.materialErr(); err != nil {
		return 0, err // a copy would lack the material
	}
	cur := o.attrs.clone()
	if err := checkChange(cur, tm, true, s.tok.login == pkcs11.CKU_SO); err != nil {
		return 0, err
	}
	m := overlay(cur, tm)
	m[ck.CKA_UNIQUE_ID] = uniqueID()
	n, err := c.newObjectLocked(s, m)
	if err != nil {
		return 0, err
	}
	if k := o.key.Load(); k != nil {
		n.key.Store(k)
	}
	return n.h, nil
}

// sessionObject resolves a session and an object it may see; caller holds
// Ctx.mu.
func (c *Ctx) sessionObject(sh pkcs11.SessionHandle, oh pkcs11.ObjectHandle) (*session, *object, error) {
	s, err := c.sessionLocked(sh)
	if err != nil {
		return nil, nil, err
	}
	o, err := c.objectFor(s, oh)
	return s, o, err
}

// checkChange applies the rules for changing attributes of an existing
// object (C_SetAttributeValue, or C_CopyObject when copy is true). An
// attribute given with its current value is accepted as a no-op.
func checkChange(cur, tm attrMap, copy, isSO bool) error {
	allowed := attrsFor(cur.ulong(pkcs11.CKA_CLASS), cur.ulong(pkcs11.CKA_KEY_TYPE))
	for t, v := range tm {
		flags := attrTable[t].flags
		switch {
		case flags&fEngine != 0:
			return errAttrReadOnly
		case !allowed[t]:
			return errAttrTypeInvalid
		case flags&(fMaterial|fSecret) != 0:
			// Never a no-op, even when equal: success would confirm a
			// guessed secret value.
			return errAttrReadOnly
		case bytes.Equal(cur[t], v):
			continue
		case flags&fSOOnly != 0:
			if !isSO {
				return errAttrReadOnly
			}
		case flags&fOneWay != 0:
			if !oneWayOK(t, cur.bool(t), v[0] == 1) {
				return errAttrReadOnly
			}
		case flags&fSet != 0, copy && flags&fCopy != 0:
		default:
			return errAttrReadOnly
		}
	}
	return nil
}

// DestroyObject destroys an object (CKR_ACTION_PROHIBITED when it is not
// destroyable).
func (c *Ctx) DestroyObject(sh pkcs11.SessionHandle, oh pkcs11.ObjectHandle) error {
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	return c.auditLocked(auditEvent{Op: "DestroyObject", Session: sh, Object: oh}, c.destroyLocked(sh, oh))
}

func (c *Ctx) destroyLocked(sh pkcs11.SessionHandle, oh pkcs11.ObjectHandle) error {
	s, o, err := c.sessionObject(sh, oh)
	if err != nil {
		return err
	}
	switch {
	case o.isToken() && !s.rw():
		return errReadOnlySession
	case !o.attrs.bool(pkcs11.CKA_DESTROYABLE):
		return errActionProhibited
	}
	if o.isToken() {
		if err := c.st.DeleteObject(o.slot, uint64(o.h)); err != nil {
			return errGeneral
		}
	}
	c.forgetLocked(o)
	return nil
}

// GetObjectSize is the size of the object's stored record.
func (c *Ctx) GetObjectSize(sh pkcs11.SessionHandle, oh pkcs11.ObjectHandle) (uint, error) {
	if err := c.rlock(); err != nil {
		return 0, err
	}
	defer c.mu.RUnlock()
	_, o, err := c.sessionObject(sh, oh)
	if err != nil {
		return 0, err
	}
	return uint(len(encodeRecord(o.attrs.clone()))), nil
}

// AttrResult is one attribute of a C_GetAttributeValue call with its own
// outcome: RV is CKR_OK with Value set, or CKR_ATTRIBUTE_SENSITIVE /
// CKR_ATTRIBUTE_TYPE_INVALID with Value nil (the C layer then reports
// CK_UNAVAILABLE_INFORMATION as the length).
type AttrResult struct {
	Type  uint
	Value []byte
	RV    uint
}

// GetAttributeValueDetailed reads attributes with a CK_RV per attribute.
// The error is about the call itself (session, object, login).
func (c *Ctx) GetAttributeValueDetailed(sh pkcs11.SessionHandle, oh pkcs11.ObjectHandle, types []uint) ([]AttrResult, error) {
	if err := c.rlock(); err != nil {
		return nil, err
	}
	defer c.mu.RUnlock()
	_, o, err := c.sessionObject(sh, oh)
	if err != nil {
		return nil, err
	}
	out := make([]AttrResult, len(types))
	for i, t := range types {
		if o.mat != matLoaded && isMaterialAttr(o.class(), t) && attrsFor(o.class(), o.keyType())[t] {
			// The material is not in memory: sensitive stays
			// sensitive; a readable value needs it loaded.
			if !o.attrs.hidden(t) {
				return nil, o.materialErr()
			}
			out[i] = AttrResult{Type: t, RV: pkcs11.CKR_ATTRIBUTE_SENSITIVE}
			continue
		}
		out[i] = readAttr(o.attrs, t)
	}
	return out, nil
}

func readAttr(m attrList, t uint) AttrResult {
	v, ok := m.get(t)
	switch {
	case !ok:
		return AttrResult{Type: t, RV: pkcs11.CKR_ATTRIBUTE_TYPE_INVALID}
	case m.hidden(t):
		return AttrResult{Type: t, RV: pkcs11.CKR_ATTRIBUTE_SENSITIVE}
	}
	return AttrResult{Type: t, Value: append([]byte{}, v...)}
}

// GetAttributeValue reads attributes, miekg-style. When some cannot be
// read, every requested attribute is still returned — readable ones with
// their value, the others with a nil Value — alongside
// pkcs11.Error(CKR_ATTRIBUTE_SENSITIVE) (if any was sensitive) or
// CKR_ATTRIBUTE_TYPE_INVALID, as a C module fills the template.
func (c *Ctx) GetAttributeValue(sh pkcs11.SessionHandle, oh pkcs11.ObjectHandle, a []*pkcs11.Attribute) ([]*pkcs11.Attribute, error) {
	types := make([]uint, len(a))
	for i, at := range a {
		if at == nil {
			return nil, errArgumentsBad
		}
		types[i] = at.Type
	}
	res, err := c.GetAttributeValueDetailed(sh, oh, types)
	if err != nil {
		return nil, err
	}
	out := make([]*pkcs11.Attribute, len(res))
	var worst uint
	for i, r := range res {
		out[i] = &pkcs11.Attribute{Type: r.Type, Value: r.Value}
		if r.RV == pkcs11.CKR_ATTRIBUTE_SENSITIVE || (r.RV != 0 && worst == 0) {
			worst = r.RV
		}
	}
	if worst != 0 {
		return out, rvErr(worst)
	}
	return out, nil
}

// SetAttributeValue changes attributes of a modifiable object. All
// attributes are checked before any is applied; token objects are written
// to the store before the change is visible.
func (c *Ctx) SetAttributeValue(sh pkcs11.SessionHandle, oh pkcs11.ObjectHandle, a []*pkcs11.Attribute) error {
	tm, err := parseTemplate(a)
	if err != nil {
		return err
	}
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	s, o, err := c.sessionObject(sh, oh)
	if err != nil {
		return err
	}
	switch {
	case o.isToken() && !s.rw():
		return errReadOnlySession
	case !o.attrs.bool(pkcs11.CKA_MODIFIABLE):
		return errActionProhibited
	}
	cur := o.attrs.clone()
	if err := checkChange(cur, tm, false, s.tok.login == pkcs11.CKU_SO); err != nil {
		return err
	}
	m := overlay(cur, tm)
	if err := c.persistLocked(o, m); err != nil {
		return err
	}
	c.index.remove(o)
	o.attrs = newAttrList(m)
	c.index.add(o)
	return nil
}
