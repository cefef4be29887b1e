package hsm

import (
	"github.com/miekg/pkcs11"
)

// indexed are the attributes searches usually name; an index on them turns
// a find by label or ID into a map lookup instead of a scan of every
// object (10,000 objects: ~10 ms scanned, µs indexed).
var indexed = [...]uint{pkcs11.CKA_LABEL, pkcs11.CKA_ID}

type indexKey struct {
	typ uint
	val string
}

// attrIndex maps an indexed attribute value to the objects holding it.
// Guarded by Ctx.mu.
type attrIndex map[indexKey]map[*object]struct{}

func (ix attrIndex) add(o *object) {
	for _, t := range indexed {
		if v, ok := o.attrs.get(t); ok {
			k := indexKey{t, string(v)}
			if ix[k] == nil {
				ix[k] = map[*object]struct{}{}
			}
			ix[k][o] = struct{}{}
		}
	}
}

func (ix attrIndex) remove(o *object) {
	for _, t := range indexed {
		if v, ok := o.attrs.get(t); ok {
			k := indexKey{t, string(v)}
			delete(ix[k], o)
			if len(ix[k]) == 0 {
				delete(ix, k)
			}
		}
	}
}

// candidates returns the objects that can match temp: those of the
// smallest index bucket the template names, or nil, false when the
// template names no indexed attribute (the caller then scans).
func (ix attrIndex) candidates(temp []*pkcs11.Attribute) (map[*object]struct{}, bool) {
	var best map[*object]struct{}
	found := false
	for _, a := range temp {
		for _, t := range indexed {
			if a.Type != t {
				continue
			}
			b := ix[indexKey{t, string(a.Value)}]
			if !found || len(b) < len(best) {
				best, found = b, true
			}
		}
	}
	return best, found
}
