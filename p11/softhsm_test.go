package p11_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/errs"
	"github.com/craton-co/craton/internal/softhsmtest"
	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// openSoftHSM opens the fixture's library the way production code does.
// The close is registered after softhsmtest.New, so it runs before the
// fixture tears the environment down.
func openSoftHSM(t *testing.T) *p11.Loaded {
	t.Helper()
	l, err := p11.OpenLibrary(p11.DefaultSoftHSM)
	if err != nil {
		t.Fatalf("OpenLibrary: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func kindOf(t *testing.T, err error, want errs.Kind) *errs.Error {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *errs.Error", err, err)
	}
	if e.Kind != want {
		t.Fatalf("kind %d, want %d: %v", e.Kind, want, err)
	}
	return e
}

func TestSoftHSMFindTokenByLabel(t *testing.T) {
	f := softhsmtest.New(t)
	src, dst := f.EmptyToken("p11-source"), f.EmptyToken("p11-target")
	l := openSoftHSM(t)

	tok, err := p11.FindToken(l, src.Label, "")
	if err != nil {
		t.Fatalf("FindToken(%q): %v", src.Label, err)
	}
	if tok.Label != src.Label || tok.Slot != src.Slot || tok.Serial == "" {
		t.Errorf("FindToken = %+v, want label %q slot %d and a serial", tok, src.Label, src.Slot)
	}

	_, err = p11.FindToken(l, "no-such-token", "")
	e := kindOf(t, err, errs.KindTokenNotFound)
	for _, label := range []string{src.Label, dst.Label} {
		if !strings.Contains(e.Error(), label) {
			t.Errorf("not-found error does not list present label %q: %v", label, e)
		}
	}
}

// attrsOfInterest covers readable, sensitive and class-foreign attributes,
// so that one ReadAttrs per object must fall back per attribute.
var attrsOfInterest = []uint{
	pkcs11.CKA_CLASS, pkcs11.CKA_LABEL, pkcs11.CKA_ID, pkcs11.CKA_KEY_TYPE, pkcs11.CKA_SENSITIVE,
	pkcs11.CKA_EXTRACTABLE, pkcs11.CKA_VALUE, pkcs11.CKA_MODULUS, pkcs11.CKA_PRIVATE_EXPONENT,
	pkcs11.CKA_EC_PARAMS, pkcs11.CKA_APPLICATION,
}

func TestSoftHSMReadEveryObject(t *testing.T) {
	f := softhsmtest.New(t)
	src := f.EmptyToken("p11-read")
	manifest := softhsmtest.PopulateRepresentative(src)
	l := openSoftHSM(t)
	tok, err := p11.FindToken(l, src.Label, "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := p11.OpenSession(l, tok, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Login(pkcs11.CKU_USER, softhsmtest.UserPIN); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Logout(s.H) }()

	hs, err := s.FindAll(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != len(manifest) {
		t.Fatalf("FindAll: %d objects, manifest %d", len(hs), len(manifest))
	}
	seen := map[string]bool{}
	for _, h := range hs {
		a, err := p11.ReadAttrs(l, s.H, h, attrsOfInterest...)
		if err != nil {
			t.Fatalf("ReadAttrs(%d): %v", h, err)
		}
		class, ok := a.Ulong(pkcs11.CKA_CLASS)
		if !ok || !a.Has(pkcs11.CKA_LABEL) {
			t.Fatalf("object %d: CLASS/LABEL not read: %v", h, a.Unavailable)
		}
		label := string(a.Bytes(pkcs11.CKA_LABEL))
		seen[ck.ClassName(class)+"/"+label] = true
		want, ok := softhsmtest.Find(manifest, class, label)
		if !ok {
			t.Errorf("unexpected object %s %q", ck.ClassName(class), label)
			continue
		}
		assertAttrs(t, want, a)
	}
	if len(seen) != len(manifest) {
		t.Errorf("read %d distinct objects, manifest %d", len(seen), len(manifest))
	}
}

// assertAttrs checks which attributes a real SoftHSM returns and which it
// refuses, with the CK_RV that says why.
func assertAttrs(t *testing.T, want softhsmtest.Expected, a p11.Attrs) {
	t.Helper()
	name := ck.ClassName(want.Class) + " " + want.Label
	unavailable := func(typ, rv uint) {
		t.Helper()
		if got, ok := a.Unavailable[typ]; !ok || got != rv {
			t.Errorf("%s: %s unavailable=%v (%s), want %s", name, ck.AttrName(typ), ok, ck.RVName(got), ck.RVName(rv))
		}
	}
	readable := func(typ uint) {
		t.Helper()
		if !a.Has(typ) {
			t.Errorf("%s: %s not read (%s)", name, ck.AttrName(typ), ck.RVName(a.Unavailable[typ]))
		}
	}
	switch want.Class {
	case pkcs11.CKO_SECRET_KEY:
		readable(pkcs11.CKA_KEY_TYPE)
		readable(pkcs11.CKA_SENSITIVE)
		readable(pkcs11.CKA_ID)
		if want.Sensitive || !want.Extractable { // kek-known: not sensitive but not extractable
			unavailable(pkcs11.CKA_VALUE, pkcs11.CKR_ATTRIBUTE_SENSITIVE)
		} else if len(a.Bytes(pkcs11.CKA_VALUE)) != want.Len {
			t.Errorf("%s: CKA_VALUE has %d bytes, want %d", name, len(a.Bytes(pkcs11.CKA_VALUE)), want.Len)
		}
		unavailable(pkcs11.CKA_MODULUS, pkcs11.CKR_ATTRIBUTE_TYPE_INVALID)
	case pkcs11.CKO_PRIVATE_KEY:
		readable(pkcs11.CKA_KEY_TYPE)
		readable(pkcs11.CKA_EXTRACTABLE)
		if want.KeyType == pkcs11.CKK_RSA {
			readable(pkcs11.CKA_MODULUS)
			unavailable(pkcs11.CKA_PRIVATE_EXPONENT, pkcs11.CKR_ATTRIBUTE_SENSITIVE)
		} else {
			readable(pkcs11.CKA_EC_PARAMS)
			unavailable(pkcs11.CKA_VALUE, pkcs11.CKR_ATTRIBUTE_SENSITIVE)
		}
	case pkcs11.CKO_PUBLIC_KEY:
		readable(pkcs11.CKA_KEY_TYPE)
		unavailable(pkcs11.CKA_SENSITIVE, pkcs11.CKR_ATTRIBUTE_TYPE_INVALID)
	case pkcs11.CKO_CERTIFICATE:
		if string(a.Bytes(pkcs11.CKA_VALUE)) != string(want.Value) {
			t.Errorf("%s: certificate DER differs from the one stored", name)
		}
		unavailable(pkcs11.CKA_KEY_TYPE, pkcs11.CKR_ATTRIBUTE_TYPE_INVALID)
	case pkcs11.CKO_DATA:
		if string(a.Bytes(pkcs11.CKA_VALUE)) != softhsmtest.DataValue || string(a.Bytes(pkcs11.CKA_APPLICATION)) != "my-app" {
			t.Errorf("%s: value %q application %q", name, a.Bytes(pkcs11.CKA_VALUE), a.Bytes(pkcs11.CKA_APPLICATION))
		}
		unavailable(pkcs11.CKA_ID, pkcs11.CKR_ATTRIBUTE_TYPE_INVALID)
	}
}

func TestSoftHSMWrongPINIsAuthAndNotRetried(t *testing.T) {
	f := softhsmtest.New(t)
	throwaway := f.EmptyToken("p11-wrong-pin") // no session of it is logged in
	l := openSoftHSM(t)
	counting := &loginCounter{Module: l}
	s, err := p11.OpenSession(counting, throwaway.P11(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Login(pkcs11.CKU_USER, "9999")
	e := kindOf(t, err, errs.KindAuth)
	if e.RV != pkcs11.CKR_PIN_INCORRECT || !strings.Contains(err.Error(), "CKR_PIN_INCORRECT") {
		t.Errorf("error %q (rv %s) does not carry CKR_PIN_INCORRECT", err, ck.RVName(e.RV))
	}
	if counting.logins != 1 {
		t.Errorf("C_Login called %d times, want exactly 1", counting.logins)
	}
	if code := errs.ExitCode(err); code != 5 {
		t.Errorf("exit code %d, want 5 (auth)", code)
	}
}

type loginCounter struct {
	p11.Module
	logins int
}

func (c *loginCounter) Login(sh pkcs11.SessionHandle, userType uint, pin string) error {
	c.logins++
	return c.Module.Login(sh, userType, pin)
}

func TestWrongModulePathIsKindModule(t *testing.T) {
	for _, path := range []string{"/nonexistent/libnothing.so", "/etc/hostname", t.TempDir()} {
		l, err := p11.OpenLibrary(path)
		if err == nil {
			_ = l.Close()
			t.Errorf("OpenLibrary(%q) succeeded", path)
			continue
		}
		kindOf(t, err, errs.KindModule)
		if errs.ExitCode(err) != 3 {
			t.Errorf("%s: exit code %d, want 3", path, errs.ExitCode(err))
		}
	}
}

// OpenSCModule initialises without a reader or card: a second, different
// PKCS#11 library to load next to SoftHSM.
const OpenSCModule = "/usr/lib/x86_64-linux-gnu/pkcs11/opensc-pkcs11.so"

func TestTwoModulesConcurrentlyAndRefcount(t *testing.T) {
	f := softhsmtest.New(t)
	src := f.EmptyToken("p11-two-modules")
	soft := openSoftHSM(t)
	osc, err := p11.OpenLibrary(OpenSCModule)
	if err != nil {
		t.Fatalf("OpenLibrary(%s): %v (apt-get install opensc-pkcs11)", OpenSCModule, err)
	}
	defer func() { _ = osc.Close() }()

	infoSoft, err := soft.GetInfo()
	if err != nil {
		t.Fatal(err)
	}
	infoOSC, err := osc.GetInfo()
	if err != nil {
		t.Fatal(err)
	}
	if infoSoft.ManufacturerID == infoOSC.ManufacturerID {
		t.Fatalf("both handles report %q: not two different modules", infoSoft.ManufacturerID)
	}

	// Both modules answer at the same time from many goroutines.
	var wg sync.WaitGroup
	errc := make(chan error, 64)
	for i := 0; i < 16; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if _, err := p11.FindToken(soft, src.Label, ""); err != nil {
				errc <- err
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := osc.GetSlotList(false); err != nil {
				errc <- err
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}

	// Refcounting: open the same library twice, close one (twice: Close is
	// idempotent and must not drop the other reference), the other still works.
	for _, path := range []string{OpenSCModule, p11.DefaultSoftHSM} {
		a, err := p11.OpenLibrary(path)
		if err != nil {
			t.Fatal(err)
		}
		b, err := p11.OpenLibrary(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		_ = a.Close()
		if _, err := b.GetInfo(); err != nil {
			t.Errorf("%s: second reference unusable after the first closed: %v", path, err)
		}
		if _, err := b.GetSlotList(true); err != nil {
			t.Errorf("%s: C_GetSlotList after one close: %v", path, err)
		}
		_ = b.Close()
	}
	// The references held above (soft, osc) are still live.
	if _, err := p11.FindToken(soft, src.Label, ""); err != nil {
		t.Errorf("SoftHSM unusable after the extra references closed: %v", err)
	}
	if _, err := osc.GetInfo(); err != nil {
		t.Errorf("OpenSC unusable after the extra references closed: %v", err)
	}
}
