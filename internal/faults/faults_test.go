package faults

import (
	"errors"
	"testing"

	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// fake is a p11.Module whose GetSlotList and GetInfo succeed.
type fake struct{ p11.Module }

func (fake) GetSlotList(bool) ([]uint, error) { return []uint{0}, nil }
func (fake) GetInfo() (pkcs11.Info, error)    { return pkcs11.Info{}, nil }

func TestRules(t *testing.T) {
	m := Wrap(fake{}, Rule{Func: "C_GetSlotList", After: 2, Times: 2, RV: pkcs11.CKR_DEVICE_REMOVED})
	var got []uint
	for range 6 {
		_, err := m.GetSlotList(true)
		got = append(got, p11.RV(err))
	}
	want := []uint{0, 0, pkcs11.CKR_DEVICE_REMOVED, pkcs11.CKR_DEVICE_REMOVED, 0, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("call results %x, want %x", got, want)
		}
	}
	if m.Calls("C_GetSlotList") != 6 || len(m.Injected()) != 2 {
		t.Fatalf("calls %d injected %v", m.Calls("C_GetSlotList"), m.Injected())
	}
	// "*" counts every call; the default RV is CKR_DEVICE_ERROR.
	m.Set(Rule{Func: "*", After: 1})
	if _, err := m.GetInfo(); err != nil {
		t.Fatal(err)
	}
	_, err := m.GetSlotList(true)
	var rv pkcs11.Error
	if !errors.As(err, &rv) || uint(rv) != pkcs11.CKR_DEVICE_ERROR || m.Total() != 2 {
		t.Fatalf("after '*' rule: %v, total %d", err, m.Total())
	}
	if s := ShimRule(Rule{Func: "C_GetAttributeValue", After: 5, RV: 0x30}, Rule{Func: "C_Initialize"}); s != "C_GetAttributeValue:5:0x30,C_Initialize:0:0x30" {
		t.Fatalf("ShimRule %q", s)
	}
}
