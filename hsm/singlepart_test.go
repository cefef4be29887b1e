package hsm

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"github.com/miekg/pkcs11"
)

// TestSinglePartAfterUpdateRefused: C_Sign, C_Verify, C_Encrypt, C_Decrypt
// and C_Digest after an Update of the same operation return
// CKR_OPERATION_ACTIVE and the multi-part operation goes on. Found by the C
// ABI hostile-input catalogue (interop): they returned CKR_OK over the
// updated parts plus their own input.
func TestSinglePartAfterUpdateRefused(t *testing.T) {
	c, sh := ready(t, t.TempDir())
	part := []byte("hello")

	must(t, c.DigestInit(sh, mechs(pkcs11.CKM_SHA256)))
	must(t, c.DigestUpdate(sh, part))
	_, err := c.Digest(sh, part)
	wantRV(t, err, pkcs11.CKR_OPERATION_ACTIVE)
	d, err := c.DigestFinal(sh)
	must(t, err)
	if want := sha256.Sum256(part); !bytes.Equal(d, want[:]) {
		t.Fatalf("DigestFinal after the refused C_Digest = %x, want SHA-256 of the updated part", d)
	}

	k := genAES(t, c, sh, false, pkcs11.NewAttribute(pkcs11.CKA_SIGN, true), pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true))
	must(t, c.SignInit(sh, mechs(pkcs11.CKM_AES_CMAC), k))
	must(t, c.SignUpdate(sh, part))
	_, err = c.Sign(sh, part)
	wantRV(t, err, pkcs11.CKR_OPERATION_ACTIVE)
	mac, err := c.SignFinal(sh)
	must(t, err)
	must(t, c.SignInit(sh, mechs(pkcs11.CKM_AES_CMAC), k))
	one, err := c.Sign(sh, part)
	must(t, err)
	if !bytes.Equal(mac, one) {
		t.Fatal("SignFinal after the refused C_Sign is not the MAC of the updated part")
	}
	must(t, c.VerifyInit(sh, mechs(pkcs11.CKM_AES_CMAC), k))
	must(t, c.VerifyUpdate(sh, part))
	wantRV(t, c.Verify(sh, part, mac), pkcs11.CKR_OPERATION_ACTIVE)
	must(t, c.VerifyFinal(sh, mac))

	e := genAES(t, c, sh, false, pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true), pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, true))
	cbc := []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_CBC_PAD, make([]byte, 16))}
	must(t, c.EncryptInit(sh, cbc, e))
	_, err = c.EncryptUpdate(sh, part)
	must(t, err)
	_, err = c.Encrypt(sh, part)
	wantRV(t, err, pkcs11.CKR_OPERATION_ACTIVE)
	ct, err := c.EncryptFinal(sh)
	must(t, err)
	must(t, c.DecryptInit(sh, cbc, e))
	pt, err := c.DecryptUpdate(sh, ct)
	must(t, err)
	_, err = c.Decrypt(sh, ct)
	wantRV(t, err, pkcs11.CKR_OPERATION_ACTIVE)
	last, err := c.DecryptFinal(sh)
	must(t, err)
	pt = append(pt, last...)
	if !bytes.Equal(pt, part) {
		t.Fatalf("decrypted %q, want %q", pt, part)
	}
}
