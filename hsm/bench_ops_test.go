package hsm

import (
	"bytes"
	"testing"

	"github.com/miekg/pkcs11"
)

// Engine-level costs of the ABI rows in docs/benchmarks.md without the C
// layer: *Init + the single-part call, audit off (the in-memory log).

func benchDigest4KB(b *testing.B, c *Ctx, sh pkcs11.SessionHandle) {
	data := bytes.Repeat([]byte{0x3c}, 4096)
	m := []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_SHA256, nil)}
	b.ReportAllocs()
	for b.Loop() {
		must(b, c.DigestInit(sh, m))
		if _, err := c.Digest(sh, data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEngineDigest4KB(b *testing.B) {
	c, sh := ready(b, b.TempDir())
	benchDigest4KB(b, c, sh)
}

func BenchmarkEngineGCMEncrypt4KB(b *testing.B) {
	c, sh := ready(b, b.TempDir())
	key, err := c.CreateObject(sh, aesTemplate("gcm", "", bytes.Repeat([]byte{1}, 32), false, pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true)))
	must(b, err)
	data := bytes.Repeat([]byte{0x3c}, 4096)
	iv := make([]byte, 12)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		iv[0], iv[1], iv[2] = byte(i), byte(i>>8), byte(i>>16)
		m := []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, pkcs11.NewGCMParams(iv, nil, 128))}
		must(b, c.EncryptInit(sh, m, key))
		if _, err := c.Encrypt(sh, data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEngineGCMDecrypt4KB(b *testing.B) {
	c, sh := ready(b, b.TempDir())
	key, err := c.CreateObject(sh, aesTemplate("gcm", "", bytes.Repeat([]byte{1}, 32), false,
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true), pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, true)))
	must(b, err)
	iv := make([]byte, 12)
	m := []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, pkcs11.NewGCMParams(iv, nil, 128))}
	must(b, c.EncryptInit(sh, m, key))
	ct, err := c.Encrypt(sh, bytes.Repeat([]byte{0x3c}, 4096))
	must(b, err)
	b.ReportAllocs()
	for b.Loop() {
		must(b, c.DecryptInit(sh, m, key))
		if _, err := c.Decrypt(sh, ct); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEngineHMAC1KB(b *testing.B) {
	c, sh := ready(b, b.TempDir())
	key, err := c.CreateObject(sh, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_GENERIC_SECRET),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, bytes.Repeat([]byte{0x22}, 32)),
	})
	must(b, err)
	data := bytes.Repeat([]byte{0x3c}, 1024)
	m := []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_SHA256_HMAC, nil)}
	b.ReportAllocs()
	for b.Loop() {
		must(b, c.SignInit(sh, m, key))
		if _, err := c.Sign(sh, data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEngineAESKeyGen is the key-generation row's engine side: a
// session AES-256 key (C_GenerateKey), destroyed untimed in batches.
func BenchmarkEngineAESKeyGen(b *testing.B) {
	c, sh := ready(b, b.TempDir())
	m := []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)}
	tmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, true),
	}
	benchCreating(b, c, sh, func() []pkcs11.ObjectHandle {
		h, err := c.GenerateKey(sh, m, tmpl)
		fatalIf(b, err)
		return []pkcs11.ObjectHandle{h}
	})
}
