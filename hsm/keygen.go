package hsm

import (
	"crypto/rand"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/hsm/mech"
	"github.com/miekg/pkcs11"
)

// genKeyType is the key type a generation mechanism produces; a template's
// CKA_KEY_TYPE must agree.
func genKeyType(m uint, tm attrMap) (uint, error) {
	var kt uint
	switch m {
	case pkcs11.CKM_AES_KEY_GEN:
		kt = pkcs11.CKK_AES
	case pkcs11.CKM_GENERIC_SECRET_KEY_GEN:
		kt = pkcs11.CKK_GENERIC_SECRET
	case pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN:
		kt = pkcs11.CKK_RSA
	case pkcs11.CKM_EC_KEY_PAIR_GEN:
		kt = pkcs11.CKK_EC
	case ck.CKM_EC_EDWARDS_KEY_PAIR_GEN, ck.CKM_EDDSA:
		kt = ck.CKK_EC_EDWARDS
	default:
		var ok bool
		if kt, ok = pqGenKeyType(m); !ok {
			return 0, errMechInvalid
		}
	}
	if v, ok := tm[pkcs11.CKA_KEY_TYPE]; ok {
		if got, _ := decUlong(v); got != kt {
			return 0, errTmplInconsistent
		}
	}
	return kt, nil
}

// forceFromKey installs key material and what derives from it (value,
// modulus, exponents, curve, point, lengths) from derived into m, limited
// to m's attribute set: generated material always wins over a template.
func forceFromKey(m attrMap, derived map[uint][]byte) {
	allowed := attrsFor(m.ulong(pkcs11.CKA_CLASS), m.ulong(pkcs11.CKA_KEY_TYPE))
	for t, v := range derived {
		if allowed[t] && attrTable[t].flags&(fMaterial|fGenInput|fSecret) != 0 {
			m[t] = v
		}
	}
}

// keyOrigin sets the attributes that record where a key came from.
// local: generated on this token (CKA_LOCAL, CKA_KEY_GEN_MECHANISM, and
// ALWAYS_SENSITIVE / NEVER_EXTRACTABLE from the initial values); otherwise
// imported, unwrapped or derived (all false, mechanism unavailable).
func keyOrigin(m attrMap, local bool, genMech uint) {
	m[pkcs11.CKA_LOCAL] = encBool(local)
	m[pkcs11.CKA_KEY_GEN_MECHANISM] = encUlong(pkcs11.CK_UNAVAILABLE_INFORMATION)
	if local {
		m[pkcs11.CKA_KEY_GEN_MECHANISM] = encUlong(genMech)
	}
	if m.ulong(pkcs11.CKA_CLASS) == pkcs11.CKO_PUBLIC_KEY {
		return
	}
	m[pkcs11.CKA_ALWAYS_SENSITIVE] = encBool(local && m.bool(pkcs11.CKA_SENSITIVE))
	m[pkcs11.CKA_NEVER_EXTRACTABLE] = encBool(local && !m.bool(pkcs11.CKA_EXTRACTABLE))
}

// newKeyAttrs builds the attributes of an engine-made key of class/keyType
// from the caller's template and the key material.
func newKeyAttrs(op tmplOp, tm attrMap, class, keyType uint, isSO bool, material map[uint][]byte) (attrMap, error) {
	if err := checkNewTemplate(op, tm, class, keyType, isSO); err != nil {
		return nil, err
	}
	if err := checkParamSet(tm, material); err != nil {
		return nil, err
	}
	m := newObjectAttrs(class, keyType, tm)
	forceFromKey(m, material)
	m[ck.CKA_UNIQUE_ID] = uniqueID()
	if class == pkcs11.CKO_SECRET_KEY {
		v := m[pkcs11.CKA_VALUE]
		m[pkcs11.CKA_VALUE_LEN] = encUlong(uint(len(v)))
		m[pkcs11.CKA_CHECK_VALUE] = secretCheckValue(keyType, v)
	}
	return m, nil
}

// GenerateKey generates a secret key.
func (c *Ctx) GenerateKey(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, temp []*pkcs11.Attribute) (pkcs11.ObjectHandle, error) {
	mm, err := c.mechanism(m)
	if err != nil {
		return 0, err
	}
	ev := evMech("GenerateKey", sh, mm.Mechanism)
	h, err := c.generateKey(sh, mm, temp, &ev.Length)
	return h, c.audited(ev, err)
}

func (c *Ctx) generateKey(sh pkcs11.SessionHandle, mm *pkcs11.Mechanism, temp []*pkcs11.Attribute, keyLen *int) (pkcs11.ObjectHandle, error) {
	s, isSO, err := c.sessionRole(sh)
	if err != nil {
		return 0, err
	}
	tm, err := parseTemplate(temp)
	if err != nil {
		return 0, err
	}
	kt, err := genKeyType(mm.Mechanism, tm)
	if err != nil {
		return 0, err
	}
	if err := checkNewTemplate(opGenerate, tm, pkcs11.CKO_SECRET_KEY, kt, isSO); err != nil {
		return 0, err
	}
	if err := c.fipsGenerate(mm.Mechanism, tm); err != nil {
		return 0, err
	}
	k, err := mech.GenerateKey(mm, tm)
	if err != nil {
		return 0, asRV(err)
	}
	*keyLen = len(k.Secret) // bytes, as CKA_VALUE_LEN
	attrs, err := newKeyAttrs(opGenerate, tm, pkcs11.CKO_SECRET_KEY, kt, isSO, secretMaterial(k))
	if err != nil {
		return 0, err
	}
	keyOrigin(attrs, true, mm.Mechanism)
	finishKey(attrs)
	return c.publishKeys(s, k, attrs)
}

// keyBits is the audit key length of a key pair: modulus or curve bits.
func keyBits(k *mech.Key) int {
	switch {
	case k.PQ != nil:
		return k.PQ.AuditLen() // Craton: the parameter-set number
	case k.RSAPub != nil:
		return k.RSAPub.N.BitLen()
	case k.ECPub != nil:
		return k.ECPub.Curve.Params().BitSize
	case k.EdPub != nil:
		return 256
	}
	return 0
}

// secretMaterial is the CKA_VALUE of a secret key (plus what mech adds).
func secretMaterial(k *mech.Key) map[uint][]byte {
	if k.Class == pkcs11.CKO_SECRET_KEY {
		// What mech.KeyAttrs says of a secret key, without its copy of
		// the value (the object holds k.Secret itself, as below).
		return map[uint][]byte{pkcs11.CKA_VALUE: k.Secret, pkcs11.CKA_VALUE_LEN: encUlong(uint(len(k.Secret)))}
	}
	m := map[uint][]byte{}
	for t, v := range mech.KeyAttrs(k) {
		m[t] = v
	}
	m[pkcs11.CKA_VALUE] = k.Secret
	return m
}

// publishKeys publishes one or two new key objects atomically (a key pair
// appears whole or not at all), caching k on the object that holds it.
func (c *Ctx) publishKeys(s *session, k *mech.Key, attrs ...attrMap) (pkcs11.ObjectHandle, error) {
	hs, err := c.publishKeyList(s, k, attrs)
	if err != nil {
		return 0, err
	}
	return hs[0], nil
}

func (c *Ctx) publishKeyList(s *session, k *mech.Key, attrs []attrMap) ([]pkcs11.ObjectHandle, error) {
	if err := c.lock(); err != nil {
		return nil, err
	}
	defer c.mu.Unlock()
	if _, err := c.sessionLocked(s.h); err != nil {
		return nil, err
	}
	for _, m := range attrs {
		if err := checkWritable(s, m); err != nil {
			return nil, err
		}
	}
	var made []*object
	for _, m := range attrs {
		o, err := c.newObjectLocked(s, m)
		if err != nil {
			for _, done := range made { // undo the first half of a pair
				c.removeLocked(done)
			}
			return nil, err
		}
		made = append(made, o)
	}
	hs := make([]pkcs11.ObjectHandle, len(made))
	for i, o := range made {
		if o.class() != pkcs11.CKO_PUBLIC_KEY {
			o.key.Store(k)
		}
		hs[i] = o.h
	}
	return hs, nil
}

// removeLocked deletes an object from memory and store.
func (c *Ctx) removeLocked(o *object) {
	if o.isToken() {
		c.st.DeleteObject(o.slot, uint64(o.h))
	}
	c.forgetLocked(o)
}

// GenerateKeyPair generates a key pair; the public object gets the public
// half, the private object the whole key.
func (c *Ctx) GenerateKeyPair(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, public, private []*pkcs11.Attribute) (pkcs11.ObjectHandle, pkcs11.ObjectHandle, error) {
	mm, err := c.mechanism(m)
	if err != nil {
		return 0, 0, err
	}
	ev := evMech("GenerateKeyPair", sh, mm.Mechanism)
	pub, priv, err := c.generateKeyPair(sh, mm, public, private, &ev.Length)
	return pub, priv, c.audited(ev, err)
}

func (c *Ctx) generateKeyPair(sh pkcs11.SessionHandle, mm *pkcs11.Mechanism, public, private []*pkcs11.Attribute, keyLen *int) (pkcs11.ObjectHandle, pkcs11.ObjectHandle, error) {
	s, isSO, err := c.sessionRole(sh)
	if err != nil {
		return 0, 0, err
	}
	pubTm, err := parseTemplate(public)
	if err != nil {
		return 0, 0, err
	}
	privTm, err := parseTemplate(private)
	if err != nil {
		return 0, 0, err
	}
	kt, err := genKeyType(mm.Mechanism, pubTm)
	if err == nil {
		_, err = genKeyType(mm.Mechanism, privTm)
	}
	if err != nil {
		return 0, 0, err
	}
	for _, x := range []struct {
		tm    attrMap
		class uint
	}{{pubTm, pkcs11.CKO_PUBLIC_KEY}, {privTm, pkcs11.CKO_PRIVATE_KEY}} {
		if err := checkNewTemplate(opGenerate, x.tm, x.class, kt, isSO); err != nil {
			return 0, 0, err
		}
	}
	if err := c.fipsGenerate(mm.Mechanism, pubTm); err != nil {
		return 0, 0, err
	}
	k, err := mech.GenerateKeyPair(mm, pubTm, privTm)
	if err != nil {
		return 0, 0, asRV(err)
	}
	*keyLen = keyBits(k)
	pubAttrs, err := newKeyAttrs(opGenerate, pubTm, pkcs11.CKO_PUBLIC_KEY, kt, isSO, mech.PublicAttrs(k))
	if err != nil {
		return 0, 0, err
	}
	privAttrs, err := newKeyAttrs(opGenerate, privTm, pkcs11.CKO_PRIVATE_KEY, kt, isSO, keyMaterial(k))
	if err != nil {
		return 0, 0, err
	}
	for _, a := range []attrMap{pubAttrs, privAttrs} {
		keyOrigin(a, true, mm.Mechanism)
		finishKey(a)
	}
	hs, err := c.publishKeyList(s, k, []attrMap{pubAttrs, privAttrs})
	if err != nil {
		return 0, 0, err
	}
	return hs[0], hs[1], nil
}

// DeriveKey derives a secret key from a base key with CKA_DERIVE. The new
// key is not local; it is always-sensitive / never-extractable only if the
// base key was and the new key is (PKCS#11 3.0 §4.9).
func (c *Ctx) DeriveKey(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, basekey pkcs11.ObjectHandle, a []*pkcs11.Attribute) (pkcs11.ObjectHandle, error) {
	mm, err := c.mechanism(m)
	if err != nil {
		return 0, err
	}
	h, err := c.deriveKey(sh, mm, basekey, a)
	return h, c.audited(evMech("DeriveKey", sh, mm.Mechanism), err)
}

func (c *Ctx) deriveKey(sh pkcs11.SessionHandle, mm *pkcs11.Mechanism, basekey pkcs11.ObjectHandle, a []*pkcs11.Attribute) (pkcs11.ObjectHandle, error) {
	s, isSO, err := c.sessionRole(sh)
	if err != nil {
		return 0, err
	}
	tm, err := parseTemplate(a)
	if err != nil {
		return 0, err
	}
	base, bk, _, err := c.opKey(s, basekey, pkcs11.CKA_DERIVE)
	if err != nil {
		return 0, err
	}
	if mech.IsKEM(mm.Mechanism) {
		return c.deriveKEM(s, isSO, mm, base, bk, tm)
	}
	kt := uint(pkcs11.CKK_GENERIC_SECRET)
	if v, ok := tm[pkcs11.CKA_KEY_TYPE]; ok {
		kt, _ = decUlong(v)
	}
	if err := checkNewTemplate(opDerive, tm, pkcs11.CKO_SECRET_KEY, kt, isSO); err != nil {
		return 0, err
	}
	k, err := mech.Derive(mm, bk, kt, int(tm.ulong(pkcs11.CKA_VALUE_LEN)))
	if err != nil {
		return 0, asRV(err)
	}
	attrs, err := newKeyAttrs(opDerive, tm, pkcs11.CKO_SECRET_KEY, kt, isSO, secretMaterial(k))
	if err != nil {
		return 0, err
	}
	keyOrigin(attrs, false, 0)
	c.mu.RLock()
	baseAttrs := base.attrs
	c.mu.RUnlock()
	attrs[pkcs11.CKA_ALWAYS_SENSITIVE] = encBool(baseAttrs.bool(pkcs11.CKA_ALWAYS_SENSITIVE) && attrs.bool(pkcs11.CKA_SENSITIVE))
	attrs[pkcs11.CKA_NEVER_EXTRACTABLE] = encBool(baseAttrs.bool(pkcs11.CKA_NEVER_EXTRACTABLE) && !attrs.bool(pkcs11.CKA_EXTRACTABLE))
	finishKey(attrs)
	return c.publishKeys(s, k, attrs)
}

// GenerateRandom returns length random bytes from the OS generator.
func (c *Ctx) GenerateRandom(sh pkcs11.SessionHandle, length int) ([]byte, error) {
	if _, err := c.sessionOnly(sh); err != nil {
		return nil, err
	}
	if length < 0 || length > 64<<20 {
		return nil, rvErr(pkcs11.CKR_DATA_LEN_RANGE)
	}
	b := make([]byte, length)
	_, err := rand.Read(b)
	if err != nil {
		err = errGeneral
	}
	return b, c.audited(auditEvent{Op: "GenerateRandom", Session: sh, Length: length}, err)
}
