package wrapmove

import (
	"bytes"

	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// findTarget returns the target objects with this class, CKA_ID and label.
// CKA_ID goes into the search only when set (data objects often have none)
// and is then compared exactly, so "no ID" matches only "no ID".
func (m *mover) findTarget(class string, id []byte, label string) ([]pkcs11.ObjectHandle, error) {
	return findByIdentity(m.dst, class, id, label)
}

func findByIdentity(s *p11.Session, class string, id []byte, label string) ([]pkcs11.ObjectHandle, error) {
	cls, _ := classValue(class)
	t := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, cls),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
	}
	if len(id) > 0 {
		t = append(t, pkcs11.NewAttribute(pkcs11.CKA_ID, id))
	}
	hs, err := s.FindAll(t)
	if err != nil || len(id) > 0 {
		return hs, err
	}
	var out []pkcs11.ObjectHandle
	for _, h := range hs {
		a, err := p11.ReadAttrs(s.M, s.H, h, pkcs11.CKA_ID)
		if err != nil {
			return nil, err
		}
		if bytes.Equal(a.Bytes(pkcs11.CKA_ID), id) {
			out = append(out, h)
		}
	}
	return out, nil
}

// snapshot lists the target's objects of one class, before an operation
// that may leave a half-made object behind when it fails.
func (m *mover) snapshot(class string) map[pkcs11.ObjectHandle]bool {
	cls, _ := classValue(class)
	hs, err := m.dst.FindAll([]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, cls)})
	if err != nil {
		return nil
	}
	set := make(map[pkcs11.ObjectHandle]bool, len(hs))
	for _, h := range hs {
		set[h] = true
	}
	return set
}

// removeOrphans destroys objects of class that appeared since before. A
// failed C_UnwrapKey in SoftHSMv2 can persist an object with no label or
// ID (Appendix A); this returns the target to how it began. The target
// must not be in use by anyone else during the move, which the runbook
// says.
func (m *mover) removeOrphans(class string, before map[pkcs11.ObjectHandle]bool) int {
	if before == nil {
		return 0
	}
	after := m.snapshot(class)
	n := 0
	for h := range after {
		if !before[h] {
			if m.dst.M.DestroyObject(m.dst.H, h) == nil {
				n++
			}
		}
	}
	return n
}
