package hsm

import (
	"errors"
	"testing"

	"github.com/craton-co/craton/hsm/config"
	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

var _ p11.Module = (*Ctx)(nil)

const (
	soPIN   = "So-pin-1234"
	userPIN = "User-pin-1234"
	// testIterations keeps PBKDF2 cheap in tests; TestDefaultIterations
	// runs the configured default once.
	testIterations = 1000
)

func testConfig(dir string) config.Config {
	cfg := config.Default()
	cfg.Token.StoragePath = dir
	cfg.Token.PersistObjects = true
	cfg.Security.PBKDF2Iterations = testIterations
	cfg.Audit.Enabled = false
	cfg.Audit.LogPath = ""
	return cfg
}

func openCtx(t testing.TB, cfg config.Config) *Ctx {
	t.Helper()
	c, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { c.Finalize() })
	return c
}

// ready returns an engine on dir whose slot 0 token is initialised with a
// user PIN, and a RW session logged in as the user.
func ready(t testing.TB, dir string) (*Ctx, pkcs11.SessionHandle) {
	t.Helper()
	c := openCtx(t, testConfig(dir))
	must(t, c.InitToken(0, soPIN, "test token"))
	sh := rwSession(t, c)
	must(t, c.Login(sh, pkcs11.CKU_SO, soPIN))
	must(t, c.InitPIN(sh, userPIN))
	must(t, c.Logout(sh))
	must(t, c.Login(sh, pkcs11.CKU_USER, userPIN))
	return c, sh
}

func rwSession(t testing.TB, c *Ctx) pkcs11.SessionHandle {
	t.Helper()
	sh, err := c.OpenSession(0, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	must(t, err)
	return sh
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantRV fails unless err carries rv.
func wantRV(t testing.TB, err error, rv uint) {
	t.Helper()
	var pe pkcs11.Error
	if rv == 0 {
		if err != nil {
			t.Fatalf("unexpected error %v", err)
		}
		return
	}
	if !errors.As(err, &pe) || uint(pe) != rv {
		if p11.RV(err) != rv {
			t.Fatalf("got %v, want %#x", err, rv)
		}
	}
}

func aesTemplate(label, id string, value []byte, token bool, extra ...*pkcs11.Attribute) []*pkcs11.Attribute {
	t := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, token),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		pkcs11.NewAttribute(pkcs11.CKA_ID, []byte(id)),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, value),
	}
	return append(t, extra...)
}

func dataTemplate(label string, token, private bool) []*pkcs11.Attribute {
	return []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_DATA),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, token),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, private),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, []byte("data of "+label)),
	}
}

func findAll(t testing.TB, c *Ctx, sh pkcs11.SessionHandle, tmpl ...*pkcs11.Attribute) []pkcs11.ObjectHandle {
	t.Helper()
	must(t, c.FindObjectsInit(sh, tmpl))
	var all []pkcs11.ObjectHandle
	for {
		hs, _, err := c.FindObjects(sh, 100)
		must(t, err)
		if len(hs) == 0 {
			break
		}
		all = append(all, hs...)
	}
	must(t, c.FindObjectsFinal(sh))
	return all
}

func byLabel(t testing.TB, c *Ctx, sh pkcs11.SessionHandle, label string) []pkcs11.ObjectHandle {
	return findAll(t, c, sh, pkcs11.NewAttribute(pkcs11.CKA_LABEL, label))
}

func attr(t testing.TB, c *Ctx, sh pkcs11.SessionHandle, oh pkcs11.ObjectHandle, typ uint) []byte {
	t.Helper()
	got, err := c.GetAttributeValue(sh, oh, []*pkcs11.Attribute{pkcs11.NewAttribute(typ, nil)})
	must(t, err)
	return got[0].Value
}
