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
type attrIndex map[indexKey]idxBucket

// idxSmall is how many objects a bucket lists before it becomes a set.
const idxSmall = 8

// idxBucket holds the objects sharing one value: a short list (most values
// are held by one object, or a key pair: no map each), or a set when many
// objects share it (an empty label), so that removal stays O(1).
type idxBucket struct {
	few  []*object
	many map[*object]struct{}
}

func (b idxBucket) len() int { return len(b.few) + len(b.many) }

func (ix attrIndex) add(o *object) {
	for _, t := range indexed {
		v, ok := o.attrs.get(t)
		if !ok {
			continue
		}
		k := indexKey{t, string(v)}
		b := ix[k]
		switch {
		case b.many != nil:
			b.many[o] = struct{}{}
		case len(b.few) < idxSmall:
			b.few = append(b.few, o)
		default:
			b.many = make(map[*object]struct{}, 2*idxSmall)
			for _, p := range b.few {
				b.many[p] = struct{}{}
			}
			b.many[o] = struct{}{}
			b.few = nil
		}
		ix[k] = b
	}
}

func (ix attrIndex) remove(o *object) {
	for _, t := range indexed {
		v, ok := o.attrs.get(t)
		if !ok {
			continue
		}
		k := indexKey{t, string(v)}
		b := ix[k]
		if b.many != nil {
			delete(b.many, o)
		} else {
			for i, p := range b.few {
				if p == o {
					b.few = append(b.few[:i:i], b.few[i+1:]...)
					break
				}
			}
		}
		if b.len() == 0 {
			delete(ix, k)
		} else {
			ix[k] = b
		}
	}
}

// candidates calls fn for each object that can match temp: those of the
// smallest index bucket the template names. It returns false when the
// template names no indexed attribute (the caller then scans).
func (ix attrIndex) candidates(temp []*pkcs11.Attribute, fn func(*object)) bool {
	var best idxBucket
	found := false
	for _, a := range temp {
		for _, t := range indexed {
			if a.Type != t {
				continue
			}
			b := ix[indexKey{t, string(a.Value)}]
			if !found || b.len() < best.len() {
				best, found = b, true
			}
		}
	}
	for _, o := range best.few {
		fn(o)
	}
	for o := range best.many {
		fn(o)
	}
	return found
}
