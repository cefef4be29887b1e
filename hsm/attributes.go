package hsm

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"

	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

// attrKind is how an attribute's value is encoded.
type attrKind uint8

const (
	kBytes attrKind = iota
	kBool           // CK_BBOOL, exactly 1 byte
	kUlong          // CK_ULONG, native width (8 bytes) and byte order
	kDate           // CK_DATE, empty or 8 ASCII digits
)

// attrFlag says how an attribute may be given and changed.
type attrFlag uint16

const (
	fSecret   attrFlag = 1 << iota // key material: hidden when SENSITIVE or not EXTRACTABLE
	fEngine                        // maintained by the engine: never in a template
	fSet                           // C_SetAttributeValue may change it (and C_CopyObject)
	fCopy                          // C_CopyObject may set it (CKA_TOKEN, CKA_PRIVATE, CKA_MODIFIABLE)
	fGenInput                      // a key-generation input (modulus bits, curve, length)
	fMaterial                      // key material or derived from it: never in a generate/unwrap/derive template
	fSOOnly                        // only the SO may set it true (CKA_TRUSTED)
	fOneWay                        // may change in one direction only (see oneWayOK)
)

type attrSpec struct {
	kind  attrKind
	flags attrFlag
}

// attrTable is every attribute type the engine knows. A type not in it is
// CKR_ATTRIBUTE_TYPE_INVALID in any template (reference "differ" item 5).
var attrTable = map[uint]attrSpec{
	pkcs11.CKA_CLASS:       {kUlong, 0},
	pkcs11.CKA_TOKEN:       {kBool, fCopy},
	pkcs11.CKA_PRIVATE:     {kBool, fCopy},
	pkcs11.CKA_MODIFIABLE:  {kBool, fCopy},
	pkcs11.CKA_COPYABLE:    {kBool, fSet | fOneWay},
	pkcs11.CKA_DESTROYABLE: {kBool, fSet},
	pkcs11.CKA_LABEL:       {kBytes, fSet},
	ck.CKA_UNIQUE_ID:       {kBytes, fEngine},

	pkcs11.CKA_APPLICATION: {kBytes, fSet},
	pkcs11.CKA_OBJECT_ID:   {kBytes, fSet},
	pkcs11.CKA_VALUE:       {kBytes, fMaterial},

	pkcs11.CKA_CERTIFICATE_TYPE:           {kUlong, 0},
	pkcs11.CKA_TRUSTED:                    {kBool, fSOOnly},
	pkcs11.CKA_CERTIFICATE_CATEGORY:       {kUlong, 0},
	pkcs11.CKA_CHECK_VALUE:                {kBytes, 0},
	pkcs11.CKA_ISSUER:                     {kBytes, fSet},
	pkcs11.CKA_SERIAL_NUMBER:              {kBytes, fSet},
	pkcs11.CKA_URL:                        {kBytes, 0},
	pkcs11.CKA_HASH_OF_SUBJECT_PUBLIC_KEY: {kBytes, 0},
	pkcs11.CKA_HASH_OF_ISSUER_PUBLIC_KEY:  {kBytes, 0},

	pkcs11.CKA_KEY_TYPE:          {kUlong, 0},
	pkcs11.CKA_ID:                {kBytes, fSet},
	pkcs11.CKA_SUBJECT:           {kBytes, fSet},
	pkcs11.CKA_START_DATE:        {kDate, fSet},
	pkcs11.CKA_END_DATE:          {kDate, fSet},
	pkcs11.CKA_DERIVE:            {kBool, fSet},
	pkcs11.CKA_LOCAL:             {kBool, fEngine},
	pkcs11.CKA_KEY_GEN_MECHANISM: {kUlong, fEngine},
	ck.CKA_VENDOR_FIPS_APPROVED:  {kBool, fEngine},

	pkcs11.CKA_ENCRYPT:             {kBool, fSet},
	pkcs11.CKA_DECRYPT:             {kBool, fSet},
	pkcs11.CKA_SIGN:                {kBool, fSet},
	pkcs11.CKA_VERIFY:              {kBool, fSet},
	pkcs11.CKA_SIGN_RECOVER:        {kBool, fSet},
	pkcs11.CKA_VERIFY_RECOVER:      {kBool, fSet},
	pkcs11.CKA_WRAP:                {kBool, fSet},
	pkcs11.CKA_UNWRAP:              {kBool, fSet},
	pkcs11.CKA_SENSITIVE:           {kBool, fSet | fOneWay},
	pkcs11.CKA_EXTRACTABLE:         {kBool, fSet | fOneWay},
	pkcs11.CKA_ALWAYS_SENSITIVE:    {kBool, fEngine},
	pkcs11.CKA_NEVER_EXTRACTABLE:   {kBool, fEngine},
	pkcs11.CKA_WRAP_WITH_TRUSTED:   {kBool, fSet | fOneWay},
	pkcs11.CKA_ALWAYS_AUTHENTICATE: {kBool, 0},

	pkcs11.CKA_VALUE_LEN:        {kUlong, fGenInput},
	pkcs11.CKA_MODULUS:          {kBytes, fMaterial},
	pkcs11.CKA_MODULUS_BITS:     {kUlong, fGenInput},
	pkcs11.CKA_PUBLIC_EXPONENT:  {kBytes, fGenInput},
	pkcs11.CKA_PRIVATE_EXPONENT: {kBytes, fSecret | fMaterial},
	pkcs11.CKA_PRIME_1:          {kBytes, fSecret | fMaterial},
	pkcs11.CKA_PRIME_2:          {kBytes, fSecret | fMaterial},
	pkcs11.CKA_EXPONENT_1:       {kBytes, fSecret | fMaterial},
	pkcs11.CKA_EXPONENT_2:       {kBytes, fSecret | fMaterial},
	pkcs11.CKA_COEFFICIENT:      {kBytes, fSecret | fMaterial},
	pkcs11.CKA_EC_PARAMS:        {kBytes, fGenInput},
	pkcs11.CKA_EC_POINT:         {kBytes, fMaterial},
}

// oneWayOK reports whether changing a one-way attribute from old to new is
// allowed: SENSITIVE and WRAP_WITH_TRUSTED only false→true, EXTRACTABLE and
// COPYABLE only true→false.
func oneWayOK(t uint, old, new bool) bool {
	if old == new {
		return true
	}
	switch t {
	case pkcs11.CKA_SENSITIVE, pkcs11.CKA_WRAP_WITH_TRUSTED:
		return new
	case pkcs11.CKA_EXTRACTABLE, pkcs11.CKA_COPYABLE:
		return !new
	}
	return false
}

// Attribute sets per object class and key type (PKCS#11 3.0 §4).
var (
	setCommon  = []uint{pkcs11.CKA_CLASS, pkcs11.CKA_TOKEN, pkcs11.CKA_PRIVATE, pkcs11.CKA_MODIFIABLE, pkcs11.CKA_LABEL, pkcs11.CKA_COPYABLE, pkcs11.CKA_DESTROYABLE, ck.CKA_UNIQUE_ID}
	setData    = []uint{pkcs11.CKA_APPLICATION, pkcs11.CKA_OBJECT_ID, pkcs11.CKA_VALUE}
	setX509    = []uint{pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKA_TRUSTED, pkcs11.CKA_CERTIFICATE_CATEGORY, pkcs11.CKA_CHECK_VALUE, pkcs11.CKA_START_DATE, pkcs11.CKA_END_DATE, pkcs11.CKA_SUBJECT, pkcs11.CKA_ID, pkcs11.CKA_ISSUER, pkcs11.CKA_SERIAL_NUMBER, pkcs11.CKA_VALUE, pkcs11.CKA_URL, pkcs11.CKA_HASH_OF_SUBJECT_PUBLIC_KEY, pkcs11.CKA_HASH_OF_ISSUER_PUBLIC_KEY}
	setKey     = []uint{pkcs11.CKA_KEY_TYPE, pkcs11.CKA_ID, pkcs11.CKA_START_DATE, pkcs11.CKA_END_DATE, pkcs11.CKA_DERIVE, pkcs11.CKA_LOCAL, pkcs11.CKA_KEY_GEN_MECHANISM, ck.CKA_VENDOR_FIPS_APPROVED}
	setPublic  = []uint{pkcs11.CKA_SUBJECT, pkcs11.CKA_ENCRYPT, pkcs11.CKA_VERIFY, pkcs11.CKA_VERIFY_RECOVER, pkcs11.CKA_WRAP, pkcs11.CKA_TRUSTED}
	setPrivate = []uint{pkcs11.CKA_SUBJECT, pkcs11.CKA_SENSITIVE, pkcs11.CKA_DECRYPT, pkcs11.CKA_SIGN, pkcs11.CKA_SIGN_RECOVER, pkcs11.CKA_UNWRAP, pkcs11.CKA_EXTRACTABLE, pkcs11.CKA_ALWAYS_SENSITIVE, pkcs11.CKA_NEVER_EXTRACTABLE, pkcs11.CKA_WRAP_WITH_TRUSTED, pkcs11.CKA_ALWAYS_AUTHENTICATE}
	setSecret  = []uint{pkcs11.CKA_SENSITIVE, pkcs11.CKA_ENCRYPT, pkcs11.CKA_DECRYPT, pkcs11.CKA_SIGN, pkcs11.CKA_VERIFY, pkcs11.CKA_WRAP, pkcs11.CKA_UNWRAP, pkcs11.CKA_EXTRACTABLE, pkcs11.CKA_ALWAYS_SENSITIVE, pkcs11.CKA_NEVER_EXTRACTABLE, pkcs11.CKA_CHECK_VALUE, pkcs11.CKA_WRAP_WITH_TRUSTED, pkcs11.CKA_TRUSTED, pkcs11.CKA_VALUE, pkcs11.CKA_VALUE_LEN}
	setRSAPub  = []uint{pkcs11.CKA_MODULUS, pkcs11.CKA_MODULUS_BITS, pkcs11.CKA_PUBLIC_EXPONENT}
	setRSAPriv = []uint{pkcs11.CKA_MODULUS, pkcs11.CKA_PUBLIC_EXPONENT, pkcs11.CKA_PRIVATE_EXPONENT, pkcs11.CKA_PRIME_1, pkcs11.CKA_PRIME_2, pkcs11.CKA_EXPONENT_1, pkcs11.CKA_EXPONENT_2, pkcs11.CKA_COEFFICIENT}
	setECPub   = []uint{pkcs11.CKA_EC_PARAMS, pkcs11.CKA_EC_POINT}
	// EC private keys also expose their public point (an extension that
	// spares callers a search for the public object).
	setECPriv = []uint{pkcs11.CKA_EC_PARAMS, pkcs11.CKA_VALUE, pkcs11.CKA_EC_POINT}
)

// classKey identifies an attribute set.
type classKey struct{ class, keyType uint }

var applicable = buildApplicable()

func buildApplicable() map[classKey]map[uint]bool {
	mk := func(sets ...[]uint) map[uint]bool {
		m := map[uint]bool{}
		for _, s := range append(sets, setCommon) {
			for _, t := range s {
				m[t] = true
			}
		}
		return m
	}
	const none = ^uint(0)
	return map[classKey]map[uint]bool{
		{pkcs11.CKO_DATA, none}:                            mk(setData),
		{pkcs11.CKO_CERTIFICATE, none}:                     mk(setX509),
		{pkcs11.CKO_PUBLIC_KEY, pkcs11.CKK_RSA}:            mk(setKey, setPublic, setRSAPub),
		{pkcs11.CKO_PRIVATE_KEY, pkcs11.CKK_RSA}:           mk(setKey, setPrivate, setRSAPriv),
		{pkcs11.CKO_PUBLIC_KEY, pkcs11.CKK_EC}:             mk(setKey, setPublic, setECPub),
		{pkcs11.CKO_PRIVATE_KEY, pkcs11.CKK_EC}:            mk(setKey, setPrivate, setECPriv),
		{pkcs11.CKO_PUBLIC_KEY, ck.CKK_EC_EDWARDS}:         mk(setKey, setPublic, setECPub),
		{pkcs11.CKO_PRIVATE_KEY, ck.CKK_EC_EDWARDS}:        mk(setKey, setPrivate, setECPriv),
		{pkcs11.CKO_SECRET_KEY, pkcs11.CKK_AES}:            mk(setKey, setSecret),
		{pkcs11.CKO_SECRET_KEY, pkcs11.CKK_GENERIC_SECRET}: mk(setKey, setSecret),
	}
}

// attrsFor returns the attribute set of a class (and key type for keys),
// nil when the engine does not support that kind of object.
func attrsFor(class, keyType uint) map[uint]bool {
	if !isKeyClass(class) {
		keyType = ^uint(0)
	}
	return applicable[classKey{class, keyType}]
}

func isKeyClass(class uint) bool {
	return class == pkcs11.CKO_PUBLIC_KEY || class == pkcs11.CKO_PRIVATE_KEY || class == pkcs11.CKO_SECRET_KEY
}

// Value encodings.

func encBool(v bool) []byte {
	if v {
		return []byte{1}
	}
	return []byte{0}
}

func encUlong(v uint) []byte { return binary.NativeEndian.AppendUint64(nil, uint64(v)) }

func decUlong(b []byte) (uint, bool) {
	if len(b) != 8 {
		return 0, false
	}
	return uint(binary.NativeEndian.Uint64(b)), true
}

// validValue checks a template value's encoding (CKR_ATTRIBUTE_VALUE_INVALID).
func validValue(k attrKind, v []byte) bool {
	switch k {
	case kBool:
		return len(v) == 1 && v[0] <= 1
	case kUlong:
		return len(v) == 8
	case kDate:
		if len(v) == 0 {
			return true
		}
		if len(v) != 8 {
			return false
		}
		for _, b := range v {
			if b < '0' || b > '9' {
				return false
			}
		}
	}
	return true
}

// attrMap is an object's attributes. Treated as immutable once the object
// is published: changes build a new map. Values are never modified in
// place either (objects share them with each other, with copies and with
// the cached defaults of newObjectAttrs); readers get copies.
type attrMap map[uint][]byte

func (m attrMap) bool(t uint) bool { v := m[t]; return len(v) == 1 && v[0] != 0 }

func (m attrMap) ulong(t uint) uint { v, _ := decUlong(m[t]); return v }

func (m attrMap) clone() attrMap {
	n := make(attrMap, len(m)+8) // room for what callers usually add
	for k, v := range m {
		n[k] = v
	}
	return n
}

// hidden reports whether attribute t of an object with these attributes
// must not be revealed: key material of a sensitive or unextractable key.
func (m attrMap) hidden(t uint) bool { return hiddenIn(m, t) }

func (m attrMap) isPrivateOrSecretKey() bool { return privateOrSecretIn(m) }

// attrReader is what hidden and isPrivateOrSecretKey read: an attrMap or
// an object's attrList.
type attrReader interface {
	bool(t uint) bool
	ulong(t uint) uint
}

func hiddenIn(r attrReader, t uint) bool {
	if attrTable[t].flags&fSecret == 0 && !(t == pkcs11.CKA_VALUE && privateOrSecretIn(r)) {
		return false
	}
	return r.bool(pkcs11.CKA_SENSITIVE) || !r.bool(pkcs11.CKA_EXTRACTABLE)
}

func privateOrSecretIn(r attrReader) bool {
	c := r.ulong(pkcs11.CKA_CLASS)
	return c == pkcs11.CKO_PRIVATE_KEY || c == pkcs11.CKO_SECRET_KEY
}

// attrList is a published object's attributes, held compactly: a key
// object has ~30 attributes, most of them equal to its class's defaults,
// and a map of 30 entries costs ~2 KB (64 slots of type + slice header);
// at 10,000 objects that was most of the engine's memory. The attributes
// equal to base (the shared, immutable defaults of the object's class and
// key type, see defaultsFor) are implicit; own holds the others, sorted by
// type. An attrList reads exactly like the attrMap it was made from (get,
// each, clone), and like attrMap it is never modified once published:
// changes build a new one. Values are shared, never modified in place.
// A nil attrList has no attributes.
type attrList = *packedAttrs

type packedAttrs struct {
	base attrMap     // nil when the object lacks some default (an old record): own then holds everything
	own  []attrEntry // sorted by type
}

type attrEntry struct {
	t uint
	v []byte
}

// newAttrList returns m in compact form. m is not retained (its values are).
func newAttrList(m attrMap) attrList {
	class := m.ulong(pkcs11.CKA_CLASS)
	kt := ^uint(0)
	if isKeyClass(class) {
		kt = m.ulong(pkcs11.CKA_KEY_TYPE)
	}
	base := cachedDefaults(class, kt)
	for t := range base {
		if _, ok := m[t]; !ok {
			base = nil // a default missing from m must stay missing
			break
		}
	}
	n := 0
	for t, v := range m {
		if bv, ok := base[t]; !ok || !bytes.Equal(bv, v) {
			n++
		}
	}
	own := make([]attrEntry, 0, n)
	for t, v := range m {
		if bv, ok := base[t]; !ok || !bytes.Equal(bv, v) {
			own = append(own, attrEntry{t, v})
		}
	}
	slices.SortFunc(own, func(a, b attrEntry) int { return cmp.Compare(a.t, b.t) })
	return &packedAttrs{base: base, own: own}
}

// get returns attribute t's value and whether the object has it.
func (a *packedAttrs) get(t uint) ([]byte, bool) {
	if a == nil {
		return nil, false
	}
	if i, ok := a.ownIndex(t); ok {
		return a.own[i].v, true
	}
	v, ok := a.base[t]
	return v, ok
}

// ownIndex is the position of t in own (binary search).
func (a *packedAttrs) ownIndex(t uint) (int, bool) {
	i, j := 0, len(a.own)
	for i < j {
		h := int(uint(i+j) >> 1)
		if a.own[h].t < t {
			i = h + 1
		} else {
			j = h
		}
	}
	return i, i < len(a.own) && a.own[i].t == t
}

func (a *packedAttrs) bool(t uint) bool { v, _ := a.get(t); return len(v) == 1 && v[0] != 0 }

func (a *packedAttrs) ulong(t uint) uint { v, _ := a.get(t); u, _ := decUlong(v); return u }

func (a *packedAttrs) hidden(t uint) bool { return hiddenIn(a, t) }

// clone returns the attributes as a new map, with room for what callers
// usually add (like attrMap.clone).
func (a *packedAttrs) clone() attrMap {
	if a == nil {
		return make(attrMap, 8)
	}
	n := make(attrMap, len(a.own)+len(a.base)+8)
	for t, v := range a.base {
		n[t] = v
	}
	for _, e := range a.own {
		n[e.t] = e.v
	}
	return n
}
