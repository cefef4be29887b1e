//go:build openssl

package mech

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"testing"
)

// The OpenSSL backend's PKCS#1 v1.5 signatures are byte-identical to
// crypto/rsa's (the scheme is deterministic).
func TestOpenSSLBackendMatchesGo(t *testing.T) {
	if _, ok := currentBackend().(opensslBackend); !ok {
		t.Fatal("the openssl build did not install its backend")
	}
	for _, bits := range []int{2048, 3072} {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range []crypto.Hash{crypto.SHA224, crypto.SHA256, crypto.SHA384, crypto.SHA512, 0} {
			d := bytes.Repeat([]byte{0x42}, 32)
			if h != 0 {
				d = d[:0]
				hh := h.New()
				hh.Write([]byte("message"))
				d = hh.Sum(nil)
			}
			got, err := currentBackend().RSASign(k, d, h)
			if err != nil {
				t.Fatalf("%d-bit %v: %v", bits, h, err)
			}
			want, err := goBackend{}.RSASign(k, d, h)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%d-bit %v: signatures differ", bits, h)
			}
		}
	}
}

func BenchmarkOpenSSLRSA2048Sign(b *testing.B) {
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	d := make([]byte, 32)
	for b.Loop() {
		if _, err := currentBackend().RSASign(k, d, crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
}
