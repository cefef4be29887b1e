package hsm

import (
	"fmt"
	"sync"
	"testing"

	"github.com/miekg/pkcs11"
)

// TestConcurrency64MixedOps runs 64 goroutines, each with its own session
// (8 read-write, the rest read-only) on one persistent engine, mixing
// session and token object create/destroy, find, attribute reads (the
// sensitive value must stay unreadable), AES-GCM encryption and CMAC
// signing with shared token keys, digests and shared-login checks. Run
// under -race by scripts/test.sh; every goroutine must see consistent
// results, and the token holds exactly the objects it held before.
func TestConcurrency64MixedOps(t *testing.T) {
	c, sh := ready(t, t.TempDir())
	enc := genAES(t, c, sh, true, pkcs11.NewAttribute(pkcs11.CKA_LABEL, "shared-enc"), pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true))
	mac := genAES(t, c, sh, true, pkcs11.NewAttribute(pkcs11.CKA_LABEL, "shared-mac"), pkcs11.NewAttribute(pkcs11.CKA_SIGN, true), pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true))
	before := len(findAll(t, c, sh, pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true)))
	const goroutines, rounds = 64, 24
	var wg sync.WaitGroup
	errc := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			flags := uint(pkcs11.CKF_SERIAL_SESSION)
			rw := g < 8
			if rw {
				flags |= pkcs11.CKF_RW_SESSION
			}
			s, err := c.OpenSession(0, flags)
			if err != nil {
				errc <- fmt.Errorf("g%d open: %w", g, err)
				return
			}
			defer c.CloseSession(s)
			fail := func(op string, err error) { errc <- fmt.Errorf("g%d %s: %w", g, op, err) }
			for i := range rounds {
				label := fmt.Sprintf("g%d-r%d", g, i)
				switch (g + i) % 7 {
				case 0: // session object: create, find it, destroy
					h, err := c.CreateObject(s, dataTemplate(label, false, true))
					if err != nil {
						fail("create session object", err)
						return
					}
					if err := c.FindObjectsInit(s, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, label)}); err != nil {
						fail("FindObjectsInit", err)
						return
					}
					hs, _, err := c.FindObjects(s, 10)
					c.FindObjectsFinal(s)
					if err != nil || len(hs) != 1 || hs[0] != h {
						fail("find own object", fmt.Errorf("%v, %v", hs, err))
						return
					}
					if err := c.DestroyObject(s, h); err != nil {
						fail("destroy session object", err)
						return
					}
				case 1: // token object (read-write sessions): create, destroy
					if !rw {
						continue
					}
					h, err := c.CreateObject(s, dataTemplate(label, true, true))
					if err != nil {
						fail("create token object", err)
						return
					}
					if err := c.DestroyObject(s, h); err != nil {
						fail("destroy token object", err)
						return
					}
				case 2: // encrypt with the shared key
					if err := c.EncryptInit(s, mechs(pkcs11.CKM_AES_GCM), enc); err != nil {
						fail("EncryptInit", err)
						return
					}
					if _, err := c.Encrypt(s, []byte(label)); err != nil {
						fail("Encrypt", err)
						return
					}
				case 3: // sign and verify with the shared MAC key
					if err := c.SignInit(s, mechs(pkcs11.CKM_AES_CMAC), mac); err != nil {
						fail("SignInit", err)
						return
					}
					sig, err := c.Sign(s, []byte(label))
					if err != nil {
						fail("Sign", err)
						return
					}
					if err := c.VerifyInit(s, mechs(pkcs11.CKM_AES_CMAC), mac); err != nil {
						fail("VerifyInit", err)
						return
					}
					if err := c.Verify(s, []byte(label), sig); err != nil {
						fail("Verify", err)
						return
					}
				case 4: // attributes: the label reads, the sensitive value does not
					a, err := c.GetAttributeValue(s, enc, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, nil)})
					if err != nil || string(a[0].Value) != "shared-enc" {
						fail("read label", err)
						return
					}
					if _, err := c.GetAttributeValue(s, enc, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)}); err == nil {
						fail("read sensitive value", fmt.Errorf("succeeded"))
						return
					}
				case 5: // digest
					if err := c.DigestInit(s, mechs(pkcs11.CKM_SHA256)); err != nil {
						fail("DigestInit", err)
						return
					}
					if d, err := c.Digest(s, []byte(label)); err != nil || len(d) != 32 {
						fail("Digest", err)
						return
					}
				case 6: // the login is shared by every session of the application
					info, err := c.GetSessionInfo(s)
					if err != nil || (info.State != pkcs11.CKS_RO_USER_FUNCTIONS && info.State != pkcs11.CKS_RW_USER_FUNCTIONS) {
						fail("shared login state", fmt.Errorf("state %d, %v", info.State, err))
						return
					}
					if err := c.Login(s, pkcs11.CKU_USER, userPIN); err == nil {
						fail("second login", fmt.Errorf("succeeded, want CKR_USER_ALREADY_LOGGED_IN"))
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if after := len(findAll(t, c, sh, pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true))); after != before {
		t.Errorf("token objects: %d before, %d after", before, after)
	}
}
