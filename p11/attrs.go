package p11

import (
	"encoding/binary"

	"github.com/miekg/pkcs11"
)

// Attrs is the result of reading attributes of one object: the values
// returned, and for each attribute that could not be read, the CK_RV that
// said why (CKR_ATTRIBUTE_SENSITIVE, CKR_ATTRIBUTE_TYPE_INVALID, ...).
type Attrs struct {
	Values      map[uint][]byte
	Unavailable map[uint]uint
}

// Has reports whether attribute t was read.
func (a Attrs) Has(t uint) bool { _, ok := a.Values[t]; return ok }

// Bytes returns attribute t's value (nil when unavailable).
func (a Attrs) Bytes(t uint) []byte { return a.Values[t] }

// Bool returns attribute t as a CK_BBOOL, and whether it was read.
func (a Attrs) Bool(t uint) (v, ok bool) {
	b, ok := a.Values[t]
	if !ok || len(b) == 0 {
		return false, false
	}
	return b[0] != 0, true
}

// Ulong returns attribute t as a CK_ULONG (native width and order), and
// whether it was read.
func (a Attrs) Ulong(t uint) (uint, bool) {
	b, ok := a.Values[t]
	if !ok {
		return 0, false
	}
	return DecodeUlong(b)
}

// DecodeUlong decodes a CK_ULONG attribute value as this platform's C code
// writes it (little-endian on the platforms craton supports).
func DecodeUlong(b []byte) (uint, bool) {
	switch len(b) {
	case 8:
		return uint(binary.LittleEndian.Uint64(b)), true
	case 4:
		return uint(binary.LittleEndian.Uint32(b)), true
	}
	return 0, false
}

// ReadAttrs reads the given attribute types of object oh. It asks for all of
// them in one call and, when the module refuses the set (miekg/pkcs11
// returns nothing at all if one attribute is sensitive or unknown), falls
// back to one call per attribute so that every readable value is returned.
func ReadAttrs(m Module, sh pkcs11.SessionHandle, oh pkcs11.ObjectHandle, types ...uint) (Attrs, error) {
	res := Attrs{Values: map[uint][]byte{}, Unavailable: map[uint]uint{}}
	got, err := m.GetAttributeValue(sh, oh, template(types))
	if err == nil {
		for _, a := range got {
			res.Values[a.Type] = a.Value
		}
		return res, nil
	}
	if fatalAttrErr(err) {
		return res, Wrap("C_GetAttributeValue", err)
	}
	for _, t := range types {
		got, err := m.GetAttributeValue(sh, oh, template([]uint{t}))
		switch {
		case err == nil && len(got) == 1:
			res.Values[t] = got[0].Value
		case err != nil && fatalAttrErr(err):
			return res, Wrap("C_GetAttributeValue", err)
		default:
			res.Unavailable[t] = RV(err)
		}
	}
	return res, nil
}

// fatalAttrErr is true for errors about the call itself rather than about
// one attribute.
func fatalAttrErr(err error) bool {
	switch RV(err) {
	case pkcs11.CKR_ATTRIBUTE_SENSITIVE, pkcs11.CKR_ATTRIBUTE_TYPE_INVALID, pkcs11.CKR_BUFFER_TOO_SMALL:
		return false
	}
	return true
}

func template(types []uint) []*pkcs11.Attribute {
	t := make([]*pkcs11.Attribute, len(types))
	for i, typ := range types {
		t[i] = pkcs11.NewAttribute(typ, nil)
	}
	return t
}
