package mech

import (
	"crypto/cipher"

	"github.com/craton-co/craton/ck"

	"github.com/miekg/pkcs11"
)

// Wrap wraps target under wrapping. The payload is the raw CKA_VALUE of a
// secret key or the PKCS#8 PrivateKeyInfo DER of an RSA/EC/Ed25519 private
// key. Mechanisms:
//   - CKM_AES_KEY_WRAP: RFC 3394 (optional 8-byte IV parameter). The payload
//     must be a multiple of 8 bytes and at least 16; a PKCS#8 payload is
//     zero-padded to a multiple of 8 (as SoftHSMv2 does; its DER length
//     marks the end), a secret of another length gives CKR_KEY_SIZE_RANGE
//     because padding would change the key.
//   - CKM_AES_KEY_WRAP_PAD (0x210A) and CKM_AES_KEY_WRAP_KWP (0x210B): RFC
//     5649 (optional 4-byte AIV parameter), MLI = true payload length.
//   - CKM_AES_CBC_PAD: PKCS#7-padded CBC, 16-byte IV parameter.
//   - CKM_RSA_PKCS_OAEP: secret keys only, under an RSA public key.
func Wrap(m *pkcs11.Mechanism, wrapping *Key, target *Key) ([]byte, error) {
	payload, private, err := wrapPayload(target)
	if err != nil {
		return nil, err
	}
	if private {
		defer clear(payload)
	}
	switch m.Mechanism {
	case pkcs11.CKM_AES_KEY_WRAP:
		return wrapKW(m, wrapping, payload, private)
	case pkcs11.CKM_AES_KEY_WRAP_PAD, ck.CKM_AES_KEY_WRAP_KWP:
		block, aiv, err := kwpSetup(m, wrapping, errWrapKeyType, errWrapKeySize)
		if err != nil {
			return nil, err
		}
		return kwpWrap(block, aiv, payload), nil
	case pkcs11.CKM_AES_CBC_PAD:
		mode, err := cbcSetup(m, wrapping, errWrapKeyType, errWrapKeySize, cipher.NewCBCEncrypter)
		if err != nil {
			return nil, err
		}
		out := pkcs7Pad(payload)
		mode.CryptBlocks(out, out)
		return out, nil
	case pkcs11.CKM_RSA_PKCS_OAEP:
		return wrapOAEP(m, wrapping, payload, private)
	}
	return nil, errMechInvalid
}

// wrapPayload returns the bytes to wrap and whether they are a private key
// (a fresh buffer the caller clears) rather than the target's own secret.
func wrapPayload(k *Key) ([]byte, bool, error) {
	switch {
	case k == nil:
		return nil, false, errNotWrappable
	case k.Class == pkcs11.CKO_SECRET_KEY && len(k.Secret) > 0:
		return k.Secret, false, nil
	case k.Class == pkcs11.CKO_PRIVATE_KEY:
		der, err := marshalPKCS8(k)
		return der, true, err
	}
	return nil, false, errNotWrappable
}

func wrapKW(m *pkcs11.Mechanism, wrapping *Key, payload []byte, private bool) ([]byte, error) {
	block, iv, err := kwSetup(m, wrapping, errWrapKeyType, errWrapKeySize)
	if err != nil {
		return nil, err
	}
	if private && len(payload)%8 != 0 {
		padded := make([]byte, (len(payload)+7)&^7)
		copy(padded, payload)
		defer clear(padded)
		payload = padded
	}
	if len(payload)%8 != 0 || len(payload) < 16 {
		return nil, errKeySize
	}
	return kwWrap(block, iv, payload), nil
}

func wrapOAEP(m *pkcs11.Mechanism, wrapping *Key, payload []byte, private bool) ([]byte, error) {
	if private {
		return nil, errNotWrappable // a PKCS#8 key does not fit in one OAEP block
	}
	pub, err := rsaPublic(wrapping)
	if err == errKeyType {
		err = errWrapKeyType
	} else if err == errKeySize {
		err = errWrapKeySize
	}
	if err != nil {
		return nil, err
	}
	oaep, err := oaepOptions(m)
	if err != nil {
		return nil, err
	}
	out, err := rsaEncrypt(pub, oaep, payload)
	if err == errDataLen {
		err = errKeySize
	}
	return out, err
}

// kwSetup returns the AES key and the RFC 3394 IV (default or 8-byte
// parameter).
func kwSetup(m *pkcs11.Mechanism, k *Key, typeErr, sizeErr error) (cipher.Block, [8]byte, error) {
	iv := kwDefaultIV
	block, _, err := aesKey(k, typeErr, sizeErr)
	if err != nil {
		return nil, iv, err
	}
	p, err := plainParam(m)
	switch {
	case err != nil:
		return nil, iv, err
	case len(p) == len(iv):
		copy(iv[:], p)
	case len(p) != 0:
		return nil, iv, errParamInvalid
	}
	return block, iv, nil
}

// kwpSetup returns the AES key and the RFC 5649 AIV (default or 4-byte
// parameter).
func kwpSetup(m *pkcs11.Mechanism, k *Key, typeErr, sizeErr error) (cipher.Block, [4]byte, error) {
	aiv := kwpDefaultAIV
	block, _, err := aesKey(k, typeErr, sizeErr)
	if err != nil {
		return nil, aiv, err
	}
	p, err := plainParam(m)
	switch {
	case err != nil:
		return nil, aiv, err
	case len(p) == len(aiv):
		copy(aiv[:], p)
	case len(p) != 0:
		return nil, aiv, errParamInvalid
	}
	return block, aiv, nil
}

func cbcSetup(m *pkcs11.Mechanism, k *Key, typeErr, sizeErr error,
	newMode func(cipher.Block, []byte) cipher.BlockMode) (cipher.BlockMode, error) {
	block, _, err := aesKey(k, typeErr, sizeErr)
	if err != nil {
		return nil, err
	}
	iv, err := plainParam(m)
	if err != nil || len(iv) != blockSize {
		return nil, errParamInvalid
	}
	return newMode(block, iv), nil
}

// Unwrap decrypts blob with unwrapping and returns a Key of the class and
// key type the template asks for: secret keys (CKK_AES, CKK_GENERIC_SECRET,
// CKK_SHA*_HMAC) from the raw bytes, private keys (CKK_RSA, CKK_EC,
// CKK_EC_EDWARDS) from PKCS#8, tolerating up to seven zero bytes after the
// DER. With valueLen > 0 a secret is cut to valueLen bytes, provided the
// cut bytes are zero: SoftHSMv2 2.6.1 zero-pads secrets to a multiple of 8
// before KW/KWP, so its 20-byte secret arrives as 24 bytes. Integrity
// failures give CKR_WRAPPED_KEY_INVALID, a PKCS#8 of another key type
// CKR_TEMPLATE_INCONSISTENT.
func Unwrap(m *pkcs11.Mechanism, unwrapping *Key, blob []byte, class, keyType uint, valueLen int) (*Key, error) {
	plain, err := unwrapPayload(m, unwrapping, blob)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	switch {
	case class == pkcs11.CKO_SECRET_KEY && isSecretType(keyType):
		return secretFromPayload(plain, keyType, valueLen)
	case class == pkcs11.CKO_PRIVATE_KEY && isPrivateType(keyType):
		return parsePKCS8(plain, keyType)
	}
	return nil, errTmplInconsist
}

func unwrapPayload(m *pkcs11.Mechanism, k *Key, blob []byte) ([]byte, error) {
	switch m.Mechanism {
	case pkcs11.CKM_AES_KEY_WRAP:
		block, iv, err := kwSetup(m, k, errUnwrapKeyType, errUnwrapKeySize)
		if err != nil {
			return nil, err
		}
		return kwUnwrap(block, iv, blob)
	case pkcs11.CKM_AES_KEY_WRAP_PAD, ck.CKM_AES_KEY_WRAP_KWP:
		block, aiv, err := kwpSetup(m, k, errUnwrapKeyType, errUnwrapKeySize)
		if err != nil {
			return nil, err
		}
		return kwpUnwrap(block, aiv, blob)
	case pkcs11.CKM_AES_CBC_PAD:
		mode, err := cbcSetup(m, k, errUnwrapKeyType, errUnwrapKeySize, cipher.NewCBCDecrypter)
		if err != nil {
			return nil, err
		}
		if len(blob) == 0 || len(blob)%blockSize != 0 {
			return nil, errWrappedKeyLen
		}
		out := make([]byte, len(blob))
		mode.CryptBlocks(out, blob)
		return pkcs7Unpad(out, errWrappedKey)
	case pkcs11.CKM_RSA_PKCS_OAEP:
		return unwrapOAEP(m, k, blob)
	}
	return nil, errMechInvalid
}

func unwrapOAEP(m *pkcs11.Mechanism, k *Key, blob []byte) ([]byte, error) {
	if k == nil || k.KeyType != pkcs11.CKK_RSA || k.RSA == nil {
		return nil, errUnwrapKeyType
	}
	if _, err := rsaPublic(k); err != nil {
		return nil, errUnwrapKeySize
	}
	oaep, err := oaepOptions(m)
	if err != nil {
		return nil, err
	}
	out, err := rsaDecrypt(k.RSA, oaep, blob)
	switch err {
	case nil:
		return out, nil
	case errEncDataLen:
		return nil, errWrappedKeyLen
	}
	return nil, errWrappedKey
}

func secretFromPayload(plain []byte, keyType uint, valueLen int) (*Key, error) {
	if valueLen > 0 {
		if valueLen > len(plain) {
			return nil, errWrappedKey
		}
		for _, z := range plain[valueLen:] {
			if z != 0 {
				return nil, errWrappedKey
			}
		}
		plain = plain[:valueLen]
	}
	n := len(plain)
	if n == 0 || n > maxSecretLen || keyType == pkcs11.CKK_AES && n != 16 && n != 24 && n != 32 {
		return nil, errWrappedKey
	}
	return newSecretKey(keyType, append([]byte(nil), plain...)), nil
}
