package wrapmove

import (
	"encoding/hex"
	"math/big"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// SourceObject is what Move reads about one live source object to act on
// it: class, key type and size, CKA_ID and label, flags.
// It decides nothing and identifies nothing: what happens to the object is
// the plan's action, which MakePlan derives from the inventory
// (inventory.Record, which also holds the fingerprints); Move finds an
// action's source object by class, CKA_ID and label.
type SourceObject struct {
	Class       string // ClassPrivateKey, ...
	KeyType     string // KeyRSA, ... ("" for certificates and data)
	Label       string
	ID          []byte
	Size        int    // RSA modulus bits, EC field bits, secret key bits
	Curve       string // P-256, P-384, Ed25519 ... for EC and Edwards keys
	ValueLen    int    // secret keys: true length in bytes (CKA_VALUE_LEN)
	Usage       []string
	Token       bool
	Private     bool
	Sensitive   bool
	Extractable bool
}

// IDHex is the CKA_ID in lower-case hex.
func (o SourceObject) IDHex() string { return hex.EncodeToString(o.ID) }

// Identity is the object's plan identity.
func (o SourceObject) Identity() string { return Identity(o.Class, o.IDHex(), o.Label) }

// object is a live object in an open session: its handle, the attributes
// read and Move's view of it.
type object struct {
	h     pkcs11.ObjectHandle
	attrs p11.Attrs
	SourceObject
}

// usageAttrs maps plan usage names to attributes, in a fixed order.
var usageAttrs = []struct {
	name string
	attr uint
}{
	{"sign", pkcs11.CKA_SIGN}, {"verify", pkcs11.CKA_VERIFY},
	{"encrypt", pkcs11.CKA_ENCRYPT}, {"decrypt", pkcs11.CKA_DECRYPT},
	{"wrap", pkcs11.CKA_WRAP}, {"unwrap", pkcs11.CKA_UNWRAP},
	{"derive", pkcs11.CKA_DERIVE},
	{"sign_recover", pkcs11.CKA_SIGN_RECOVER}, {"verify_recover", pkcs11.CKA_VERIFY_RECOVER},
}

func usageOf(a p11.Attrs) []string {
	var u []string
	for _, ua := range usageAttrs {
		if v, _ := a.Bool(ua.attr); v {
			u = append(u, ua.name)
		}
	}
	return u
}

func hasUsage(u []string, name string) bool {
	for _, x := range u {
		if x == name {
			return true
		}
	}
	return false
}

// readObjects reads every object the session can see (token objects and
// this session's own), with the attributes of its class. Key material
// (CKA_VALUE of keys, private components) is never read.
func readObjects(s *p11.Session) ([]*object, error) {
	hs, err := s.FindAll(nil)
	if err != nil {
		return nil, err
	}
	out := make([]*object, 0, len(hs))
	for _, h := range hs {
		o, err := readObject(s, h)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// readObject reads one object's class and key type, then the attributes
// of that class.
func readObject(s *p11.Session, h pkcs11.ObjectHandle) (*object, error) {
	head, err := p11.ReadAttrs(s.M, s.H, h, pkcs11.CKA_CLASS, pkcs11.CKA_KEY_TYPE)
	if err != nil {
		return nil, err
	}
	cls, _ := head.Ulong(pkcs11.CKA_CLASS)
	kt, hasKT := head.Ulong(pkcs11.CKA_KEY_TYPE)
	return loadObject(s, srcRef{h: h, cls: cls, keyType: kt, hasKeyType: hasKT})
}

// loadObject reads the attributes of a scanned object's class and key type
// in one call (CKA_CLASS included, for the templates).
func loadObject(s *p11.Session, r srcRef) (*object, error) {
	a, err := p11.ReadAttrs(s.M, s.H, r.h, append([]uint{pkcs11.CKA_CLASS}, readSetFor(r.cls, r.keyType, r.hasKeyType)...)...)
	if err != nil {
		return nil, err
	}
	cls, ok := a.Ulong(pkcs11.CKA_CLASS)
	if !ok {
		cls = r.cls
	}
	return &object{h: r.h, attrs: a, SourceObject: describe(cls, a)}, nil
}

// srcRef is what Move's scan keeps of one source object: its handle, and
// the class and key type that say which attributes to read when its
// action runs. The attributes themselves are not held for the whole move.
type srcRef struct {
	h          pkcs11.ObjectHandle
	cls        uint
	keyType    uint
	hasKeyType bool
}

// sourceIndex finds the source objects of actions by class, CKA_ID (hex)
// and label in O(1), and a private key's public key by CKA_ID.
type sourceIndex struct {
	byIdentity map[string][]srcRef
	pubByID    map[string]srcRef // the first public key (C_FindObjects order) per non-empty CKA_ID
	pubs       []srcRef          // every public key, in C_FindObjects order
	// sessionPubs are RSA public keys Move made as source session objects
	// (private keys without a public key), by CKA_ID.
	sessionPubs map[string]*object
	// sigCands are the public keys with their CKA_EC_PARAMS, read on the
	// first proof by signature search.
	sigCands []sigCand
	sigRead  bool
}

type sigCand struct {
	srcRef
	params string
}

func sourceKey(class, idHex, label string) string { return class + "\x00" + idHex + "\x00" + label }

// scanSource finds every object the session can see and reads class, key
// type, CKA_ID and label of each: one batched call per key object.
func scanSource(s *p11.Session) (*sourceIndex, error) {
	hs, err := s.FindAll(nil)
	if err != nil {
		return nil, err
	}
	x := &sourceIndex{byIdentity: make(map[string][]srcRef, len(hs)), pubByID: map[string]srcRef{}, sessionPubs: map[string]*object{}}
	for _, h := range hs {
		a, err := p11.ReadAttrs(s.M, s.H, h, pkcs11.CKA_CLASS, pkcs11.CKA_KEY_TYPE, pkcs11.CKA_ID, pkcs11.CKA_LABEL)
		if err != nil {
			return nil, err
		}
		r := srcRef{h: h}
		r.cls, _ = a.Ulong(pkcs11.CKA_CLASS)
		r.keyType, r.hasKeyType = a.Ulong(pkcs11.CKA_KEY_TYPE)
		id := a.Bytes(pkcs11.CKA_ID)
		k := sourceKey(className(r.cls), hex.EncodeToString(id), string(a.Bytes(pkcs11.CKA_LABEL)))
		x.byIdentity[k] = append(x.byIdentity[k], r)
		if r.cls == pkcs11.CKO_PUBLIC_KEY {
			x.pubs = append(x.pubs, r)
			if _, ok := x.pubByID[string(id)]; !ok && len(id) > 0 {
				x.pubByID[string(id)] = r
			}
		}
	}
	return x, nil
}

// describe turns attributes into Move's view of the object.
func describe(cls uint, a p11.Attrs) SourceObject {
	o := SourceObject{Class: className(cls), Label: string(a.Bytes(pkcs11.CKA_LABEL)), ID: a.Bytes(pkcs11.CKA_ID)}
	o.Token, _ = a.Bool(pkcs11.CKA_TOKEN)
	o.Private, _ = a.Bool(pkcs11.CKA_PRIVATE)
	o.Sensitive, _ = a.Bool(pkcs11.CKA_SENSITIVE)
	o.Extractable, _ = a.Bool(pkcs11.CKA_EXTRACTABLE)
	o.Usage = usageOf(a)
	if kt, ok := a.Ulong(pkcs11.CKA_KEY_TYPE); ok && isKeyClass(cls) {
		o.KeyType = keyTypeName(kt)
	}
	switch o.KeyType {
	case KeyRSA:
		o.Size = new(big.Int).SetBytes(a.Bytes(pkcs11.CKA_MODULUS)).BitLen()
	case KeyEC, KeyEdwards:
		o.Curve, o.Size = curveOf(a.Bytes(pkcs11.CKA_EC_PARAMS))
	case KeyAES, KeyGeneric:
		if n, ok := a.Ulong(pkcs11.CKA_VALUE_LEN); ok {
			o.ValueLen, o.Size = int(n), int(n)*8
		}
	}
	return o
}

func isKeyClass(cls uint) bool {
	return cls == pkcs11.CKO_PRIVATE_KEY || cls == pkcs11.CKO_PUBLIC_KEY || cls == pkcs11.CKO_SECRET_KEY
}

// rawECPoint unwraps a DER OCTET STRING around an EC point (SoftHSMv2
// returns 04 41 04||X||Y for P-256, 04 20 ... for Ed25519) and returns the
// raw point; a raw point is returned unchanged (the Craton engine returns
// raw points). The inner length must be a real point length, so a raw point
// whose first coordinate byte happens to look like a DER length is never
// mistaken for a wrapped one.
func rawECPoint(b []byte) []byte {
	if len(b) < 2 || b[0] != 0x04 {
		return b
	}
	n, hdr := int(b[1]), 2
	switch {
	case b[1] == 0x81 && len(b) > 2:
		n, hdr = int(b[2]), 3
	case b[1] >= 0x80:
		return b
	}
	if hdr+n != len(b) {
		return b
	}
	inner := b[hdr:]
	switch {
	case len(inner) == 32 || len(inner) == 57: // Ed25519, Ed448
		return inner
	case inner[0] == 0x04 && (len(inner) == 65 || len(inner) == 97 || len(inner) == 133):
		return inner
	}
	return b
}

// readSetFor lists the attributes read for class cls (CKA_VALUE only for
// objects whose value is public: certificates, data objects), narrowed to
// the key type when it is known: RSA keys are not asked for CKA_EC_PARAMS
// nor EC keys for CKA_MODULUS, so that the one batched C_GetAttributeValue
// succeeds instead of falling back to one call per attribute
// (CKR_ATTRIBUTE_TYPE_INVALID); the values read are the same.
func readSetFor(cls, keyType uint, hasKeyType bool) []uint {
	common := []uint{pkcs11.CKA_LABEL, pkcs11.CKA_ID, pkcs11.CKA_TOKEN, pkcs11.CKA_PRIVATE,
		pkcs11.CKA_MODIFIABLE, pkcs11.CKA_COPYABLE, pkcs11.CKA_DESTROYABLE, pkcs11.CKA_START_DATE, pkcs11.CKA_END_DATE}
	key := []uint{pkcs11.CKA_KEY_TYPE, pkcs11.CKA_LOCAL, pkcs11.CKA_DERIVE, pkcs11.CKA_ALLOWED_MECHANISMS}
	rsa := []uint{pkcs11.CKA_MODULUS, pkcs11.CKA_PUBLIC_EXPONENT}
	ec := []uint{pkcs11.CKA_EC_PARAMS}
	switch {
	case !hasKeyType:
		ec = append(rsa, ec...)
		rsa = nil
	case keyType == pkcs11.CKK_RSA:
		ec = nil
	case keyType == pkcs11.CKK_EC || keyType == ck.CKK_EC_EDWARDS || keyType == ck.CKK_EC_MONTGOMERY:
		rsa = nil
	default:
		ec = append(rsa, ec...)
		rsa = nil
	}
	switch cls {
	case pkcs11.CKO_PRIVATE_KEY:
		return cat(common, key, []uint{pkcs11.CKA_SENSITIVE, pkcs11.CKA_EXTRACTABLE, pkcs11.CKA_ALWAYS_SENSITIVE,
			pkcs11.CKA_NEVER_EXTRACTABLE, pkcs11.CKA_SIGN, pkcs11.CKA_SIGN_RECOVER, pkcs11.CKA_DECRYPT,
			pkcs11.CKA_UNWRAP, pkcs11.CKA_WRAP_WITH_TRUSTED, pkcs11.CKA_ALWAYS_AUTHENTICATE}, rsa, ec)
	case pkcs11.CKO_PUBLIC_KEY:
		if len(ec) > 0 {
			ec = append(ec, pkcs11.CKA_EC_POINT)
		}
		return cat(common, key, []uint{pkcs11.CKA_VERIFY, pkcs11.CKA_VERIFY_RECOVER, pkcs11.CKA_ENCRYPT,
			pkcs11.CKA_WRAP}, rsa, ec)
	case pkcs11.CKO_SECRET_KEY:
		return cat(common, key, []uint{pkcs11.CKA_SENSITIVE, pkcs11.CKA_EXTRACTABLE, pkcs11.CKA_ALWAYS_SENSITIVE,
			pkcs11.CKA_NEVER_EXTRACTABLE, pkcs11.CKA_ENCRYPT, pkcs11.CKA_DECRYPT, pkcs11.CKA_SIGN, pkcs11.CKA_VERIFY,
			pkcs11.CKA_WRAP, pkcs11.CKA_UNWRAP, pkcs11.CKA_WRAP_WITH_TRUSTED, pkcs11.CKA_VALUE_LEN})
	case pkcs11.CKO_CERTIFICATE:
		return cat(common, []uint{pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKA_VALUE, pkcs11.CKA_SUBJECT,
			pkcs11.CKA_ISSUER, pkcs11.CKA_SERIAL_NUMBER})
	case pkcs11.CKO_DATA:
		return cat(common, []uint{pkcs11.CKA_VALUE, pkcs11.CKA_APPLICATION, pkcs11.CKA_OBJECT_ID})
	}
	return common
}

func cat(parts ...[]uint) []uint {
	var out []uint
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
