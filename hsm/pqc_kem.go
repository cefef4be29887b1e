package hsm

import (
	"slices"
	"sync"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/hsm/mech"
	"github.com/miekg/pkcs11"
)

// KEM entry points (docs/pqc.md). Three routes reach ML-KEM and the hybrid
// X25519+ML-KEM:
//
//   - C_DeriveKey on the PRIVATE key with the ciphertext as the mechanism
//     parameter: decapsulation, Craton's route (reference §5.2).
//   - C_DeriveKey on the PUBLIC key with no parameter: encapsulation for
//     PKCS#11 3.0 callers; the new key holds the shared secret and its
//     read-only CKA_CRATON_KEM_CIPHERTEXT the ciphertext for the peer.
//   - C_EncapsulateKey / C_DecapsulateKey (PKCS#11 3.2, EncapsulateKey and
//     DecapsulateKey here), needing CKA_ENCAPSULATE / CKA_DECAPSULATE.
//
// Craton's audit format has no encapsulation operation: all three routes
// are recorded as DeriveKey{mechanism, fips_approved}.
//
// The shared-secret key defaults to CKK_AES for Craton's vendor mechanisms
// and CKK_GENERIC_SECRET for CKM_ML_KEM; CKA_VALUE_LEN may shorten it.

// kemKeyType is the secret key type of a KEM result: the template's
// CKA_KEY_TYPE, else the mechanism's default. A CKA_CLASS must say secret.
func kemKeyType(tm attrMap, m uint) (uint, error) {
	if v, ok := tm[pkcs11.CKA_CLASS]; ok {
		if c, _ := decUlong(v); c != pkcs11.CKO_SECRET_KEY {
			return 0, errTmplInconsistent
		}
	}
	if v, ok := tm[pkcs11.CKA_KEY_TYPE]; ok {
		kt, _ := decUlong(v)
		return kt, nil
	}
	return mech.KEMDefaultKeyType(m), nil
}

// deriveKEM is C_DeriveKey with a KEM mechanism (called by deriveKey once
// the base key has been resolved with CKA_DERIVE).
func (c *Ctx) deriveKEM(s *session, isSO bool, mm *pkcs11.Mechanism, base *object, bk *mech.Key, tm attrMap) (pkcs11.ObjectHandle, error) {
	kt, err := kemKeyType(tm, mm.Mechanism)
	if err != nil {
		return 0, err
	}
	if err := checkNewTemplate(opDerive, tm, pkcs11.CKO_SECRET_KEY, kt, isSO); err != nil {
		return 0, err
	}
	k, ct, err := mech.DeriveKEM(mm, bk, kt, int(tm.ulong(pkcs11.CKA_VALUE_LEN)))
	if err != nil {
		return 0, asRV(err)
	}
	attrs, err := newKeyAttrs(opDerive, tm, pkcs11.CKO_SECRET_KEY, kt, isSO, secretMaterial(k))
	if err != nil {
		return 0, err
	}
	keyOrigin(attrs, false, 0)
	if ct != nil {
		// Encapsulation: the secret is fresh, not derived from a
		// sensitive key.
		attrs[ck.CKA_CRATON_KEM_CIPHERTEXT] = ct
	} else {
		c.mu.RLock()
		baseAttrs := base.attrs
		c.mu.RUnlock()
		attrs[pkcs11.CKA_ALWAYS_SENSITIVE] = encBool(baseAttrs.bool(pkcs11.CKA_ALWAYS_SENSITIVE) && attrs.bool(pkcs11.CKA_SENSITIVE))
		attrs[pkcs11.CKA_NEVER_EXTRACTABLE] = encBool(baseAttrs.bool(pkcs11.CKA_NEVER_EXTRACTABLE) && !attrs.bool(pkcs11.CKA_EXTRACTABLE))
	}
	finishKey(attrs)
	return c.publishKeys(s, k, attrs)
}

// kemTemplate parses the template of C_EncapsulateKey/C_DecapsulateKey and
// applies the 3.2 default CKA_EXTRACTABLE = true. empty reports the usual
// call without a template, whose new object publishKEMKey builds from a
// cached attribute set.
func kemTemplate(a []*pkcs11.Attribute, m uint, isSO bool) (tm attrMap, kt uint, empty bool, err error) {
	if len(a) == 0 {
		// kemEmptyTemplate is shared and only read (newKeyAttrs copies
		// it into the new object's map).
		return kemEmptyTemplate, mech.KEMDefaultKeyType(m), true, nil
	}
	tm, err = parseTemplate(a)
	if err != nil {
		return nil, 0, false, err
	}
	kt, err = kemKeyType(tm, m)
	if err != nil {
		return nil, 0, false, err
	}
	if err := checkNewTemplate(opDerive, tm, pkcs11.CKO_SECRET_KEY, kt, isSO); err != nil {
		return nil, 0, false, err
	}
	if _, ok := tm[pkcs11.CKA_EXTRACTABLE]; !ok {
		tm[pkcs11.CKA_EXTRACTABLE] = encBool(true)
	}
	return tm, kt, false, nil
}

// kemEmptyTemplate is what kemTemplate makes of an empty template.
var kemEmptyTemplate = attrMap{pkcs11.CKA_EXTRACTABLE: encBool(true)}

// kemMechanism is c.mechanism restricted to KEM mechanisms.
func (c *Ctx) kemMechanism(m []*pkcs11.Mechanism) (*pkcs11.Mechanism, error) {
	mm, err := c.mechanism(m)
	if err == nil && !mech.IsKEM(mm.Mechanism) {
		err = errMechInvalid
	}
	return mm, err
}

// publishKEMKey stores the shared-secret key of C_EncapsulateKey or
// C_DecapsulateKey (not local, never always-sensitive or never-extractable:
// PKCS#11 3.2 §5.18). empty: tm is kemEmptyTemplate (see kemTemplate).
func (c *Ctx) publishKEMKey(s *session, isSO bool, tm attrMap, kt uint, empty bool, k *mech.Key) (pkcs11.ObjectHandle, error) {
	if empty {
		if b, err := kemBaseFor(kt, len(k.Secret), isSO); err != nil {
			return 0, err
		} else if b != nil {
			return c.publishKEMFromBase(s, b, k)
		}
	}
	attrs, err := kemSecretAttrsFull(tm, kt, isSO, k)
	if err != nil {
		return 0, err
	}
	return c.publishKeys(s, k, attrs)
}

// kemSecretAttrsFull builds the attributes of a KEM shared-secret key the
// general way: template, defaults, key material, origin, engine attributes.
func kemSecretAttrsFull(tm attrMap, kt uint, isSO bool, k *mech.Key) (attrMap, error) {
	attrs, err := newKeyAttrs(opDerive, tm, pkcs11.CKO_SECRET_KEY, kt, isSO, secretMaterial(k))
	if err != nil {
		return nil, err
	}
	keyOrigin(attrs, false, 0)
	finishKey(attrs)
	return attrs, nil
}

// The usual KEM call has no template, and every shared-secret key it
// creates has the same attributes but for three (kemPerObject): its
// value, its check value and its unique ID. Such keys are built from a
// cached kemBase instead of the general way (a map of ~31 attributes from
// the template and the defaults, then its compact form, newAttrList), which
// was most of the engine's cost of a C_EncapsulateKey / C_DecapsulateKey
// beyond the KEM itself. The result is the attrList the general way gives
// (TestKEMCachedSecretAttrs).

// kemPerObject are the attributes set for each new key.
var kemPerObject = [3]uint{pkcs11.CKA_VALUE, ck.CKA_UNIQUE_ID, pkcs11.CKA_CHECK_VALUE}

// kemShape is what the attributes of a shared-secret key made with an
// empty template depend on, besides its value.
type kemShape struct {
	keyType uint
	n       int // value length
	isSO    bool
}

// kemBase is the general build of a shared-secret key of one kemShape
// with an all-zero value.
type kemBase struct {
	full attrMap  // as a map: what checkWritable reads
	list attrList // newAttrList(full)
	at   [3]int   // where list.own holds each kemPerObject attribute
}

// kemBases caches the kemBase of each shape asked for (a handful: the key
// types AES and generic secret, their lengths, the role).
var kemBases sync.Map // kemShape -> *kemBase

// kemBaseFor returns the kemBase of a shape, building it on first use;
// nil (use the general way) for a shape it cannot serve: a token object
// (which would need persisting) or per-object attributes that are not all
// held in the list's own entries.
func kemBaseFor(kt uint, n int, isSO bool) (*kemBase, error) {
	shape := kemShape{kt, n, isSO}
	if v, ok := kemBases.Load(shape); ok {
		return v.(*kemBase), nil
	}
	zero := &mech.Key{Class: pkcs11.CKO_SECRET_KEY, KeyType: kt, Secret: make([]byte, n)}
	full, err := kemSecretAttrsFull(kemEmptyTemplate, kt, isSO, zero)
	if err != nil {
		return nil, err
	}
	b := &kemBase{full: full, list: newAttrList(full)}
	for i, t := range kemPerObject {
		j, ok := b.list.ownIndex(t)
		if _, inBase := b.list.base[t]; !ok || inBase {
			b = nil
			break
		}
		b.at[i] = j
	}
	if b != nil && full.bool(pkcs11.CKA_TOKEN) {
		b = nil
	}
	v, _ := kemBases.LoadOrStore(shape, b)
	return v.(*kemBase), nil
}

// publishKEMFromBase publishes the shared-secret key k built from b: a
// session object made by newObjectListLocked, whose attribute list is b's
// with its own value, check value and unique ID. b.full stands for the
// attributes of the new key where newObjectListLocked reads them: it has
// the new key's CKA_TOKEN (false: kemBaseFor serves session objects only)
// and CKA_PRIVATE, all that checkWritable reads of a session object.
func (c *Ctx) publishKEMFromBase(s *session, b *kemBase, k *mech.Key) (pkcs11.ObjectHandle, error) {
	own := slices.Clone(b.list.own)
	own[b.at[0]].v = k.Secret
	own[b.at[1]].v = uniqueID()
	own[b.at[2]].v = secretCheckValue(k.KeyType, k.Secret)
	al := &packedAttrs{base: b.list.base, own: own}
	if err := c.lock(); err != nil {
		return 0, err
	}
	defer c.mu.Unlock()
	if _, err := c.sessionLocked(s.h); err != nil {
		return 0, err
	}
	o, err := c.newObjectListLocked(s, b.full, al)
	if err != nil {
		return 0, err
	}
	o.key.Store(k)
	return o.h, nil
}

// EncapsulatedLen is the ciphertext length C_EncapsulateKey would produce
// with public key pub (the size query: no key is created).
func (c *Ctx) EncapsulatedLen(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, pub pkcs11.ObjectHandle) (int, error) {
	mm, err := c.kemMechanism(m)
	if err != nil {
		return 0, err
	}
	s, err := c.sessionOnly(sh)
	if err != nil {
		return 0, err
	}
	_, k, _, err := c.opKey(s, pub, ck.CKA_ENCAPSULATE)
	if err != nil {
		return 0, err
	}
	n, err := mech.CiphertextLen(mm, k)
	return n, asRV(err)
}

// EncapsulateKey is C_EncapsulateKey (PKCS#11 3.2): it creates a secret key
// holding a fresh shared secret for public key pub (CKA_ENCAPSULATE) and
// returns the ciphertext for the private key's holder.
func (c *Ctx) EncapsulateKey(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, pub pkcs11.ObjectHandle, a []*pkcs11.Attribute) ([]byte, pkcs11.ObjectHandle, error) {
	mm, err := c.kemMechanism(m)
	if err != nil {
		return nil, 0, err
	}
	ct, h, err := c.encapsulateKey(sh, mm, pub, a)
	return ct, h, c.audited(evMech("DeriveKey", sh, mm.Mechanism), err)
}

func (c *Ctx) encapsulateKey(sh pkcs11.SessionHandle, mm *pkcs11.Mechanism, pub pkcs11.ObjectHandle, a []*pkcs11.Attribute) ([]byte, pkcs11.ObjectHandle, error) {
	s, isSO, err := c.sessionRole(sh)
	if err != nil {
		return nil, 0, err
	}
	tm, kt, empty, err := kemTemplate(a, mm.Mechanism, isSO)
	if err != nil {
		return nil, 0, err
	}
	_, pk, _, err := c.opKey(s, pub, ck.CKA_ENCAPSULATE)
	if err != nil {
		return nil, 0, err
	}
	ct, k, err := mech.Encapsulate(mm, pk, kt, int(tm.ulong(pkcs11.CKA_VALUE_LEN)))
	if err != nil {
		return nil, 0, asRV(err)
	}
	h, err := c.publishKEMKey(s, isSO, tm, kt, empty, k)
	if err != nil {
		return nil, 0, err
	}
	return ct, h, nil
}

// DecapsulateKey is C_DecapsulateKey (PKCS#11 3.2): it creates a secret key
// holding the shared secret of ciphertext ct under private key priv
// (CKA_DECAPSULATE).
func (c *Ctx) DecapsulateKey(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, priv pkcs11.ObjectHandle, a []*pkcs11.Attribute, ct []byte) (pkcs11.ObjectHandle, error) {
	mm, err := c.kemMechanism(m)
	if err != nil {
		return 0, err
	}
	h, err := c.decapsulateKey(sh, mm, priv, a, ct)
	return h, c.audited(evMech("DeriveKey", sh, mm.Mechanism), err)
}

func (c *Ctx) decapsulateKey(sh pkcs11.SessionHandle, mm *pkcs11.Mechanism, priv pkcs11.ObjectHandle, a []*pkcs11.Attribute, ct []byte) (pkcs11.ObjectHandle, error) {
	s, isSO, err := c.sessionRole(sh)
	if err != nil {
		return 0, err
	}
	tm, kt, empty, err := kemTemplate(a, mm.Mechanism, isSO)
	if err != nil {
		return 0, err
	}
	_, sk, _, err := c.opKey(s, priv, ck.CKA_DECAPSULATE)
	if err != nil {
		return 0, err
	}
	k, err := mech.Decapsulate(mm, sk, ct, kt, int(tm.ulong(pkcs11.CKA_VALUE_LEN)))
	if err != nil {
		return 0, asRV(err)
	}
	return c.publishKEMKey(s, isSO, tm, kt, empty, k)
}
