//go:build openssl

package mech

/*
#cgo LDFLAGS: -lcrypto
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

// craton_rsa_key parses a PKCS#1 RSAPrivateKey (DER) into an EVP_PKEY.
static EVP_PKEY *craton_rsa_key(const unsigned char *der, long n) {
	return d2i_PrivateKey(EVP_PKEY_RSA, NULL, &der, n);
}

// craton_rsa_sign makes a PKCS#1 v1.5 signature over digest: with md (a
// hash name such as "SHA256") the DigestInfo is built by OpenSSL, without
// it digest is signed as given (CKM_RSA_PKCS). Returns 1 on success.
static int craton_rsa_sign(EVP_PKEY *k, const char *md, const unsigned char *digest, size_t dlen,
		unsigned char *sig, size_t *siglen) {
	int ok = 0;
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(k, NULL);
	if (c == NULL)
		return 0;
	if (EVP_PKEY_sign_init(c) <= 0 || EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) <= 0)
		goto out;
	if (md != NULL) {
		const EVP_MD *m = EVP_get_digestbyname(md);
		if (m == NULL || EVP_PKEY_CTX_set_signature_md(c, m) <= 0)
			goto out;
	}
	ok = EVP_PKEY_sign(c, sig, siglen, digest, dlen) > 0;
out:
	EVP_PKEY_CTX_free(c);
	return ok;
}
*/
import "C"

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"runtime"
	"sync"
	"unsafe"
	"weak"
)

// opensslBackend does RSA PKCS#1 v1.5 signatures with libcrypto, which is
// several times faster than crypto/rsa's constant-time Go code; PSS and
// decryption stay with crypto/rsa. Built only with -tags openssl (cgo,
// libssl-dev); the default build is pure Go.
type opensslBackend struct{ goBackend }

func init() { SetBackend(opensslBackend{}) }

// pkeys caches each key's EVP_PKEY (parsing DER costs more than signing
// small data); an entry is freed when its *rsa.PrivateKey is collected.
var pkeys sync.Map // weak.Pointer[rsa.PrivateKey] → *C.EVP_PKEY

func evpKey(k *rsa.PrivateKey) (*C.EVP_PKEY, error) {
	wp := weak.Make(k)
	if v, ok := pkeys.Load(wp); ok {
		return v.(*C.EVP_PKEY), nil
	}
	der := x509.MarshalPKCS1PrivateKey(k)
	defer clear(der)
	p := C.craton_rsa_key((*C.uchar)(unsafe.Pointer(&der[0])), C.long(len(der)))
	if p == nil {
		return nil, errors.New("openssl: cannot load the RSA key")
	}
	if v, loaded := pkeys.LoadOrStore(wp, p); loaded {
		C.EVP_PKEY_free(p)
		return v.(*C.EVP_PKEY), nil
	}
	runtime.AddCleanup(k, func(wp weak.Pointer[rsa.PrivateKey]) {
		if v, ok := pkeys.LoadAndDelete(wp); ok {
			C.EVP_PKEY_free(v.(*C.EVP_PKEY))
		}
	}, wp)
	return p, nil
}

var opensslMD = map[crypto.Hash]*C.char{
	crypto.SHA1: C.CString("SHA1"), crypto.SHA224: C.CString("SHA224"), crypto.SHA256: C.CString("SHA256"),
	crypto.SHA384: C.CString("SHA384"), crypto.SHA512: C.CString("SHA512"),
}

func (b opensslBackend) RSASign(k *rsa.PrivateKey, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	h, ok := opts.(crypto.Hash)
	if !ok || len(digest) == 0 { // PSS: crypto/rsa
		return b.goBackend.RSASign(k, digest, opts)
	}
	var md *C.char
	if h != 0 {
		if md = opensslMD[h]; md == nil || len(digest) != h.Size() {
			return b.goBackend.RSASign(k, digest, opts)
		}
	}
	p, err := evpKey(k)
	if err != nil {
		return nil, err
	}
	sig := make([]byte, k.Size())
	n := C.size_t(len(sig))
	if C.craton_rsa_sign(p, md, (*C.uchar)(unsafe.Pointer(&digest[0])), C.size_t(len(digest)), (*C.uchar)(unsafe.Pointer(&sig[0])), &n) != 1 {
		// e.g. a DigestInfo too long for the modulus: let crypto/rsa
		// report it the way the engine expects.
		return b.goBackend.RSASign(k, digest, opts)
	}
	runtime.KeepAlive(k)
	return sig[:n], nil
}
