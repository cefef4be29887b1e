package hsm

import (
	"encoding/binary"
	"testing"

	"github.com/miekg/pkcs11"
)

// decodeTemplate turns fuzz bytes into a template: repeated
// [type: 2 bytes, high bit set = vendor range][len: 1 byte][value].
// Types are drawn from the low attribute range so that most inputs hit
// real attributes (class, key type, token, label, value, value_len...).
func decodeTemplate(b []byte) []*pkcs11.Attribute {
	var t []*pkcs11.Attribute
	for len(b) >= 3 && len(t) < 32 {
		typ := uint(binary.BigEndian.Uint16(b))
		if typ&0x8000 != 0 {
			typ = 0x80000000 | typ&0x7fff
		} else {
			typ &= 0x1ff
		}
		n := int(b[2])
		b = b[3:]
		n = min(n, len(b))
		t = append(t, &pkcs11.Attribute{Type: typ, Value: append([]byte(nil), b[:n]...)})
		b = b[n:]
	}
	return t
}

func encodeTemplate(t []*pkcs11.Attribute) []byte {
	var b []byte
	for _, a := range t {
		b = binary.BigEndian.AppendUint16(b, uint16(a.Type&0x1ff))
		b = append(b, byte(len(a.Value)))
		b = append(b, a.Value...)
	}
	return b
}

// FuzzCreateObject creates objects from fuzzed templates on a real engine
// (persistent store, logged in): no template may panic the engine; a
// template it accepts gives an object whose class reads back, that survives
// a find, and that can be destroyed; sensitive values stay unreadable.
func FuzzCreateObject(f *testing.F) {
	f.Add(encodeTemplate(aesTemplate("label", "id", make([]byte, 32), true)))
	f.Add(encodeTemplate(aesTemplate("", "", make([]byte, 16), false)))
	f.Add(encodeTemplate(dataTemplate("data", true, true)))
	f.Add([]byte{0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 4})                      // CKA_CLASS with an 8-byte unknown class
	f.Add([]byte{0, 0, 3, 1, 2, 3})                                     // CKA_CLASS of 3 bytes
	f.Add([]byte{0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0x11, 0, 0, 1, 1}) // secret key, CKA_VALUE_LEN 0 bytes...
	c, sh := ready(f, f.TempDir())
	f.Fuzz(func(t *testing.T, data []byte) {
		tmpl := decodeTemplate(data)
		h, err := c.CreateObject(sh, tmpl)
		if err != nil {
			return
		}
		got, err := c.GetAttributeValue(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, nil)})
		if err != nil || len(got) != 1 || len(got[0].Value) != 8 {
			t.Fatalf("created object %d: CKA_CLASS unreadable: %v", h, err)
		}
		sens, err := c.GetAttributeValue(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, nil)})
		if err == nil && len(sens) == 1 && len(sens[0].Value) > 0 && sens[0].Value[0] == 1 {
			if v, err := c.GetAttributeValue(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)}); err == nil && len(v) == 1 && len(v[0].Value) > 0 {
				t.Fatalf("sensitive object %d revealed CKA_VALUE", h)
			}
		}
		if err := c.DestroyObject(sh, h); err != nil {
			t.Fatalf("destroy created object %d: %v", h, err)
		}
	})
}
