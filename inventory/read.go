package inventory

import (
	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// object is one token object as read: its class, key type and the
// attributes of its class. Handles never leave this package.
type object struct {
	h       pkcs11.ObjectHandle
	class   uint
	keyType uint
	isKey   bool
	a       p11.Attrs
}

// Attributes asked for, per class. Only attributes the class defines are
// listed, so that the one batched C_GetAttributeValue per object normally
// succeeds; p11.ReadAttrs falls back to one call per attribute when a module
// refuses the set. Secret values (CKA_VALUE of keys, CKA_PRIVATE_EXPONENT)
// are never asked for.
var (
	storageAttrs = []uint{pkcs11.CKA_LABEL, pkcs11.CKA_TOKEN, pkcs11.CKA_PRIVATE, pkcs11.CKA_MODIFIABLE}
	keyAttrs     = []uint{pkcs11.CKA_ID, pkcs11.CKA_LOCAL, pkcs11.CKA_DERIVE}
	privSecAttrs = []uint{pkcs11.CKA_SENSITIVE, pkcs11.CKA_EXTRACTABLE, pkcs11.CKA_ALWAYS_SENSITIVE,
		pkcs11.CKA_NEVER_EXTRACTABLE, pkcs11.CKA_WRAP_WITH_TRUSTED}
	classAttrs = map[uint][]uint{
		pkcs11.CKO_PRIVATE_KEY: {pkcs11.CKA_SIGN, pkcs11.CKA_DECRYPT, pkcs11.CKA_UNWRAP},
		pkcs11.CKO_PUBLIC_KEY:  {pkcs11.CKA_VERIFY, pkcs11.CKA_ENCRYPT, pkcs11.CKA_WRAP},
		pkcs11.CKO_SECRET_KEY: {pkcs11.CKA_SIGN, pkcs11.CKA_VERIFY, pkcs11.CKA_ENCRYPT, pkcs11.CKA_DECRYPT,
			pkcs11.CKA_WRAP, pkcs11.CKA_UNWRAP, pkcs11.CKA_VALUE_LEN},
		pkcs11.CKO_CERTIFICATE: {pkcs11.CKA_ID, pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKA_VALUE},
		pkcs11.CKO_DATA:        {pkcs11.CKA_APPLICATION, pkcs11.CKA_VALUE},
	}
	// Public parameters per key type; the private half of RSA carries them
	// too, EC private keys in SoftHSM do not expose CKA_EC_POINT.
	typeAttrs = map[uint][]uint{
		pkcs11.CKK_RSA:       {pkcs11.CKA_MODULUS, pkcs11.CKA_PUBLIC_EXPONENT},
		pkcs11.CKK_EC:        {pkcs11.CKA_EC_PARAMS},
		ck.CKK_EC_EDWARDS:    {pkcs11.CKA_EC_PARAMS},
		ck.CKK_EC_MONTGOMERY: {pkcs11.CKA_EC_PARAMS},
		pkcs11.CKK_DSA:       {pkcs11.CKA_PRIME},
		pkcs11.CKK_DH:        {pkcs11.CKA_PRIME},
	}
)

// attrsFor lists what to read for an object of this class and key type.
func attrsFor(class, keyType uint, isKey bool) []uint {
	out := append([]uint{}, storageAttrs...)
	out = append(out, classAttrs[class]...)
	if !isKey {
		if _, known := classAttrs[class]; !known {
			out = append(out, pkcs11.CKA_ID) // other classes: ID if the module has one
		}
		return out
	}
	out = append(out, keyAttrs...)
	if class != pkcs11.CKO_PUBLIC_KEY {
		out = append(out, privSecAttrs...)
	}
	out = append(out, typeAttrs[keyType]...)
	if class == pkcs11.CKO_PUBLIC_KEY && (keyType == pkcs11.CKK_EC || keyType == ck.CKK_EC_EDWARDS || keyType == ck.CKK_EC_MONTGOMERY) {
		out = append(out, pkcs11.CKA_EC_POINT)
	}
	return out
}

// readObjects finds every object in one C_FindObjects pass and reads each
// with two batched C_GetAttributeValue calls: class and key type, then the
// class's attributes.
func readObjects(s *p11.Session) ([]object, error) {
	hs, err := s.FindAll(nil)
	if err != nil {
		return nil, err
	}
	out := make([]object, 0, len(hs))
	for _, h := range hs {
		o, err := readObject(s, h)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

func readObject(s *p11.Session, h pkcs11.ObjectHandle) (object, error) {
	head, err := p11.ReadAttrs(s.M, s.H, h, pkcs11.CKA_CLASS, pkcs11.CKA_KEY_TYPE)
	if err != nil {
		return object{}, err
	}
	o := object{h: h}
	o.class, _ = head.Ulong(pkcs11.CKA_CLASS)
	o.keyType, o.isKey = head.Ulong(pkcs11.CKA_KEY_TYPE)
	o.isKey = o.isKey && (o.class == pkcs11.CKO_PRIVATE_KEY || o.class == pkcs11.CKO_PUBLIC_KEY || o.class == pkcs11.CKO_SECRET_KEY)
	o.a, err = p11.ReadAttrs(s.M, s.H, h, attrsFor(o.class, o.keyType, o.isKey)...)
	if err != nil {
		return object{}, err
	}
	o.a.Values[pkcs11.CKA_CLASS] = head.Values[pkcs11.CKA_CLASS]
	return o, nil
}
