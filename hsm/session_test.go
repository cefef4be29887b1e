package hsm

import (
	"fmt"
	"sync"
	"testing"

	"github.com/miekg/pkcs11"
)

func TestSessionLimitsAndFlags(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Token.MaxSessions, cfg.Token.MaxRWSessions = 3, 2
	c := openCtx(t, cfg)
	_, err := c.OpenSession(0, pkcs11.CKF_RW_SESSION)
	wantRV(t, err, pkcs11.CKR_SESSION_PARALLEL_NOT_SUPPORTED)
	_, err = c.OpenSession(5, pkcs11.CKF_SERIAL_SESSION)
	wantRV(t, err, pkcs11.CKR_SLOT_ID_INVALID)
	a := rwSession(t, c)
	b := rwSession(t, c)
	if a == 0 || b == 0 || a == b {
		t.Fatalf("handles %d %d", a, b)
	}
	_, err = c.OpenSession(0, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	wantRV(t, err, pkcs11.CKR_SESSION_COUNT)
	_, err = c.OpenSession(0, pkcs11.CKF_SERIAL_SESSION)
	must(t, err)
	_, err = c.OpenSession(0, pkcs11.CKF_SERIAL_SESSION)
	wantRV(t, err, pkcs11.CKR_SESSION_COUNT)
	ti, err := c.GetTokenInfo(0)
	must(t, err)
	if ti.SessionCount != 3 || ti.RwSessionCount != 2 || ti.MaxSessionCount != 3 {
		t.Fatalf("counts %+v", ti)
	}
	must(t, c.CloseSession(a))
	wantRV(t, c.CloseSession(a), pkcs11.CKR_SESSION_HANDLE_INVALID)
}

func TestIdentityStrings(t *testing.T) {
	c := openCtx(t, testConfig(t.TempDir()))
	info, err := c.GetInfo()
	must(t, err)
	if info.ManufacturerID != manufacturer || info.LibraryDescription != libraryDesc || info.CryptokiVersion.Major != 3 {
		t.Fatalf("info %+v", info)
	}
	si, err := c.GetSlotInfo(0)
	must(t, err)
	if si.SlotDescription != slotDesc || si.Flags != pkcs11.CKF_TOKEN_PRESENT {
		t.Fatalf("slot %+v", si)
	}
	ti, err := c.GetTokenInfo(0)
	must(t, err)
	if ti.Model != tokenModel || ti.Flags != pkcs11.CKF_RNG|pkcs11.CKF_LOGIN_REQUIRED || ti.SerialNumber != "0000000000000001" {
		t.Fatalf("token %+v", ti)
	}
}

func TestConcurrentSessions(t *testing.T) {
	c, sh := ready(t, t.TempDir())
	key := genAES(t, c, sh, false)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			s, err := c.OpenSession(0, pkcs11.CKF_SERIAL_SESSION)
			if err != nil {
				errs <- err
				return
			}
			defer c.CloseSession(s)
			for i := 0; i < 20; i++ {
				if _, err := c.CreateObject(s, dataTemplate(fmt.Sprintf("g%d-%d", g, i), false, true)); err != nil {
					errs <- err
					return
				}
				if err := c.EncryptInit(s, mechs(pkcs11.CKM_AES_GCM), key); err != nil {
					errs <- err
					return
				}
				if _, err := c.Encrypt(s, []byte("x")); err != nil {
					errs <- err
					return
				}
				if err := c.FindObjectsInit(s, nil); err != nil {
					errs <- err
					return
				}
				c.FindObjects(s, 10)
				c.FindObjectsFinal(s)
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
