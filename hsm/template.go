package hsm

import (
	"bytes"
	"crypto/aes"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"maps"
	"sync"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/hsm/mech"
	"github.com/miekg/pkcs11"
)

// tmplOp is what a template is used for; the rules differ per operation.
type tmplOp int

const (
	opCreate tmplOp = iota
	opGenerate
	opUnwrap
	opDerive
)

// parseTemplate decodes a caller's template: every type must be known
// (CKR_ATTRIBUTE_TYPE_INVALID), every value well-formed
// (CKR_ATTRIBUTE_VALUE_INVALID), and a type given twice must carry the same
// value (CKR_TEMPLATE_INCONSISTENT). Values are copied: the caller keeps
// its slices.
func parseTemplate(tmpl []*pkcs11.Attribute) (attrMap, error) {
	m := make(attrMap, len(tmpl))
	for _, a := range tmpl {
		if a == nil {
			return nil, errArgumentsBad
		}
		spec, ok := attrTable[a.Type]
		if !ok {
			return nil, errAttrTypeInvalid
		}
		if !validValue(spec.kind, a.Value) {
			return nil, errAttrValueInvalid
		}
		if old, dup := m[a.Type]; dup && !bytes.Equal(old, a.Value) {
			return nil, errTmplInconsistent
		}
		m[a.Type] = append([]byte{}, a.Value...)
	}
	return m, nil
}

// checkNewTemplate applies the per-attribute rules for a new object of
// class/keyType built by op. isSO is whether the SO is logged in.
func checkNewTemplate(op tmplOp, tm attrMap, class, keyType uint, isSO bool) error {
	allowed := attrsFor(class, keyType)
	if allowed == nil {
		return errTmplInconsistent
	}
	for t, v := range tm {
		flags := attrTable[t].flags
		switch {
		case flags&fEngine != 0:
			return errAttrReadOnly
		case !allowed[t]:
			return errAttrTypeInvalid
		case op != opCreate && flags&fMaterial != 0:
			return errAttrReadOnly
		case flags&fSOOnly != 0 && len(v) == 1 && v[0] == 1 && !isSO:
			return errAttrReadOnly
		}
	}
	if v, ok := tm[pkcs11.CKA_CLASS]; ok && !bytes.Equal(v, encUlong(class)) {
		return errTmplInconsistent
	}
	if v, ok := tm[pkcs11.CKA_KEY_TYPE]; ok && isKeyClass(class) && !bytes.Equal(v, encUlong(keyType)) {
		return errTmplInconsistent
	}
	return nil
}

// defaults are the values of attributes a template leaves out (PKCS#11
// 3.0 defaults; where the specification says "token-specific" we follow
// SoftHSMv2: usage flags true except DERIVE, private/secret keys sensitive
// and unextractable, everything but public keys and certificates private).
func defaults(class, keyType uint) attrMap {
	f, t := encBool(false), encBool(true)
	// Sized for a key object with its engine attributes, so that building
	// one never rehashes (a measurable share of creating a session key).
	m := make(attrMap, 48)
	for k, v := range map[uint][]byte{
		pkcs11.CKA_CLASS: encUlong(class), pkcs11.CKA_TOKEN: f, pkcs11.CKA_PRIVATE: t,
		pkcs11.CKA_MODIFIABLE: t, pkcs11.CKA_COPYABLE: t, pkcs11.CKA_DESTROYABLE: t, pkcs11.CKA_LABEL: {},
	} {
		m[k] = v
	}
	set := func(v []byte, types ...uint) {
		for _, typ := range types {
			m[typ] = v
		}
	}
	switch class {
	case pkcs11.CKO_DATA:
		set([]byte{}, pkcs11.CKA_APPLICATION, pkcs11.CKA_OBJECT_ID, pkcs11.CKA_VALUE)
	case pkcs11.CKO_CERTIFICATE:
		set(f, pkcs11.CKA_PRIVATE, pkcs11.CKA_TRUSTED)
		set(encUlong(0), pkcs11.CKA_CERTIFICATE_CATEGORY)
		set([]byte{}, pkcs11.CKA_START_DATE, pkcs11.CKA_END_DATE, pkcs11.CKA_ID, pkcs11.CKA_ISSUER,
			pkcs11.CKA_SERIAL_NUMBER, pkcs11.CKA_URL, pkcs11.CKA_HASH_OF_SUBJECT_PUBLIC_KEY, pkcs11.CKA_HASH_OF_ISSUER_PUBLIC_KEY)
	}
	if !isKeyClass(class) {
		return m
	}
	m[pkcs11.CKA_KEY_TYPE] = encUlong(keyType)
	set([]byte{}, pkcs11.CKA_ID, pkcs11.CKA_START_DATE, pkcs11.CKA_END_DATE)
	set(f, pkcs11.CKA_DERIVE, pkcs11.CKA_LOCAL)
	m[pkcs11.CKA_KEY_GEN_MECHANISM] = encUlong(pkcs11.CK_UNAVAILABLE_INFORMATION)
	switch class {
	case pkcs11.CKO_PUBLIC_KEY:
		set(f, pkcs11.CKA_PRIVATE, pkcs11.CKA_TRUSTED)
		set(t, pkcs11.CKA_ENCRYPT, pkcs11.CKA_VERIFY, pkcs11.CKA_VERIFY_RECOVER, pkcs11.CKA_WRAP)
		m[pkcs11.CKA_SUBJECT] = []byte{}
	case pkcs11.CKO_PRIVATE_KEY:
		set(t, pkcs11.CKA_SENSITIVE, pkcs11.CKA_DECRYPT, pkcs11.CKA_SIGN, pkcs11.CKA_SIGN_RECOVER, pkcs11.CKA_UNWRAP)
		set(f, pkcs11.CKA_EXTRACTABLE, pkcs11.CKA_ALWAYS_SENSITIVE, pkcs11.CKA_NEVER_EXTRACTABLE, pkcs11.CKA_WRAP_WITH_TRUSTED, pkcs11.CKA_ALWAYS_AUTHENTICATE)
		m[pkcs11.CKA_SUBJECT] = []byte{}
	case pkcs11.CKO_SECRET_KEY:
		set(t, pkcs11.CKA_SENSITIVE, pkcs11.CKA_ENCRYPT, pkcs11.CKA_DECRYPT, pkcs11.CKA_SIGN, pkcs11.CKA_VERIFY, pkcs11.CKA_WRAP, pkcs11.CKA_UNWRAP)
		set(f, pkcs11.CKA_EXTRACTABLE, pkcs11.CKA_ALWAYS_SENSITIVE, pkcs11.CKA_NEVER_EXTRACTABLE, pkcs11.CKA_WRAP_WITH_TRUSTED, pkcs11.CKA_TRUSTED)
	}
	pqDefaults(m, class, keyType)
	return m
}

// defaultsCache holds the defaults of every class/key type asked for so
// far (a few dozen supported combinations at most): building them is most
// of the cost of creating a key object (KEM shared secrets, derived keys).
var defaultsCache sync.Map // classKey -> attrMap

// newObjectAttrs returns a new attribute map for an object of
// class/keyType: its defaults with every value of tm applied. The defaults
// are built once per class/key type and cloned (maps.Clone copies the hash
// table as it is, with the room defaults leaves for the engine
// attributes). Values are shared with the cached defaults and with tm:
// attribute values are never modified in place (see attrMap).
func newObjectAttrs(class, keyType uint, tm attrMap) attrMap {
	base := cachedDefaults(class, keyType)
	if base == nil {
		base = defaults(class, keyType)
	}
	m := maps.Clone(base)
	for t, v := range tm {
		m[t] = v
	}
	return m
}

// cachedDefaults returns the shared defaults of class/keyType (never to be
// modified), nil for a kind the engine does not support (the cache stays
// small). keyType is ^uint(0) for a class without key type.
func cachedDefaults(class, keyType uint) attrMap {
	ck := classKey{class, keyType}
	if v, ok := defaultsCache.Load(ck); ok {
		return v.(attrMap)
	}
	if attrsFor(class, keyType) == nil {
		return nil
	}
	v, _ := defaultsCache.LoadOrStore(ck, defaults(class, keyType))
	return v.(attrMap)
}

// overlay returns base (which it may modify: a clone of the object's
// attributes) with every value of tm applied.
func overlay(base, tm attrMap) attrMap {
	for t, v := range tm {
		base[t] = v
	}
	return base
}

// uniqueID is CKA_UNIQUE_ID: 16 random bytes in hex, assigned once.
func uniqueID() []byte {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("hsm: no randomness: " + err.Error())
	}
	out := make([]byte, hex.EncodedLen(len(b)))
	hex.Encode(out, b[:])
	return out
}

// classAndType reads CKA_CLASS (required) and, for keys, CKA_KEY_TYPE
// (required) from a C_CreateObject template.
func classAndType(tm attrMap) (class, keyType uint, err error) {
	v, ok := tm[pkcs11.CKA_CLASS]
	if !ok {
		return 0, 0, errTmplIncomplete
	}
	class, _ = decUlong(v)
	if !isKeyClass(class) {
		if class != pkcs11.CKO_DATA && class != pkcs11.CKO_CERTIFICATE {
			return 0, 0, errAttrValueInvalid
		}
		return class, ^uint(0), nil
	}
	v, ok = tm[pkcs11.CKA_KEY_TYPE]
	if !ok {
		return 0, 0, errTmplIncomplete
	}
	keyType, _ = decUlong(v)
	if attrsFor(class, keyType) == nil {
		return 0, 0, errAttrValueInvalid
	}
	return class, keyType, nil
}

// buildCreated builds the attributes of a C_CreateObject object.
func buildCreated(tm attrMap, isSO bool) (attrMap, error) {
	class, keyType, err := classAndType(tm)
	if err != nil {
		return nil, err
	}
	if err := checkNewTemplate(opCreate, tm, class, keyType, isSO); err != nil {
		return nil, err
	}
	m := newObjectAttrs(class, keyType, tm)
	m[ck.CKA_UNIQUE_ID] = uniqueID()
	switch class {
	case pkcs11.CKO_CERTIFICATE:
		err = finishCertificate(m, tm)
	case pkcs11.CKO_SECRET_KEY:
		err = finishSecret(m, tm)
	case pkcs11.CKO_PUBLIC_KEY, pkcs11.CKO_PRIVATE_KEY:
		err = finishAsymmetric(m)
	}
	if err != nil {
		return nil, err
	}
	finishKey(m)
	return m, nil
}

// finishCertificate checks an X.509 certificate object and fills what can
// be read from the certificate itself (subject when absent, check value).
func finishCertificate(m, tm attrMap) error {
	ct, ok := tm[pkcs11.CKA_CERTIFICATE_TYPE]
	if !ok {
		return errTmplIncomplete
	}
	if v, _ := decUlong(ct); v != pkcs11.CKC_X_509 {
		return errAttrValueInvalid
	}
	der, ok := tm[pkcs11.CKA_VALUE]
	if !ok || len(der) == 0 {
		return errTmplIncomplete
	}
	if _, ok := tm[pkcs11.CKA_SUBJECT]; !ok {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return errTmplIncomplete
		}
		m[pkcs11.CKA_SUBJECT] = cert.RawSubject
	}
	return setCheckValue(m, tm, sha1Prefix(der))
}

// finishSecret checks a secret key's value and sets CKA_VALUE_LEN and
// CKA_CHECK_VALUE.
func finishSecret(m, tm attrMap) error {
	v, ok := tm[pkcs11.CKA_VALUE]
	if !ok {
		return errTmplIncomplete
	}
	if err := checkSecretLen(m.ulong(pkcs11.CKA_KEY_TYPE), len(v)); err != nil {
		return err
	}
	if vl, ok := tm[pkcs11.CKA_VALUE_LEN]; ok && !bytes.Equal(vl, encUlong(uint(len(v)))) {
		return errTmplInconsistent
	}
	m[pkcs11.CKA_VALUE_LEN] = encUlong(uint(len(v)))
	return setCheckValue(m, tm, secretCheckValue(m.ulong(pkcs11.CKA_KEY_TYPE), v))
}

func checkSecretLen(keyType uint, n int) error {
	switch {
	case keyType == pkcs11.CKK_AES && n != 16 && n != 24 && n != 32:
		return errAttrValueInvalid
	case n == 0:
		return errAttrValueInvalid
	}
	return nil
}

// setCheckValue sets CKA_CHECK_VALUE to kcv; a caller-supplied value must
// match (or be empty, which PKCS#11 allows to mean "none").
func setCheckValue(m, tm attrMap, kcv []byte) error {
	if v, ok := tm[pkcs11.CKA_CHECK_VALUE]; ok && len(v) > 0 && !bytes.Equal(v, kcv) {
		return errAttrValueInvalid
	}
	m[pkcs11.CKA_CHECK_VALUE] = kcv
	return nil
}

// secretCheckValue is the PKCS#11 3.0 KCV: AES-ECB of a zero block for AES
// keys, SHA-1 of the value for generic secrets; first 3 bytes.
func secretCheckValue(keyType uint, v []byte) []byte {
	if keyType == pkcs11.CKK_AES {
		b, err := aes.NewCipher(v)
		if err != nil {
			return []byte{}
		}
		out := make([]byte, aes.BlockSize)
		b.Encrypt(out, out)
		return out[:3]
	}
	return sha1Prefix(v)
}

func sha1Prefix(v []byte) []byte {
	s := sha1.Sum(v)
	return s[:3]
}

// finishAsymmetric validates imported key material through mech and adds
// the components it implies (an RSA private key exposes its modulus and
// public exponent) when the template left them out.
func finishAsymmetric(m attrMap) error {
	k, err := mech.ParseKey(m.ulong(pkcs11.CKA_CLASS), m.ulong(pkcs11.CKA_KEY_TYPE), m)
	if err != nil {
		return asRV(err)
	}
	fillFromKey(m, keyMaterial(k))
	return nil
}

// keyMaterial is everything mech can say about k's attributes: for private
// keys the public components too (EC point), filtered later by class.
func keyMaterial(k *mech.Key) map[uint][]byte {
	m := map[uint][]byte{}
	for t, v := range mech.PublicAttrs(k) {
		m[t] = v
	}
	for t, v := range mech.KeyAttrs(k) {
		m[t] = v
	}
	return m
}

// fillFromKey copies attributes derived from key material into m where m
// lacks them (or holds the empty default), limited to m's attribute set.
func fillFromKey(m attrMap, derived map[uint][]byte) {
	allowed := attrsFor(m.ulong(pkcs11.CKA_CLASS), m.ulong(pkcs11.CKA_KEY_TYPE))
	for t, v := range derived {
		if cur, ok := m[t]; allowed[t] && (!ok || len(cur) == 0) {
			m[t] = v
		}
	}
}

// finishKey sets the engine-maintained attributes every key has.
func finishKey(m attrMap) {
	if !isKeyClass(m.ulong(pkcs11.CKA_CLASS)) {
		return
	}
	m[ck.CKA_VENDOR_FIPS_APPROVED] = encBool(fipsKey(m))
}

// fipsKey says whether a key's type and size are usable in FIPS-approved
// mode, by asking mech about a representative approved mechanism.
func fipsKey(m attrMap) bool {
	var rep uint
	switch m.ulong(pkcs11.CKA_KEY_TYPE) {
	case pkcs11.CKK_RSA:
		if len(m[pkcs11.CKA_MODULUS]) < 256 {
			return false
		}
		rep = pkcs11.CKM_SHA256_RSA_PKCS
	case pkcs11.CKK_EC:
		rep = pkcs11.CKM_ECDSA_SHA256
	case ck.CKK_EC_EDWARDS:
		rep = ck.CKM_EDDSA
	case pkcs11.CKK_AES:
		rep = pkcs11.CKM_AES_GCM
	case pkcs11.CKK_GENERIC_SECRET:
		if m.ulong(pkcs11.CKA_VALUE_LEN) < 14 {
			return false
		}
		rep = pkcs11.CKM_SHA256_HMAC
	default:
		return false
	}
	info, ok := mech.Lookup(rep)
	return ok && info.FIPS
}
