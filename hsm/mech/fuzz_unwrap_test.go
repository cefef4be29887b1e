package mech

import (
	"bytes"
	"crypto/aes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"testing"

	"github.com/miekg/pkcs11"
)

// FuzzUnwrap feeds arbitrary wrapped blobs through Unwrap (KW and KWP, every
// class and key type the engine unwraps) and arbitrary plaintexts through
// the PKCS#8 parser behind it: no input may panic, and a blob that unwraps
// must be one the key wrapped (integrity), never a silently wrong key.
func FuzzUnwrap(f *testing.F) {
	kek := newSecretKey(pkcs11.CKK_AES, bytes.Repeat([]byte{0x42}, 32))
	block, _ := aes.NewCipher(kek.Secret)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(ec)
	f.Add(kwpWrap(block, [4]byte{0xa6, 0x59, 0x59, 0xa6}, der), uint8(0), der)
	f.Add(kwWrap(block, [8]byte{0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6}, bytes.Repeat([]byte{7}, 32)), uint8(1), []byte{0x30, 0x80})
	f.Add([]byte{}, uint8(2), []byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 40), uint8(3), []byte{0x30, 0x82, 0xff, 0xff})
	kinds := []struct {
		class, keyType uint
		valueLen       int
	}{
		{pkcs11.CKO_PRIVATE_KEY, pkcs11.CKK_EC, 0},
		{pkcs11.CKO_SECRET_KEY, pkcs11.CKK_AES, 32},
		{pkcs11.CKO_PRIVATE_KEY, pkcs11.CKK_RSA, 0},
		{pkcs11.CKO_SECRET_KEY, pkcs11.CKK_GENERIC_SECRET, 20},
		{pkcs11.CKO_PRIVATE_KEY, 0x40 /* CKK_EC_EDWARDS */, 0},
		{pkcs11.CKO_SECRET_KEY, pkcs11.CKK_AES, 0},
	}
	mechs := []uint{pkcs11.CKM_AES_KEY_WRAP_PAD, pkcs11.CKM_AES_KEY_WRAP}
	f.Fuzz(func(t *testing.T, blob []byte, sel uint8, plain []byte) {
		k := kinds[int(sel)%len(kinds)]
		m := pkcs11.NewMechanism(mechs[int(sel>>4)%len(mechs)], nil)
		got, err := Unwrap(m, kek, blob, k.class, k.keyType, k.valueLen)
		if err == nil && got == nil {
			t.Fatal("Unwrap returned neither a key nor an error")
		}
		// The parser alone, on any plaintext.
		_, _ = parsePKCS8(plain, k.keyType)
		// A blob wrapped under the KEK then altered in one byte must fail.
		if len(plain) > 0 {
			w := kwpWrap(block, [4]byte{0xa6, 0x59, 0x59, 0xa6}, plain)
			w[int(sel)%len(w)] ^= 0x01
			if key, err := Unwrap(pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_WRAP_PAD, nil), kek, w, pkcs11.CKO_SECRET_KEY, pkcs11.CKK_GENERIC_SECRET, 0); err == nil {
				t.Fatalf("an altered KWP blob unwrapped to %x", key.Secret)
			}
		}
	})
}
