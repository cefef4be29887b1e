package hsm

import (
	"bytes"
	"slices"
	"testing"

	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

// TestAttrListReadsLikeItsMap: an object's compact attributes give exactly
// the attributes, values and absences of the map they were made from —
// with every default present, with a default changed, with a default
// missing (an old record), for a kind without cached defaults, and empty.
func TestAttrListReadsLikeItsMap(t *testing.T) {
	aes := newObjectAttrs(pkcs11.CKO_SECRET_KEY, pkcs11.CKK_AES, attrMap{
		pkcs11.CKA_TOKEN: encBool(true), pkcs11.CKA_LABEL: []byte("k"), pkcs11.CKA_VALUE: bytes.Repeat([]byte{7}, 32),
		pkcs11.CKA_SENSITIVE: encBool(false), pkcs11.CKA_EXTRACTABLE: encBool(true)})
	aes[ck.CKA_UNIQUE_ID] = uniqueID()
	missing := aes.clone()
	delete(missing, pkcs11.CKA_DERIVE)
	data := newObjectAttrs(pkcs11.CKO_DATA, ^uint(0), attrMap{pkcs11.CKA_VALUE: []byte("d")})
	odd := attrMap{pkcs11.CKA_CLASS: encUlong(pkcs11.CKO_SECRET_KEY), pkcs11.CKA_KEY_TYPE: encUlong(0x7777), pkcs11.CKA_VALUE: []byte{1}}
	for name, m := range map[string]attrMap{"aes": aes, "missing default": missing, "data": data, "unsupported kind": odd, "empty": {}} {
		l := newAttrList(m)
		if got := l.clone(); len(got) != len(m) {
			t.Fatalf("%s: clone has %d attributes, want %d", name, len(got), len(m))
		}
		for typ := range attrTable {
			v, ok := l.get(typ)
			w, wok := m[typ]
			if ok != wok || !bytes.Equal(v, w) {
				t.Fatalf("%s: attribute 0x%x = %x, %v; want %x, %v", name, typ, v, ok, w, wok)
			}
			if l.hidden(typ) != m.hidden(typ) || l.bool(typ) != m.bool(typ) || l.ulong(typ) != m.ulong(typ) {
				t.Fatalf("%s: attribute 0x%x reads differently", name, typ)
			}
		}
		if !bytes.Equal(encodeRecord(l.clone()), encodeRecord(m)) {
			t.Fatalf("%s: record differs", name)
		}
	}
	if l := newAttrList(aes); len(l.own) >= len(aes)/2 || l.base == nil {
		t.Fatalf("defaults not shared: %d of %d attributes own", len(l.own), len(aes))
	}
	if l := newAttrList(missing); l.base != nil {
		t.Fatal("a list missing a default shares the defaults")
	}
	var none attrList
	if _, ok := none.get(pkcs11.CKA_CLASS); ok || len(none.clone()) != 0 {
		t.Fatal("nil list has attributes")
	}
}

// TestParsedKeysBounded: at most keyCacheSize objects keep a parsed key;
// an evicted key is parsed again and works, and a key in use stays cached.
func TestParsedKeysBounded(t *testing.T) {
	c, sh := ready(t, t.TempDir())
	encrypt := func(h pkcs11.ObjectHandle) []byte {
		t.Helper()
		must(t, c.EncryptInit(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_CBC, make([]byte, 16))}, h))
		out, err := c.Encrypt(sh, make([]byte, 16))
		must(t, err)
		return out
	}
	hot := genAES(t, c, sh, false)
	var hs []pkcs11.ObjectHandle
	var first []byte
	for i := range 2*keyCacheSize + 10 { // the first key, used once, gets a second round
		h := genAES(t, c, sh, false)
		hs = append(hs, h)
		if i == 0 {
			first = encrypt(h)
		}
		encrypt(hot)
	}
	cached := 0
	c.mu.RLock()
	for _, o := range c.objects {
		if o.key.p.Load() != nil {
			cached++
		}
	}
	hotCached := c.objects[hot].key.p.Load() != nil
	firstCached := c.objects[hs[0]].key.p.Load() != nil
	c.mu.RUnlock()
	if cached > keyCacheSize || !hotCached || firstCached {
		t.Fatalf("%d parsed keys cached (at most %d), hot key cached %v, first key cached %v", cached, keyCacheSize, hotCached, firstCached)
	}
	if again := encrypt(hs[0]); !bytes.Equal(again, first) {
		t.Fatal("an evicted key encrypts differently")
	}
}

// TestIndexBuckets: a label held by more objects than a short bucket lists
// (set form) finds the same objects, in creation order, as it shrinks.
func TestIndexBuckets(t *testing.T) {
	c, sh := ready(t, t.TempDir())
	label := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, "shared")}
	var hs []pkcs11.ObjectHandle
	for i := range 2*idxSmall + 3 {
		h, err := c.CreateObject(sh, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_DATA),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, "shared"), pkcs11.NewAttribute(pkcs11.CKA_VALUE, []byte{byte(i)})})
		must(t, err)
		hs = append(hs, h)
	}
	find := func() []pkcs11.ObjectHandle {
		t.Helper()
		must(t, c.FindObjectsInit(sh, label))
		got, _, err := c.FindObjects(sh, 100)
		must(t, err)
		must(t, c.FindObjectsFinal(sh))
		return got
	}
	for len(hs) > 0 {
		if got := find(); !slices.Equal(got, hs) {
			t.Fatalf("found %v, want %v", got, hs)
		}
		i := len(hs) / 2
		must(t, c.DestroyObject(sh, hs[i]))
		hs = slices.Delete(hs, i, i+1)
	}
	if got := find(); len(got) != 0 {
		t.Fatalf("found %v after destroying all", got)
	}
}
