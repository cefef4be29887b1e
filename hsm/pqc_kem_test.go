package hsm

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

// objAttrs returns a copy of the attribute map of object h.
func objAttrs(t *testing.T, c *Ctx, sh pkcs11.SessionHandle, h pkcs11.ObjectHandle) attrMap {
	t.Helper()
	c.mu.RLock()
	defer c.mu.RUnlock()
	s, err := c.sessionLocked(sh)
	must(t, err)
	o, err := c.objectFor(s, h)
	must(t, err)
	return o.attrs.clone()
}

// diffAttrs lists the attribute types whose presence or value differs.
func diffAttrs(a, b attrMap) []uint {
	var d []uint
	for t, v := range a {
		if w, ok := b[t]; !ok || !bytes.Equal(v, w) {
			d = append(d, t)
		}
	}
	for t := range b {
		if _, ok := a[t]; !ok {
			d = append(d, t)
		}
	}
	return d
}

// TestKEMCachedSecretAttrs: the shared-secret key of C_EncapsulateKey /
// C_DecapsulateKey with an empty template (built from the cached attribute
// set, kemSecretAttrs) has exactly the attributes and values of one built
// the general way (a template that only restates the default, which takes
// kemSecretAttrsFull); only CKA_UNIQUE_ID differs. Values are not shared
// with the cache.
func TestKEMCachedSecretAttrs(t *testing.T) {
	c, sh := ready(t, t.TempDir())
	restate := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true)}
	for _, m := range []uint{ck.CKM_ML_KEM, ck.CKM_CRATON_ML_KEM_768, ck.CKM_CRATON_HYBRID_X25519_MLKEM768} {
		gen, set := m, uint(0)
		if m == ck.CKM_ML_KEM {
			gen, set = ck.CKM_ML_KEM_KEY_PAIR_GEN, ck.CKP_ML_KEM_768
		}
		hp, hq := genPQPair(t, c, sh, gen, set, false)
		ct, hEnc, err := c.EncapsulateKey(sh, mk(m, nil), hp, nil)
		must(t, err)
		hDec, err := c.DecapsulateKey(sh, mk(m, nil), hq, nil, ct)
		must(t, err)
		hFull, err := c.DecapsulateKey(sh, mk(m, nil), hq, restate, ct)
		must(t, err)
		full := objAttrs(t, c, sh, hFull)
		for name, h := range map[string]pkcs11.ObjectHandle{"encapsulate": hEnc, "decapsulate": hDec} {
			got := objAttrs(t, c, sh, h)
			d := diffAttrs(got, full)
			if len(d) != 1 || d[0] != ck.CKA_UNIQUE_ID {
				t.Errorf("%s %s: attributes differing from the general build: %#x", ck.MechName(m), name, d)
			}
			if len(got[ck.CKA_UNIQUE_ID]) != 32 || bytes.Equal(got[ck.CKA_UNIQUE_ID], full[ck.CKA_UNIQUE_ID]) {
				t.Errorf("%s %s: CKA_UNIQUE_ID %q", ck.MechName(m), name, got[ck.CKA_UNIQUE_ID])
			}
		}
		// The check value is readable through the API (the value of
		// this sensitive key is not).
		kcv := attr(t, c, sh, hDec, pkcs11.CKA_CHECK_VALUE)
		if len(kcv) != 3 || !bytes.Equal(kcv, full[pkcs11.CKA_CHECK_VALUE]) {
			t.Errorf("%s: CKA_CHECK_VALUE %x", ck.MechName(m), kcv)
		}
	}
	// The cached bases still hold their all-zero values: nothing per
	// object leaked into them.
	n := 0
	kemBases.Range(func(k, v any) bool {
		n++
		b := v.(*kemBase)
		if b == nil {
			t.Errorf("shape %+v not served from the cache", k)
			return true
		}
		zero := make([]byte, k.(kemShape).n)
		if v, _ := b.list.get(pkcs11.CKA_VALUE); !bytes.Equal(v, zero) || !bytes.Equal(b.full[pkcs11.CKA_VALUE], zero) {
			t.Errorf("cached %+v: CKA_VALUE changed", k)
		}
		return true
	})
	if n < 2 {
		t.Fatalf("%d cached shapes, want AES and generic secret", n)
	}
}

// TestKEMSecretTemplates: templates still take the general route and are
// honoured (key type, length, sensitivity), and two keys made with an
// empty template have different values and unique IDs.
func TestKEMSecretTemplates(t *testing.T) {
	c, sh := ready(t, t.TempDir())
	hp, hq := genPQPair(t, c, sh, ck.CKM_CRATON_ML_KEM_768, 0, false)
	m := mk(ck.CKM_CRATON_ML_KEM_768, nil)
	ct1, h1, err := c.EncapsulateKey(sh, m, hp, nil)
	must(t, err)
	_, h2, err := c.EncapsulateKey(sh, m, hp, nil)
	must(t, err)
	a1, a2 := objAttrs(t, c, sh, h1), objAttrs(t, c, sh, h2)
	for _, typ := range kemPerObject {
		if bytes.Equal(a1[typ], a2[typ]) {
			t.Errorf("attribute %#x equal in two new keys", typ)
		}
	}
	for _, tc := range []struct {
		tmpl    []*pkcs11.Attribute
		kt, len uint
	}{
		{[]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 16)}, pkcs11.CKK_AES, 16},
		{[]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_GENERIC_SECRET), pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 20)}, pkcs11.CKK_GENERIC_SECRET, 20},
		{[]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, false)}, pkcs11.CKK_AES, 32},
	} {
		h, err := c.DecapsulateKey(sh, m, hq, tc.tmpl, ct1)
		must(t, err)
		a := objAttrs(t, c, sh, h)
		if a.ulong(pkcs11.CKA_KEY_TYPE) != tc.kt || a.ulong(pkcs11.CKA_VALUE_LEN) != tc.len || !bytes.Equal(a[pkcs11.CKA_VALUE], a1[pkcs11.CKA_VALUE][:tc.len]) {
			t.Errorf("template %s: key type %d, length %d", fmt.Sprint(tc.tmpl[0].Type), a.ulong(pkcs11.CKA_KEY_TYPE), a.ulong(pkcs11.CKA_VALUE_LEN))
		}
		if !bytes.Equal(a[pkcs11.CKA_CHECK_VALUE], secretCheckValue(tc.kt, a[pkcs11.CKA_VALUE])) {
			t.Errorf("template %#x: check value", tc.tmpl[0].Type)
		}
	}
}

// TestKEMCachedObjectLikeGeneral: the shared-secret key built from the
// cached attribute list (publishKEMFromBase) reads like one built from its
// template the general way; both are published by newObjectListLocked.
func TestKEMCachedObjectLikeGeneral(t *testing.T) {
	c, sh := ready(t, t.TempDir())
	hp, hq := genPQPair(t, c, sh, ck.CKM_ML_KEM_KEY_PAIR_GEN, ck.CKP_ML_KEM_768, false)
	m := mk(ck.CKM_ML_KEM, nil)
	ct, hFast, err := c.EncapsulateKey(sh, m, hp, nil)
	must(t, err)
	hFull, err := c.DecapsulateKey(sh, m, hq, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true)}, ct)
	must(t, err)
	c.mu.RLock()
	defer c.mu.RUnlock()
	f, g := c.objects[hFast], c.objects[hFull]
	switch {
	case f.slot != g.slot, f.owner != g.owner || f.owner != sh, f.private != g.private, f.mat != g.mat:
		t.Errorf("slot/owner/private/mat: %d %d %v %v, general %d %d %v %v", f.slot, f.owner, f.private, f.mat, g.slot, g.owner, g.private, g.mat)
	case f.seq == 0 || f.seq == g.seq:
		t.Errorf("sequence numbers %d, %d", f.seq, g.seq)
	case f.key.ring != g.key.ring || f.key.ring != c.keys || f.key.inRing != g.key.inRing:
		t.Error("parsed-key slot not in the Ctx's ring as a general object's")
	case (f.key.p.Load() == nil) != (g.key.p.Load() == nil):
		t.Error("parsed key cached in one object only")
	case f.nonces == nil || f.nonces.c != c || f.nonces.slot != g.nonces.slot || f.nonces.id != uint64(hFast) || f.nonces.persistent != g.nonces.persistent:
		t.Errorf("nonce state %+v, general %+v", f.nonces, g.nonces)
	case f.attrs.base == nil || f.attrs.base[pkcs11.CKA_CLASS] == nil || len(f.attrs.own) != len(g.attrs.own):
		t.Errorf("attribute list: %d own entries, general %d", len(f.attrs.own), len(g.attrs.own))
	}
	for i := range f.attrs.own {
		if i > 0 && f.attrs.own[i-1].t >= f.attrs.own[i].t {
			t.Fatal("own entries not sorted")
		}
	}
}

// TestKEMCachedConcurrent: keys built at once from the shared cached base
// (run with -race) each keep their own value, check value and unique ID.
func TestKEMCachedConcurrent(t *testing.T) {
	c, sh := ready(t, t.TempDir())
	hp, hq := genPQPair(t, c, sh, ck.CKM_CRATON_ML_KEM_768, 0, false)
	m := mk(ck.CKM_CRATON_ML_KEM_768, nil)
	const workers, each = 4, 25
	type made struct {
		ct []byte
		h  pkcs11.ObjectHandle
	}
	out := make(chan made, workers*each)
	errs := make(chan error, workers)
	for range workers {
		go func() {
			for range each {
				ct, h, err := c.EncapsulateKey(sh, m, hp, nil)
				if err != nil {
					errs <- err
					return
				}
				out <- made{ct, h}
			}
			errs <- nil
		}()
	}
	for range workers {
		must(t, <-errs)
	}
	close(out)
	ids := map[string]bool{}
	for x := range out {
		a := objAttrs(t, c, sh, x.h)
		hd, err := c.DecapsulateKey(sh, m, hq, nil, x.ct)
		must(t, err)
		d := objAttrs(t, c, sh, hd)
		if !bytes.Equal(a[pkcs11.CKA_VALUE], d[pkcs11.CKA_VALUE]) || !bytes.Equal(a[pkcs11.CKA_CHECK_VALUE], secretCheckValue(pkcs11.CKK_AES, a[pkcs11.CKA_VALUE])) {
			t.Fatal("a key's value or check value is not its own")
		}
		for _, u := range [][]byte{a[ck.CKA_UNIQUE_ID], d[ck.CKA_UNIQUE_ID]} {
			if ids[string(u)] {
				t.Fatalf("CKA_UNIQUE_ID %s twice", u)
			}
			ids[string(u)] = true
		}
	}
	if len(ids) != 2*workers*each {
		t.Fatalf("%d unique IDs", len(ids))
	}
}
