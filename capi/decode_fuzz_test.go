package main

import (
	"encoding/binary"
	"testing"

	"github.com/miekg/pkcs11"
)

// fakeMem is a C address space for the decoders: addresses base.. map onto
// mem; anything else reads as zeros (a real bad pointer would fault in C,
// which no decoder can prevent; what matters here is that the Go side never
// panics or over-allocates, whatever the lengths and pointers say).
type fakeMem struct {
	base uint64
	mem  []byte
}

func (f fakeMem) deref(addr uint64, n int) []byte {
	if n <= 0 || n > maxParam {
		panic("deref called with an unchecked length")
	}
	out := make([]byte, n)
	if addr >= f.base && addr-f.base < uint64(len(f.mem)) {
		copy(out, f.mem[addr-f.base:])
	}
	return out
}

func put(b []byte, vals ...uint64) []byte {
	for _, v := range vals {
		b = binary.NativeEndian.AppendUint64(b, v)
	}
	return b
}

func FuzzDecode(f *testing.F) {
	const base = 0x10000
	// A template {CKA_LABEL "abc"}, a GCM mechanism, an OAEP one, an ECDH one.
	f.Add(put(nil, pkcs11.CKA_LABEL, base, 3), []byte("abc"), uint64(pkcs11.CKM_AES_GCM), 16, false, uint64(0))
	gcm := put(nil, base, 12, 96, base+12, 4, 128)
	f.Add(put(nil, pkcs11.CKM_AES_GCM, base+64, uint64(len(gcm))), append(make([]byte, 64), gcm...), uint64(pkcs11.CKM_AES_GCM), 32, true, uint64(5))
	oaep := put(nil, pkcs11.CKM_SHA256, pkcs11.CKG_MGF1_SHA256, 1, 0, 0)
	f.Add(put(nil, pkcs11.CKM_RSA_PKCS_OAEP, base, uint64(len(oaep))), oaep, uint64(pkcs11.CKM_RSA_PKCS_OAEP), 256, false, uint64(300))
	ecdh := put(nil, pkcs11.CKD_NULL, 0, 0, 65, base+64)
	f.Add(put(nil, pkcs11.CKM_ECDH1_DERIVE, base, uint64(len(ecdh))), append(ecdh, make([]byte, 80)...), uint64(pkcs11.CKM_ECDH1_DERIVE), 0, true, unavailable)

	f.Fuzz(func(t *testing.T, arg, mem []byte, mechType uint64, outLen int, isNull bool, have uint64) {
		m := fakeMem{base: base, mem: mem}

		// Templates: whole elements only, as the cgo side copies count*attrSize.
		raw := arg[:len(arg)/attrSize*attrSize]
		if len(raw)/attrSize <= maxTemplateLen {
			attrs, err := decodeTemplate(raw, m.deref)
			if err == nil {
				refs := parseTemplate(raw)
				if len(attrs) != len(refs) {
					t.Fatalf("%d attributes from %d elements", len(attrs), len(refs))
				}
				for i, a := range attrs {
					if a.Type != refs[i].Type || uint64(len(a.Value)) != refs[i].Len || len(a.Value) > maxAttrValue {
						t.Fatalf("attribute %d: type %#x len %d from %+v", i, a.Type, len(a.Value), refs[i])
					}
				}
			} else if _, ok := err.(pkcs11.Error); !ok {
				t.Fatalf("template error %v is not a CK_RV", err)
			}
		}

		// Mechanisms: the first mechSize bytes with the fuzzed type.
		if len(arg) >= mechSize {
			mraw := append([]byte{}, arg[:mechSize]...)
			binary.NativeEndian.PutUint64(mraw, mechType)
			mech, err := decodeMechanism(mraw, m.deref)
			if err == nil && mech.Mechanism != uint(mechType) {
				t.Fatalf("mechanism %#x became %#x", mechType, mech.Mechanism)
			}
			if err != nil {
				if _, ok := err.(pkcs11.Error); !ok {
					t.Fatalf("mechanism error %v is not a CK_RV", err)
				}
			}
			// Parameter structures straight from the fuzz input.
			decodeGCM(arg, m.deref)
			decodeOAEP(arg, m.deref)
			decodeECDH1(arg, m.deref)
		}

		// The two-call length idiom.
		if outLen < 0 {
			outLen = -outLen
		}
		outLen %= 1 << 20
		o := lengthIdiom(outLen, isNull, have)
		if o.Len != uint64(outLen) {
			t.Fatalf("length idiom reports %d for %d", o.Len, outLen)
		}
		if o.Copy != (!isNull && have >= uint64(outLen)) || o.Copy == o.Keep {
			t.Fatalf("length idiom %+v for n=%d null=%v have=%d", o, outLen, isNull, have)
		}
		if o.RV == pkcs11.CKR_BUFFER_TOO_SMALL && (isNull || have >= uint64(outLen)) {
			t.Fatalf("BUFFER_TOO_SMALL with null=%v have=%d n=%d", isNull, have, outLen)
		}
		value := make([]byte, outLen%4096)
		a := attrIdiom(value, uint(mechType%3)*0x11, isNull, have) // 0, SENSITIVE, 0x22
		if a.Copy && (isNull || have < uint64(len(value)) || a.RV != pkcs11.CKR_OK) {
			t.Fatalf("attribute idiom copies: %+v", a)
		}
		if a.RV != pkcs11.CKR_OK && a.Len != unavailable {
			t.Fatalf("attribute idiom: rv %#x with length %d", a.RV, a.Len)
		}
	})
}

func TestOverallAttrRV(t *testing.T) {
	for _, c := range []struct {
		in   []uint
		want uint
	}{
		{nil, pkcs11.CKR_OK},
		{[]uint{0, pkcs11.CKR_BUFFER_TOO_SMALL, 0}, pkcs11.CKR_BUFFER_TOO_SMALL},
		{[]uint{pkcs11.CKR_BUFFER_TOO_SMALL, pkcs11.CKR_ATTRIBUTE_TYPE_INVALID}, pkcs11.CKR_ATTRIBUTE_TYPE_INVALID},
		{[]uint{pkcs11.CKR_ATTRIBUTE_TYPE_INVALID, pkcs11.CKR_ATTRIBUTE_SENSITIVE}, pkcs11.CKR_ATTRIBUTE_SENSITIVE},
	} {
		if got := overallAttrRV(c.in); got != c.want {
			t.Errorf("overallAttrRV(%v) = %#x, want %#x", c.in, got, c.want)
		}
	}
}
