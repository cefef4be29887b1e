package hsm

import (
	"bytes"
	"sort"

	"github.com/miekg/pkcs11"
)

// Find keeps every visible object's decrypted attributes in memory
// (Ctx.objects), so a search is a scan of maps, never a decryption; a
// template naming CKA_LABEL or CKA_ID starts from the attribute index.

// FindObjectsInit starts a search. Only objects the session may see match:
// private objects only while the user is logged in. Matching is exact on
// the bytes; hidden key material never matches, so a search cannot be used
// as an oracle for a sensitive value; a type the engine does not know
// matches nothing.
func (c *Ctx) FindObjectsInit(sh pkcs11.SessionHandle, temp []*pkcs11.Attribute) error {
	for _, a := range temp {
		if a == nil {
			return errArgumentsBad
		}
	}
	return c.beginOp(sh, opFind, func(s *session) (*activeOp, error) {
		return &activeOp{found: c.match(s, temp)}, nil
	})
}

// match returns the handles of the objects s sees that match temp, in
// creation order.
func (c *Ctx) match(s *session, temp []*pkcs11.Attribute) []pkcs11.ObjectHandle {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var hits []*object
	consider := func(o *object) {
		if o.visibleTo(s) && matches(o.attrs, temp) {
			hits = append(hits, o)
		}
	}
	if !c.index.candidates(temp, consider) {
		for _, o := range c.objects {
			consider(o)
		}
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].seq < hits[j].seq })
	out := make([]pkcs11.ObjectHandle, len(hits))
	for i, o := range hits {
		out[i] = o.h
	}
	return out
}

func matches(m attrList, temp []*pkcs11.Attribute) bool {
	for _, a := range temp {
		v, ok := m.get(a.Type)
		if !ok || m.hidden(a.Type) || !bytes.Equal(v, a.Value) {
			return false
		}
	}
	return true
}

// FindObjects returns up to max further handles; an empty result means the
// search is exhausted. The bool is always false (miekg's signature).
func (c *Ctx) FindObjects(sh pkcs11.SessionHandle, max int) ([]pkcs11.ObjectHandle, bool, error) {
	var out []pkcs11.ObjectHandle
	err := c.withOp(sh, opFind, func(op *activeOp) (bool, error) {
		if max < 0 {
			return false, errArgumentsBad
		}
		n := min(max, len(op.found))
		out = append([]pkcs11.ObjectHandle{}, op.found[:n]...)
		op.found = op.found[n:]
		return false, nil
	})
	return out, false, err
}

// FindObjectsFinal ends the search.
func (c *Ctx) FindObjectsFinal(sh pkcs11.SessionHandle) error {
	return c.withOp(sh, opFind, func(*activeOp) (bool, error) { return true, nil })
}
