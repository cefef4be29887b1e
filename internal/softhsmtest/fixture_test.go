package softhsmtest

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// readBack reads every object of tok into the manifest's shape.
func readBack(t *testing.T, tok *Token) []Expected {
	t.Helper()
	var got []Expected
	tok.Do(func(s *p11.Session) {
		hs, err := s.FindAll(nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hs {
			got = append(got, readObject(t, s, h))
		}
	})
	return got
}

var boolAttrs = []struct {
	t   uint
	set func(*Expected, bool)
}{
	{pkcs11.CKA_EXTRACTABLE, func(e *Expected, v bool) { e.Extractable = v }},
	{pkcs11.CKA_SENSITIVE, func(e *Expected, v bool) { e.Sensitive = v }},
	{pkcs11.CKA_PRIVATE, func(e *Expected, v bool) { e.Private = v }},
	{pkcs11.CKA_LOCAL, func(e *Expected, v bool) { e.Local = v }},
	{pkcs11.CKA_ALWAYS_SENSITIVE, func(e *Expected, v bool) { e.AlwaysSensitive = v }},
	{pkcs11.CKA_NEVER_EXTRACTABLE, func(e *Expected, v bool) { e.NeverExtractable = v }},
	{pkcs11.CKA_SIGN, func(e *Expected, v bool) { e.Sign = v }},
	{pkcs11.CKA_VERIFY, func(e *Expected, v bool) { e.Verify = v }},
	{pkcs11.CKA_ENCRYPT, func(e *Expected, v bool) { e.Encrypt = v }},
	{pkcs11.CKA_DECRYPT, func(e *Expected, v bool) { e.Decrypt = v }},
	{pkcs11.CKA_WRAP, func(e *Expected, v bool) { e.Wrap = v }},
	{pkcs11.CKA_UNWRAP, func(e *Expected, v bool) { e.Unwrap = v }},
	{pkcs11.CKA_DERIVE, func(e *Expected, v bool) { e.Derive = v }},
}

func readObject(t *testing.T, s *p11.Session, h pkcs11.ObjectHandle) Expected {
	types := []uint{pkcs11.CKA_CLASS, pkcs11.CKA_LABEL, pkcs11.CKA_ID, pkcs11.CKA_KEY_TYPE, pkcs11.CKA_VALUE_LEN,
		pkcs11.CKA_MODULUS, pkcs11.CKA_EC_PARAMS, pkcs11.CKA_VALUE, pkcs11.CKA_APPLICATION}
	for _, b := range boolAttrs {
		types = append(types, b.t)
	}
	a, err := p11.ReadAttrs(s.M, s.H, h, types...)
	if err != nil {
		t.Fatal(err)
	}
	var e Expected
	e.Class, _ = a.Ulong(pkcs11.CKA_CLASS)
	e.Label = string(a.Bytes(pkcs11.CKA_LABEL))
	e.ID = hex.EncodeToString(a.Bytes(pkcs11.CKA_ID))
	e.KeyType, _ = a.Ulong(pkcs11.CKA_KEY_TYPE)
	for _, b := range boolAttrs {
		if v, ok := a.Bool(b.t); ok {
			b.set(&e, v)
		}
	}
	if n, ok := a.Ulong(pkcs11.CKA_VALUE_LEN); ok {
		e.Len, e.Bits = int(n), 8*int(n)
	}
	if m := a.Bytes(pkcs11.CKA_MODULUS); m != nil {
		e.Bits = 8 * len(m)
	}
	e.Curve = curveOf(a.Bytes(pkcs11.CKA_EC_PARAMS))
	e.Application = string(a.Bytes(pkcs11.CKA_APPLICATION))
	e.Value = a.Bytes(pkcs11.CKA_VALUE)
	return e
}

func curveOf(params []byte) string {
	switch {
	case params == nil:
		return ""
	case bytes.Equal(params, oidP256):
		return "P-256"
	case bytes.Equal(params, oidP384):
		return "P-384"
	case bytes.Equal(params, paramsEd25519OID), bytes.Equal(params, paramsEd25519Printable):
		return "Ed25519"
	}
	return "unknown " + hex.EncodeToString(params)
}

// compare asserts the fields that apply to the object's class.
func compare(t *testing.T, want, got Expected) {
	t.Helper()
	name := ck.ClassName(want.Class) + " " + want.Label
	check := func(field string, w, g any) {
		t.Helper()
		if w != g {
			t.Errorf("%s: %s = %v, want %v", name, field, g, w)
		}
	}
	check("ID", want.ID, got.ID)
	check("Private", want.Private, got.Private)
	// Key values stay in the token (kek-known is not extractable, so its
	// CKA_VALUE is unreadable even though it is not sensitive).
	if want.Value != nil && !want.IsKey() && !bytes.Equal(want.Value, got.Value) {
		t.Errorf("%s: CKA_VALUE = %x, want %x", name, got.Value, want.Value)
	}
	check("Application", want.Application, got.Application)
	if !want.IsKey() {
		return
	}
	check("KeyType", ck.KeyTypeName(want.KeyType), ck.KeyTypeName(got.KeyType))
	check("Local", want.Local, got.Local)
	check("Derive", want.Derive, got.Derive)
	check("Curve", want.Curve, got.Curve)
	if want.Class != pkcs11.CKO_PUBLIC_KEY || want.KeyType == pkcs11.CKK_RSA {
		if want.Curve == "" { // EC sizes are asserted through the curve
			check("Bits", want.Bits, got.Bits)
		}
	}
	switch want.Class {
	case pkcs11.CKO_PUBLIC_KEY:
		check("Verify", want.Verify, got.Verify)
		check("Encrypt", want.Encrypt, got.Encrypt)
		check("Wrap", want.Wrap, got.Wrap)
		return
	case pkcs11.CKO_SECRET_KEY:
		check("Len", want.Len, got.Len)
		check("Verify", want.Verify, got.Verify)
		check("Encrypt", want.Encrypt, got.Encrypt)
		check("Wrap", want.Wrap, got.Wrap)
	}
	check("Extractable", want.Extractable, got.Extractable)
	check("Sensitive", want.Sensitive, got.Sensitive)
	check("AlwaysSensitive", want.AlwaysSensitive, got.AlwaysSensitive)
	check("NeverExtractable", want.NeverExtractable, got.NeverExtractable)
	check("Sign", want.Sign, got.Sign)
	check("Decrypt", want.Decrypt, got.Decrypt)
	check("Unwrap", want.Unwrap, got.Unwrap)
}

func assertManifest(t *testing.T, want, got []Expected) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("token has %d objects, manifest %d", len(got), len(want))
	}
	type key struct {
		class uint
		label string
	}
	seen := map[key]Expected{}
	for _, g := range got {
		k := key{g.Class, g.Label}
		if _, dup := seen[k]; dup {
			t.Errorf("duplicate %s %q", ck.ClassName(g.Class), g.Label)
		}
		seen[k] = g
	}
	for _, w := range want {
		g, ok := seen[key{w.Class, w.Label}]
		if !ok {
			t.Errorf("missing %s %q", ck.ClassName(w.Class), w.Label)
			continue
		}
		compare(t, w, g)
	}
}

func TestRepresentativeMatchesManifest(t *testing.T) {
	f := New(t)
	tok := f.EmptyToken("Your-Token-Label")
	start := time.Now()
	want := PopulateRepresentative(tok)
	t.Logf("representative population: %d objects in %v", len(want), time.Since(start))
	if len(want) != RepresentativeCount {
		t.Fatalf("manifest has %d entries, want %d", len(want), RepresentativeCount)
	}
	classes := map[uint]int{}
	for _, w := range want {
		classes[w.Class]++
	}
	if classes[pkcs11.CKO_PRIVATE_KEY] != 9 || classes[pkcs11.CKO_PUBLIC_KEY] != 9 || classes[pkcs11.CKO_SECRET_KEY] != 8 ||
		classes[pkcs11.CKO_CERTIFICATE] != 1 || classes[pkcs11.CKO_DATA] != 1 {
		t.Errorf("class counts %v, want 9 private, 9 public, 8 secret, 1 certificate, 1 data", classes)
	}
	assertManifest(t, want, readBack(t, tok))

	// The token files are consistent for an out-of-process reader too.
	if out := f.SoftHSMUtil("--show-slots"); !strings.Contains(out, "Label:            "+tok.Label) {
		t.Errorf("softhsm2-util --show-slots does not list %q:\n%s", tok.Label, out)
	}
}

func TestTargetHasKnownKEK(t *testing.T) {
	f := New(t)
	tok := f.EmptyToken("Target-Token")
	want := PopulateTarget(tok)
	assertManifest(t, want, readBack(t, tok))
}

func TestEmptyTokenIsEmptyAndLabelsAreUnique(t *testing.T) {
	f := New(t)
	a, b := f.EmptyToken("same"), f.EmptyToken("same")
	if a.Label == b.Label {
		t.Fatalf("two tokens labelled %q", a.Label)
	}
	if got := readBack(t, a); len(got) != 0 {
		t.Errorf("empty token has %d objects", len(got))
	}
	if _, err := p11.FindToken(f.Module(), b.Label, ""); err != nil {
		t.Errorf("FindToken(%q): %v", b.Label, err)
	}
}

func TestParallelFixturesShareOneEnvironment(t *testing.T) {
	dirs := make(chan string, 4)
	t.Run("group", func(t *testing.T) {
		// The group's own fixture keeps the environment alive until every
		// parallel subtest is done: without it a subtest that finished
		// early closed the last fixture, and a later one started afresh.
		dirs <- New(t).Dir()
		for i := 0; i < 3; i++ {
			t.Run("p", func(t *testing.T) {
				t.Parallel()
				f := New(t)
				tok := f.EmptyToken("par")
				PopulateTarget(tok)
				if got := readBack(t, tok); len(got) != 1 {
					t.Errorf("%s: %d objects, want 1", tok.Label, len(got))
				}
				dirs <- f.Dir()
			})
		}
	})
	close(dirs)
	first := <-dirs
	for d := range dirs {
		if d != first {
			t.Errorf("parallel fixtures used two environments: %s and %s", first, d)
		}
	}
}

func TestEnvironmentIsRemovedWithTheLastFixture(t *testing.T) {
	before, had := os.LookupEnv("SOFTHSM2_CONF")
	var dir string
	t.Run("use", func(t *testing.T) {
		f := New(t)
		dir = f.Dir()
		if os.Getenv("SOFTHSM2_CONF") != f.ConfPath() {
			t.Errorf("SOFTHSM2_CONF = %q, want %q", os.Getenv("SOFTHSM2_CONF"), f.ConfPath())
		}
		f.EmptyToken("gone")
	})
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("environment directory %s still exists (%v)", dir, err)
	}
	after, hadAfter := os.LookupEnv("SOFTHSM2_CONF")
	if after != before || had != hadAfter {
		t.Errorf("SOFTHSM2_CONF not restored: %q (set %v), was %q (set %v)", after, hadAfter, before, had)
	}
	// A new environment starts cleanly after the old one is gone.
	f := New(t)
	if toks, err := p11.Tokens(f.Module()); err != nil || len(toks) != 0 {
		t.Errorf("fresh environment shows tokens %v (err %v)", toks, err)
	}
}

func TestBulkThousand(t *testing.T) {
	f := New(t)
	tok := f.EmptyToken("bulk")
	want := PopulateBulk(tok, 1000)
	if len(want) != 1000 {
		t.Fatalf("manifest has %d entries", len(want))
	}
	assertManifest(t, want, readBack(t, tok))
}

func TestStaleEnvironmentIsSwept(t *testing.T) {
	base := t.TempDir()
	stale := base + "/craton-softhsmtest-stale"
	if err := os.MkdirAll(stale, 0o700); err != nil {
		t.Fatal(err)
	}
	// pid 2^22+1 is above Linux's pid_max limit: no such process.
	if err := os.WriteFile(stale+"/"+ownerFile, []byte("4194305"), 0o600); err != nil {
		t.Fatal(err)
	}
	live := base + "/craton-softhsmtest-live"
	_ = os.MkdirAll(live, 0o700)
	_ = os.WriteFile(live+"/"+ownerFile, []byte(strconv.Itoa(os.Getpid())), 0o600)
	sweepStale(base)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale environment not removed: %v", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("live environment removed: %v", err)
	}
}

// BenchmarkPopulateBulk1000 measures what TestBulkThousand and the 1,000-key
// move tests pay to build their source token (a fresh token per iteration).
func BenchmarkPopulateBulk1000(b *testing.B) {
	f := New(b)
	for i := range b.N {
		PopulateBulk(f.EmptyToken(fmt.Sprintf("bulk-%d", i)), 1000)
	}
}
