package mech

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"math/big"

	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

// Generic secret length limits in bytes.
const (
	genericMinLen = 1
	genericMaxLen = 512
)

// GenerateKey generates a secret key: CKM_AES_KEY_GEN (CKA_VALUE_LEN 16, 24
// or 32, default 32) or CKM_GENERIC_SECRET_KEY_GEN (CKA_VALUE_LEN required,
// 1..512; CKA_KEY_TYPE may name an HMAC key type).
func GenerateKey(m *pkcs11.Mechanism, tmpl map[uint][]byte) (*Key, error) {
	if err := noParam(m); err != nil {
		return nil, err
	}
	keyType, err := tmplKeyType(tmpl, m.Mechanism)
	if err != nil {
		return nil, err
	}
	n, given, err := tmplUlong(tmpl, pkcs11.CKA_VALUE_LEN)
	switch {
	case err != nil:
		return nil, err
	case keyType == pkcs11.CKK_AES && !given:
		n = 32
	case keyType == pkcs11.CKK_AES && n != 16 && n != 24 && n != 32:
		return nil, errKeySize
	case keyType != pkcs11.CKK_AES && !given:
		return nil, errTmplIncomplete
	case keyType != pkcs11.CKK_AES && (n < genericMinLen || n > genericMaxLen):
		return nil, errKeySize
	}
	v := make([]byte, n)
	rand.Read(v)
	return newSecretKey(keyType, v), nil
}

// tmplKeyType returns the key type a secret-key generation produces,
// checking a CKA_KEY_TYPE the template may carry.
func tmplKeyType(tmpl map[uint][]byte, mech uint) (uint, error) {
	want := uint(pkcs11.CKK_AES)
	if mech == pkcs11.CKM_GENERIC_SECRET_KEY_GEN {
		want = pkcs11.CKK_GENERIC_SECRET
	} else if mech != pkcs11.CKM_AES_KEY_GEN {
		return 0, errMechInvalid
	}
	t, given, err := tmplUlong(tmpl, pkcs11.CKA_KEY_TYPE)
	switch {
	case err != nil || !given:
		return want, err
	case uint(t) == want, want == pkcs11.CKK_GENERIC_SECRET && isSecretType(uint(t)) && t != pkcs11.CKK_AES:
		return uint(t), nil
	}
	return 0, errTmplInconsist
}

// tmplUlong reads a CK_ULONG template attribute (native width and order).
func tmplUlong(tmpl map[uint][]byte, t uint) (v uint64, given bool, err error) {
	b, ok := tmpl[t]
	if !ok {
		return 0, false, nil
	}
	if len(b) != ulongSize {
		return 0, true, errAttrValue
	}
	return getUlong(b, 0), true, nil
}

// GenerateKeyPair generates a key pair and returns the private Key (its
// public half filled in; use PublicAttrs for the public object):
//   - CKM_RSA_PKCS_KEY_PAIR_GEN: CKA_MODULUS_BITS 2048/3072/4096 from the
//     public template (default 2048); CKA_PUBLIC_EXPONENT absent or 65537.
//   - CKM_EC_KEY_PAIR_GEN: CKA_EC_PARAMS (P-256 or P-384) required.
//   - CKM_EC_EDWARDS_KEY_PAIR_GEN (and CKM_EDDSA, Craton's keygen code):
//     Ed25519; CKA_EC_PARAMS optional, OID or "edwards25519".
//
// Every new pair passes a pairwise consistency test (sign and verify); a
// failure returns CKR_GENERAL_ERROR, which nothing else here returns, so
// the engine can treat it as a failed conditional self-test.
func GenerateKeyPair(m *pkcs11.Mechanism, pubTmpl, privTmpl map[uint][]byte) (*Key, error) {
	if err := noParam(m); err != nil {
		return nil, err
	}
	var k *Key
	var err error
	switch m.Mechanism {
	case pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN:
		k, err = generateRSA(pubTmpl)
	case pkcs11.CKM_EC_KEY_PAIR_GEN:
		k, err = generateEC(pubTmpl)
	case ck.CKM_EC_EDWARDS_KEY_PAIR_GEN, ck.CKM_EDDSA:
		k, err = generateEd(pubTmpl)
	default:
		if _, ok := IsPQKeyGen(m.Mechanism); !ok {
			return nil, errMechInvalid
		}
		k, err = generatePQ(m.Mechanism, pubTmpl, privTmpl)
	}
	if err != nil {
		return nil, err
	}
	if pairwiseTest(k) != nil {
		return nil, errGeneral
	}
	return k, nil
}

var f4 = big.NewInt(65537)

// rsaGenBits is the modulus size CKM_RSA_PKCS_KEY_PAIR_GEN generates for
// public template pubTmpl: CKA_MODULUS_BITS 2048, 3072 or 4096, default
// 2048.
func rsaGenBits(pubTmpl map[uint][]byte) (uint64, error) {
	bits, given, err := tmplUlong(pubTmpl, pkcs11.CKA_MODULUS_BITS)
	switch {
	case err != nil:
		return 0, err
	case !given:
		return 2048, nil
	case bits != 2048 && bits != 3072 && bits != 4096:
		return 0, errKeySize
	}
	return bits, nil
}

// RSAGenBits is the modulus size an RSA key-pair generation with public
// template pubTmpl would produce; ok is false when the generation would
// fail on the template's size (CKR_KEY_SIZE_RANGE or
// CKR_ATTRIBUTE_VALUE_INVALID).
func RSAGenBits(pubTmpl map[uint][]byte) (bits uint, ok bool) {
	b, err := rsaGenBits(pubTmpl)
	return uint(b), err == nil
}

func generateRSA(pubTmpl map[uint][]byte) (*Key, error) {
	bits, err := rsaGenBits(pubTmpl)
	if err != nil {
		return nil, err
	}
	if e, ok := pubTmpl[pkcs11.CKA_PUBLIC_EXPONENT]; ok && new(big.Int).SetBytes(e).Cmp(f4) != 0 {
		return nil, errAttrValue
	}
	priv, err := rsa.GenerateKey(rand.Reader, int(bits))
	if err != nil {
		return nil, errGeneral
	}
	return rsaKey(priv), nil
}

func generateEC(pubTmpl map[uint][]byte) (*Key, error) {
	params, err := need(pubTmpl, pkcs11.CKA_EC_PARAMS)
	if err != nil {
		return nil, err
	}
	c, ed, err := parseECParams(params)
	if err != nil {
		return nil, err
	}
	if ed {
		return nil, errCurve
	}
	priv, err := ecdsa.GenerateKey(c.ec, rand.Reader)
	if err != nil {
		return nil, errGeneral
	}
	return ecKey(priv), nil
}

func generateEd(pubTmpl map[uint][]byte) (*Key, error) {
	if params, ok := pubTmpl[pkcs11.CKA_EC_PARAMS]; ok {
		if _, ed, err := parseECParams(params); err != nil || !ed {
			return nil, errCurve
		}
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, errGeneral
	}
	return edKey(priv), nil
}

// pairwiseTest signs a fixed message with the private key and verifies it
// with the public key (FIPS 140-3 IG 10.3.A).
func pairwiseTest(k *Key) error {
	msg := []byte("craton pairwise consistency test")
	digest := sha256.Sum256(msg)
	switch {
	case k.PQ != nil:
		return pqPairwise(k.PQ)
	case k.RSA != nil:
		sig, err := currentBackend().RSASign(k.RSA, digest[:], crypto.SHA256)
		if err != nil {
			return err
		}
		return rsa.VerifyPKCS1v15(k.RSAPub, crypto.SHA256, digest[:], sig)
	case k.EC != nil:
		sig, err := ecdsa.SignASN1(rand.Reader, k.EC, digest[:])
		if err != nil {
			return err
		}
		if !ecdsa.VerifyASN1(k.ECPub, digest[:], sig) {
			return errSignature
		}
	case k.Ed != nil:
		if !ed25519.Verify(k.EdPub, msg, ed25519.Sign(k.Ed, msg)) {
			return errSignature
		}
	}
	return nil
}
