package wrapmove

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// A proof shows that the target holds the same key as the source by using
// both, never by reading key material. Its text goes into the result row.

// proofMessage is what proofs sign or MAC: fixed, so that results are
// reproducible across runs and modules.
var proofMessage = []byte("craton wrapmove proof v1")

// errUnprovable marks a key whose usage flags allow no operation craton
// could compare; such a key is reported as moved but unproven.
type errUnprovable struct{ why string }

func (e errUnprovable) Error() string { return "unproven: " + e.why }

// Secret-key check methods. One block of AES-CBC with a zero IV equals
// AES-ECB of that block, so the ECB→CBC fallback cannot make the two sides
// disagree.
const (
	checkAESEncrypt = "aes-encrypt-zero-block"
	checkAESDecrypt = "aes-decrypt-zero-block"
	checkKWWrap     = "aes-kw-wrap-fixed-key"
	checkHMAC256    = "hmac-sha256"
	checkHMAC1      = "hmac-sha1"
)

// secretMethod picks how to compute a check value from the usage flags.
func secretMethod(keyType string, usage []string) (string, error) {
	switch {
	case keyType == KeyAES && hasUsage(usage, "encrypt"):
		return checkAESEncrypt, nil
	case keyType == KeyAES && hasUsage(usage, "decrypt"):
		return checkAESDecrypt, nil
	case keyType == KeyAES && hasUsage(usage, "wrap"):
		return checkKWWrap, nil
	case keyType == KeyGeneric && hasUsage(usage, "sign"):
		return checkHMAC256, nil
	}
	return "", errUnprovable{why: "the key's usage flags permit no operation craton can compare"}
}

// checkValue computes the secret key's check value with method. HMAC falls
// back from SHA-256 to SHA-1 for short keys (SoftHSMv2 wants ≥ 32 bytes for
// SHA256-HMAC); the method actually used is returned so that the other
// side uses the same one.
func checkValue(s *p11.Session, h pkcs11.ObjectHandle, method string) ([]byte, string, error) {
	switch method {
	case checkAESEncrypt:
		out, _, err := aesBlock(s, h, true)
		return out, method, err
	case checkAESDecrypt:
		out, _, err := aesBlock(s, h, false)
		return out, method, err
	case checkKWWrap:
		out, err := kwFixedKey(s, h)
		return out, method, err
	case checkHMAC256:
		out, err := signOnce(s, h, pkcs11.CKM_SHA256_HMAC, proofMessage)
		if p11.IsRV(err, pkcs11.CKR_KEY_SIZE_RANGE) || p11.IsRV(err, pkcs11.CKR_MECHANISM_INVALID) {
			out, err = signOnce(s, h, pkcs11.CKM_SHA_1_HMAC, proofMessage)
			return out, checkHMAC1, err
		}
		return out, method, err
	case checkHMAC1:
		out, err := signOnce(s, h, pkcs11.CKM_SHA_1_HMAC, proofMessage)
		return out, method, err
	}
	return nil, method, fmt.Errorf("unknown check method %q", method)
}

// aesBlock encrypts (or decrypts) one zero block with AES-ECB, or with
// AES-CBC and a zero IV when the module has no ECB.
func aesBlock(s *p11.Session, h pkcs11.ObjectHandle, encrypt bool) ([]byte, string, error) {
	block := make([]byte, 16)
	out, err := cipherOnce(s, h, pkcs11.NewMechanism(pkcs11.CKM_AES_ECB, nil), block, encrypt)
	if err == nil {
		return out, "CKM_AES_ECB", nil
	}
	if !p11.IsRV(err, pkcs11.CKR_MECHANISM_INVALID) {
		return nil, "", err
	}
	out, err = cipherOnce(s, h, pkcs11.NewMechanism(pkcs11.CKM_AES_CBC, make([]byte, 16)), block, encrypt)
	return out, "CKM_AES_CBC", err
}

func cipherOnce(s *p11.Session, h pkcs11.ObjectHandle, m *pkcs11.Mechanism, data []byte, encrypt bool) ([]byte, error) {
	ms := []*pkcs11.Mechanism{m}
	if encrypt {
		if err := s.M.EncryptInit(s.H, ms, h); err != nil {
			return nil, p11.Wrap("C_EncryptInit", err)
		}
		out, err := s.M.Encrypt(s.H, data)
		return out, p11.Wrap("C_Encrypt", err)
	}
	if err := s.M.DecryptInit(s.H, ms, h); err != nil {
		return nil, p11.Wrap("C_DecryptInit", err)
	}
	out, err := s.M.Decrypt(s.H, data)
	return out, p11.Wrap("C_Decrypt", err)
}

// kwFixedKey wraps a fixed, public AES-128 session key under h with KW.
// KW is deterministic, so equal blobs mean equal wrapping keys: this proves
// wrap-only KEKs, which can do nothing else.
func kwFixedKey(s *p11.Session, h pkcs11.ObjectHandle) ([]byte, error) {
	fixed, err := s.M.CreateObject(s.H, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, mustHex("000102030405060708090a0b0c0d0e0f")),
	})
	if err != nil {
		return nil, p11.Wrap("C_CreateObject(KW probe key)", err)
	}
	defer destroyAll(s, fixed)
	out, err := s.M.WrapKey(s.H, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_WRAP, nil)}, h, fixed)
	return out, p11.Wrap("C_WrapKey(KW probe)", err)
}

func signOnce(s *p11.Session, h pkcs11.ObjectHandle, mech uint, msg []byte) ([]byte, error) {
	if err := s.M.SignInit(s.H, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, h); err != nil {
		return nil, p11.Wrap("C_SignInit("+ck.MechName(mech)+")", err)
	}
	out, err := s.M.Sign(s.H, msg)
	return out, p11.Wrap("C_Sign("+ck.MechName(mech)+")", err)
}

func verifyOnce(s *p11.Session, h pkcs11.ObjectHandle, mech uint, msg, sig []byte) error {
	if err := s.M.VerifyInit(s.H, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, h); err != nil {
		return p11.Wrap("C_VerifyInit("+ck.MechName(mech)+")", err)
	}
	return p11.Wrap("C_Verify("+ck.MechName(mech)+")", s.M.Verify(s.H, msg, sig))
}

// proveSecret compares check values of the source key and its target copy.
func proveSecret(src, dst *p11.Session, so *object, dh pkcs11.ObjectHandle) (string, error) {
	method, err := secretMethod(so.KeyType, so.Usage)
	if err != nil {
		return "", err
	}
	want, method, err := checkValue(src, so.h, method)
	if err != nil {
		return "", fmt.Errorf("check value on the source: %w", err)
	}
	got, _, err := checkValue(dst, dh, method)
	if err != nil {
		return "", fmt.Errorf("check value on the target: %w", err)
	}
	if !bytes.Equal(want, got) {
		return "", fmt.Errorf("check values differ (%s): source %x, target %x", method, short(want), short(got))
	}
	return fmt.Sprintf("%s %x equal on both", method, short(want)), nil
}

func short(b []byte) []byte {
	if len(b) > 4 {
		return b[:4]
	}
	return b
}

// signMech is the signature mechanism for a key type and the data it signs:
// RSA signs the message (CKM_SHA256_RSA_PKCS); ECDSA signs the SHA-256
// digest, which is what applications do with CKM_ECDSA.
func signMech(keyType string) (uint, []byte, bool) {
	switch keyType {
	case KeyRSA:
		return pkcs11.CKM_SHA256_RSA_PKCS, proofMessage, true
	case KeyEC:
		d := sha256.Sum256(proofMessage)
		return pkcs11.CKM_ECDSA, d[:], true
	case KeyEdwards:
		return ck.CKM_EDDSA, proofMessage, true
	}
	return 0, nil, false
}

// pairHandles are the four objects a key-pair proof uses.
type pairHandles struct {
	srcPriv, srcPub, dstPriv, dstPub pkcs11.ObjectHandle
}

// proveKeyPair shows both directions: a signature made on the target
// verifies with the source's public key (C_Verify on the source), and a
// signature made on the source verifies on the target. Decrypt-only RSA
// keys do the same with encryption.
func proveKeyPair(src, dst *p11.Session, so *object, h pairHandles) (string, error) {
	mech, data, ok := signMech(so.KeyType)
	switch {
	case ok && hasUsage(so.Usage, "sign"):
		return proveBySignature(src, dst, mech, data, h)
	case so.KeyType == KeyRSA && hasUsage(so.Usage, "decrypt"):
		return proveByEncryption(src, dst, h)
	}
	return "", errUnprovable{why: "the key permits neither signing nor decryption"}
}

func proveBySignature(src, dst *p11.Session, mech uint, data []byte, h pairHandles) (string, error) {
	sig, err := signOnce(dst, h.dstPriv, mech, data)
	if err != nil {
		return "", fmt.Errorf("sign on the target: %w", err)
	}
	if err := verifyOnce(src, h.srcPub, mech, data, sig); err != nil {
		return "", fmt.Errorf("target signature does not verify with the source public key: %w", err)
	}
	sig, err = signOnce(src, h.srcPriv, mech, data)
	if err != nil {
		return "", fmt.Errorf("sign on the source: %w", err)
	}
	if err := verifyOnce(dst, h.dstPub, mech, data, sig); err != nil {
		return "", fmt.Errorf("source signature does not verify on the target: %w", err)
	}
	return ck.MechName(mech) + " target→source and source→target verified", nil
}

func proveByEncryption(src, dst *p11.Session, h pairHandles) (string, error) {
	m := pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil)
	for _, dir := range []struct {
		enc, dec       *p11.Session
		encKey, decKey pkcs11.ObjectHandle
		name           string
	}{{src, dst, h.srcPub, h.dstPriv, "source→target"}, {dst, src, h.dstPub, h.srcPriv, "target→source"}} {
		ct, err := cipherOnce(dir.enc, dir.encKey, m, proofMessage, true)
		if err != nil {
			return "", fmt.Errorf("encrypt %s: %w", dir.name, err)
		}
		pt, err := cipherOnce(dir.dec, dir.decKey, m, ct, false)
		if err != nil || !bytes.Equal(pt, proofMessage) {
			return "", fmt.Errorf("decrypt %s failed: %v", dir.name, err)
		}
	}
	return "CKM_RSA_PKCS encrypt/decrypt both directions", nil
}

// compareAttrs reads set on both objects and reports the first difference.
// Attributes neither side has are fine; one side only is a difference.
func compareAttrs(src *p11.Session, sh pkcs11.ObjectHandle, dst *p11.Session, dh pkcs11.ObjectHandle, set []uint) error {
	a, err := p11.ReadAttrs(src.M, src.H, sh, set...)
	if err != nil {
		return err
	}
	return compareWith(a, dst, dh, set)
}

// compareSource is compareAttrs with the source side taken from what was
// read of so when its action began (a superset of every compare set), so
// the source is not asked again; an attribute of set that was never asked
// for is read now.
func compareSource(src *p11.Session, so *object, dst *p11.Session, dh pkcs11.ObjectHandle, set []uint) error {
	a := so.attrs
	var missing []uint
	for _, t := range set {
		if _, asked := a.Unavailable[t]; !a.Has(t) && !asked {
			missing = append(missing, t)
		}
	}
	if a.Values == nil || len(missing) > 0 {
		return compareAttrs(src, so.h, dst, dh, set)
	}
	return compareWith(a, dst, dh, set)
}

// compareWith reads set on the target object and compares it with a.
func compareWith(a p11.Attrs, dst *p11.Session, dh pkcs11.ObjectHandle, set []uint) error {
	b, err := p11.ReadAttrs(dst.M, dst.H, dh, set...)
	if err != nil {
		return err
	}
	for _, t := range set {
		if a.Has(t) != b.Has(t) || !bytes.Equal(a.Bytes(t), b.Bytes(t)) {
			return fmt.Errorf("%s differs: source %s, target %s", ck.AttrName(t), hexOrNone(a, t), hexOrNone(b, t))
		}
	}
	return nil
}

func hexOrNone(a p11.Attrs, t uint) string {
	if !a.Has(t) {
		return "(unreadable)"
	}
	s := hex.EncodeToString(a.Bytes(t))
	if len(s) > 24 {
		s = s[:24] + "…"
	}
	return s
}
