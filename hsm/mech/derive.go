package mech

import (
	"crypto"
	"encoding/binary"

	"github.com/miekg/pkcs11"
)

// Derive runs CKM_ECDH1_DERIVE / CKM_ECDH1_COFACTOR_DERIVE (the same for
// P-256/P-384, whose cofactor is 1) with base, an EC private key, and
// returns a secret key of keyType CKK_AES or CKK_GENERIC_SECRET.
//
// The peer's public data may be the raw uncompressed point or a DER OCTET
// STRING of it. With kdf CKD_NULL the key is the shared x-coordinate; a
// shorter valueLen keeps its LEADING bytes (SoftHSMv2 keeps the trailing
// ones, so for interop derive the full 32/48 bytes). With CKD_SHAx_KDF the
// key is the ANSI X9.63 KDF of the x-coordinate and the shared data.
// valueLen 0 means 32 bytes for AES and the natural length (the
// x-coordinate, or one hash output) for a generic secret.
func Derive(m *pkcs11.Mechanism, base *Key, keyType uint, valueLen int) (*Key, error) {
	if m.Mechanism != pkcs11.CKM_ECDH1_DERIVE && m.Mechanism != pkcs11.CKM_ECDH1_COFACTOR_DERIVE {
		return nil, errMechInvalid
	}
	if keyType != pkcs11.CKK_AES && keyType != pkcs11.CKK_GENERIC_SECRET {
		return nil, errTmplInconsist
	}
	if base == nil || base.KeyType != pkcs11.CKK_EC || base.EC == nil || curveOf(base.EC.Curve) == nil {
		return nil, errKeyType
	}
	p, err := ecdh1Params(m)
	if err != nil {
		return nil, err
	}
	z, err := ecdhSecret(base, p.PublicData)
	if err != nil {
		return nil, err
	}
	defer clear(z)
	v, err := kdf(p, z, keyType, valueLen)
	if err != nil {
		return nil, err
	}
	return newSecretKey(keyType, v), nil
}

// ecdhSecret computes the shared x-coordinate with the peer's point.
func ecdhSecret(base *Key, public []byte) ([]byte, error) {
	c := curveOf(base.EC.Curve)
	priv, err := base.EC.ECDH()
	if err != nil {
		return nil, errKeyType
	}
	peer, err := c.ecdh.NewPublicKey(unwrapPoint(public, c.pointLen()))
	if err != nil {
		return nil, errParamInvalid
	}
	z, err := priv.ECDH(peer)
	if err != nil {
		return nil, errParamInvalid
	}
	return z, nil
}

// kdf turns the shared secret into the key value.
func kdf(p ECDH1Params, z []byte, keyType uint, valueLen int) ([]byte, error) {
	var h crypto.Hash
	natural := len(z)
	if p.KDF != pkcs11.CKD_NULL {
		var ok bool
		if h, ok = kdfHashes[p.KDF]; !ok {
			return nil, errParamInvalid
		}
		natural = h.Size()
	} else if len(p.SharedData) != 0 {
		return nil, errParamInvalid // PKCS#11: no shared data without a KDF
	}
	n := valueLen
	switch {
	case n <= 0 && keyType == pkcs11.CKK_AES:
		n = 32
	case n <= 0:
		n = natural
	}
	switch {
	case keyType == pkcs11.CKK_AES && n != 16 && n != 24 && n != 32,
		n > genericMaxLen, h == 0 && n > len(z):
		return nil, errKeySize
	case h == 0:
		return append([]byte(nil), z[:n]...), nil
	}
	return x963KDF(h, z, p.SharedData, n), nil
}

// x963KDF is the ANSI X9.63 KDF (SEC 1 §3.6.1): the concatenation of
// Hash(Z || counter || SharedInfo) for counter = 1, 2, ... cut to n bytes.
func x963KDF(h crypto.Hash, z, shared []byte, n int) []byte {
	out := make([]byte, 0, n+h.Size())
	hh := h.New()
	var ctr [4]byte
	for i := uint32(1); len(out) < n; i++ {
		hh.Reset()
		hh.Write(z)
		binary.BigEndian.PutUint32(ctr[:], i)
		hh.Write(ctr[:])
		hh.Write(shared)
		out = hh.Sum(out)
	}
	return out[:n]
}
