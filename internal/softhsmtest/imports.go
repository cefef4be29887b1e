package softhsmtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"fmt"
	"sync"

	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// importECPair creates a Go-generated P-256 key as the script does with
// "pkcs11-tool --write-object ext-ec.pem --type privkey" (private object
// only, id privID) and "--write-object ext-ec.pub.der --type pubkey" (a
// public object with another id, pubID). Empty ids skip that half.
func importECPair(s *p11.Session, privID, privLabel, pubID, pubLabel string, key *ecdsa.PrivateKey) error {
	if privID != "" {
		d := make([]byte, 32)
		key.D.FillBytes(d)
		var t attrs
		t.add(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY)
		t.add(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC)
		t.add(pkcs11.CKA_TOKEN, true)
		t.add(pkcs11.CKA_PRIVATE, true)
		t.add(pkcs11.CKA_SENSITIVE, true)
		t.add(pkcs11.CKA_EXTRACTABLE, true)
		t.add(pkcs11.CKA_SIGN, true)
		t.add(pkcs11.CKA_LABEL, privLabel)
		t.add(pkcs11.CKA_ID, idBytes(privID))
		t.add(pkcs11.CKA_EC_PARAMS, oidP256)
		t.add(pkcs11.CKA_VALUE, d)
		if err := create(s, privLabel, t); err != nil {
			return err
		}
	}
	if pubID == "" {
		return nil
	}
	ecdhPub, err := key.PublicKey.ECDH()
	if err != nil {
		return err
	}
	point, err := asn1.Marshal(ecdhPub.Bytes()) // uncompressed 04||X||Y in a DER OCTET STRING
	if err != nil {
		return err
	}
	var t attrs
	t.add(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY)
	t.add(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC)
	t.add(pkcs11.CKA_TOKEN, true)
	t.add(pkcs11.CKA_PRIVATE, false)
	t.add(pkcs11.CKA_LABEL, pubLabel)
	t.add(pkcs11.CKA_ID, idBytes(pubID))
	t.add(pkcs11.CKA_EC_PARAMS, oidP256)
	t.add(pkcs11.CKA_EC_POINT, point) // DER OCTET STRING, as SoftHSM reports it
	return create(s, pubLabel, t)
}

// importRSAPair creates an RSA key pair from Go key material: RSA key
// generation in the token costs ~0.1-2 s per key, an import ~1 ms.
func importRSAPair(s *p11.Session, id, label string, key *rsa.PrivateKey, extractable bool) error {
	e := []byte{1, 0, 1}
	if key.E != 65537 {
		return fmt.Errorf("importRSAPair: exponent %d", key.E)
	}
	var priv attrs
	priv.add(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY)
	priv.add(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA)
	priv.add(pkcs11.CKA_TOKEN, true)
	priv.add(pkcs11.CKA_PRIVATE, true)
	priv.add(pkcs11.CKA_SENSITIVE, true)
	priv.add(pkcs11.CKA_EXTRACTABLE, extractable)
	priv.add(pkcs11.CKA_LABEL, label)
	priv.add(pkcs11.CKA_ID, idBytes(id))
	priv.add(pkcs11.CKA_MODULUS, key.N.Bytes())
	priv.add(pkcs11.CKA_PUBLIC_EXPONENT, e)
	priv.add(pkcs11.CKA_PRIVATE_EXPONENT, key.D.Bytes())
	priv.add(pkcs11.CKA_PRIME_1, key.Primes[0].Bytes())
	priv.add(pkcs11.CKA_PRIME_2, key.Primes[1].Bytes())
	priv.add(pkcs11.CKA_EXPONENT_1, key.Precomputed.Dp.Bytes())
	priv.add(pkcs11.CKA_EXPONENT_2, key.Precomputed.Dq.Bytes())
	priv.add(pkcs11.CKA_COEFFICIENT, key.Precomputed.Qinv.Bytes())
	if err := create(s, label, priv); err != nil {
		return err
	}
	var pub attrs
	pub.add(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY)
	pub.add(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA)
	pub.add(pkcs11.CKA_TOKEN, true)
	pub.add(pkcs11.CKA_PRIVATE, false)
	pub.add(pkcs11.CKA_LABEL, label)
	pub.add(pkcs11.CKA_ID, idBytes(id))
	pub.add(pkcs11.CKA_MODULUS, key.N.Bytes())
	pub.add(pkcs11.CKA_PUBLIC_EXPONENT, e)
	return create(s, label, pub)
}

// goRSAKeys returns n RSA-2048 keys generated once per process: bulk
// populations reuse the key material under different ids and labels.
func goRSAKeys(n int) ([]*rsa.PrivateKey, error) {
	rsaCache.mu.Lock()
	defer rsaCache.mu.Unlock()
	for len(rsaCache.keys) < n {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		k.Precompute()
		rsaCache.keys = append(rsaCache.keys, k)
	}
	return rsaCache.keys[:n], nil
}

var rsaCache struct {
	mu   sync.Mutex
	keys []*rsa.PrivateKey
}

// newP256 generates a P-256 key in Go.
func newP256() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }
