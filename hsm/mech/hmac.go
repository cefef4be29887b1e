package mech

import (
	"crypto"
	"crypto/hmac"
	"hash"

	"github.com/miekg/pkcs11"
)

// hmacMech describes one HMAC mechanism: its hash, whether it is the
// _GENERAL variant (CK_MAC_GENERAL_PARAMS gives the output length), and the
// dedicated key type accepted besides CKK_GENERIC_SECRET.
type hmacMech struct {
	hash    crypto.Hash
	general bool
	keyType uint
}

var hmacMechs = map[uint]hmacMech{
	pkcs11.CKM_SHA_1_HMAC:          {crypto.SHA1, false, pkcs11.CKK_SHA_1_HMAC},
	pkcs11.CKM_SHA_1_HMAC_GENERAL:  {crypto.SHA1, true, pkcs11.CKK_SHA_1_HMAC},
	pkcs11.CKM_SHA256_HMAC:         {crypto.SHA256, false, pkcs11.CKK_SHA256_HMAC},
	pkcs11.CKM_SHA256_HMAC_GENERAL: {crypto.SHA256, true, pkcs11.CKK_SHA256_HMAC},
	pkcs11.CKM_SHA384_HMAC:         {crypto.SHA384, false, pkcs11.CKK_SHA384_HMAC},
	pkcs11.CKM_SHA384_HMAC_GENERAL: {crypto.SHA384, true, pkcs11.CKK_SHA384_HMAC},
	pkcs11.CKM_SHA512_HMAC:         {crypto.SHA512, false, pkcs11.CKK_SHA512_HMAC},
	pkcs11.CKM_SHA512_HMAC_GENERAL: {crypto.SHA512, true, pkcs11.CKK_SHA512_HMAC},
}

// HMAC key length limits in bytes.
const (
	hmacMinKey = 1
	hmacMaxKey = 512
)

func isMAC(t uint) bool {
	_, ok := hmacMechs[t]
	return ok || t == pkcs11.CKM_AES_CMAC || t == pkcs11.CKM_AES_CMAC_GENERAL
}

func newMAC(m *pkcs11.Mechanism, k *Key) (SignOp, error) {
	if hm, ok := hmacMechs[m.Mechanism]; ok {
		return newHMAC(m, hm, k)
	}
	return newCMAC(m, k)
}

// macLen returns the MAC output length: the full size, or for a _GENERAL
// mechanism the length its parameter asks for (1..full).
func macLen(m *pkcs11.Mechanism, general bool, full int) (int, error) {
	if general {
		return macGeneralLen(m, full)
	}
	return full, noParam(m)
}

type hmacOp struct {
	h   hash.Hash
	len int
}

func newHMAC(m *pkcs11.Mechanism, hm hmacMech, k *Key) (SignOp, error) {
	if k == nil || k.Class != pkcs11.CKO_SECRET_KEY || k.KeyType != pkcs11.CKK_GENERIC_SECRET && k.KeyType != hm.keyType {
		return nil, errKeyType
	}
	if n := len(k.Secret); n < hmacMinKey || n > hmacMaxKey {
		return nil, errKeySize
	}
	n, err := macLen(m, hm.general, hm.hash.Size())
	if err != nil {
		return nil, err
	}
	return &hmacOp{h: hmac.New(hm.hash.New, k.Secret), len: n}, nil
}

func (o *hmacOp) Update(p []byte) error {
	o.h.Write(p)
	return nil
}

func (o *hmacOp) Final() ([]byte, error) { return o.h.Sum(nil)[:o.len], nil }

func (o *hmacOp) Len() int { return o.len }
