package wrapmove

import (
	"bytes"

	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// targetIndex knows every target object by identity, read once at the
// start and kept up to date as objects are created and destroyed. Per-key
// searches would cost O(objects) each on SoftHSMv2's file store, which
// re-reads object files on every C_FindObjectsInit; with the index a move
// is linear in the number of objects.
type targetIndex struct {
	byIdentity map[string][]pkcs11.ObjectHandle
	pubByID    map[string]pkcs11.ObjectHandle
	known      map[pkcs11.ObjectHandle]ixEntry
}

// ixEntry is where an indexed handle is filed, so that remove is O(1).
type ixEntry struct{ key, pubID string }

func identityKey(class string, id []byte, label string) string {
	return class + "\x00" + string(id) + "\x00" + label
}

// indexTarget reads class, CKA_ID and label of every target object.
func indexTarget(s *p11.Session) (*targetIndex, error) {
	hs, err := s.FindAll(nil)
	if err != nil {
		return nil, err
	}
	ix := &targetIndex{byIdentity: map[string][]pkcs11.ObjectHandle{}, pubByID: map[string]pkcs11.ObjectHandle{},
		known: map[pkcs11.ObjectHandle]ixEntry{}}
	for _, h := range hs {
		a, err := p11.ReadAttrs(s.M, s.H, h, pkcs11.CKA_CLASS, pkcs11.CKA_ID, pkcs11.CKA_LABEL)
		if err != nil {
			return nil, err
		}
		cls, _ := a.Ulong(pkcs11.CKA_CLASS)
		ix.add(className(cls), a.Bytes(pkcs11.CKA_ID), string(a.Bytes(pkcs11.CKA_LABEL)), h)
	}
	return ix, nil
}

func (ix *targetIndex) add(class string, id []byte, label string, h pkcs11.ObjectHandle) {
	k := identityKey(class, id, label)
	ix.byIdentity[k] = append(ix.byIdentity[k], h)
	e := ixEntry{key: k}
	if class == ClassPublicKey && len(id) > 0 {
		e.pubID = string(id)
		if _, ok := ix.pubByID[e.pubID]; !ok {
			ix.pubByID[e.pubID] = h
		}
	}
	ix.known[h] = e
}

func (ix *targetIndex) remove(h pkcs11.ObjectHandle) {
	e, ok := ix.known[h]
	if !ok {
		return
	}
	delete(ix.known, h)
	hs := ix.byIdentity[e.key]
	for i, x := range hs {
		if x == h {
			ix.byIdentity[e.key] = append(hs[:i:i], hs[i+1:]...)
			break
		}
	}
	if e.pubID != "" && ix.pubByID[e.pubID] == h {
		delete(ix.pubByID, e.pubID)
	}
}

// findTarget returns the target objects with this class, CKA_ID and label.
func (m *mover) findTarget(class string, id []byte, label string) ([]pkcs11.ObjectHandle, error) {
	if m.ix == nil {
		return findByIdentity(m.dst, class, id, label)
	}
	return append([]pkcs11.ObjectHandle(nil), m.ix.byIdentity[identityKey(class, id, label)]...), nil
}

// destroyTarget destroys target objects craton created and forgets them.
func (m *mover) destroyTarget(hs ...pkcs11.ObjectHandle) {
	destroyAll(m.dst, hs...)
	if m.ix != nil {
		for _, h := range hs {
			m.ix.remove(h)
		}
	}
}

// findByIdentity searches the session for class, CKA_ID and label.
// CKA_ID goes into the search only when set (data objects often have none)
// and is then compared exactly, so "no ID" matches only "no ID".
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

// removeOrphans destroys objects of class that craton does not know: a
// failed C_UnwrapKey in SoftHSMv2 can persist an object with no label or
// ID (Appendix A); this returns the target to how it began. The target
// must not be in use by anyone else during the move, which the runbook
// says. The search runs only after a failure.
func (m *mover) removeOrphans(class string) int {
	cls, _ := classValue(class)
	hs, err := m.dst.FindAll([]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, cls)})
	if err != nil || m.ix == nil {
		return 0
	}
	n := 0
	for _, h := range hs {
		if _, known := m.ix.known[h]; !known && m.dst.M.DestroyObject(m.dst.H, h) == nil {
			n++
		}
	}
	return n
}
