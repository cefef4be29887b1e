package verify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/inventory"
	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// testMessage is what items 4 and 6 sign.
var testMessage = []byte("craton verify: cutover checklist v1")

// find returns the objects of class with CKA_ID id (hex) and, when label
// is not empty, CKA_LABEL label (inventory text encoding).
func find(s *p11.Session, class uint, idHex, label string) ([]pkcs11.ObjectHandle, error) {
	id, err := hex.DecodeString(idHex)
	if err != nil {
		return nil, fmt.Errorf("CKA_ID %q is not hex", idHex)
	}
	tmpl := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, class), pkcs11.NewAttribute(pkcs11.CKA_ID, id)}
	if label != "" {
		raw, err := inventory.DecodeText(label)
		if err != nil {
			return nil, err
		}
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_LABEL, raw))
	}
	return s.FindAll(tmpl)
}

// findOne is find expecting exactly one object.
func findOne(s *p11.Session, class uint, idHex, label string) (pkcs11.ObjectHandle, error) {
	hs, err := find(s, class, idHex, label)
	if err != nil {
		return 0, err
	}
	if len(hs) != 1 {
		return 0, fmt.Errorf("%d %s objects with CKA_ID %s and label %q", len(hs), ck.ClassName(class), idHex, label)
	}
	return hs[0], nil
}

// signMech is the mechanism and data for a sign test: RSA signs the
// message with CKM_SHA256_RSA_PKCS, ECDSA signs its SHA-256 digest with
// CKM_ECDSA (as applications do), Ed25519 signs the message.
func signMech(keyType string) (uint, []byte, bool) {
	switch keyType {
	case "RSA":
		return pkcs11.CKM_SHA256_RSA_PKCS, testMessage, true
	case "EC":
		d := sha256.Sum256(testMessage)
		return pkcs11.CKM_ECDSA, d[:], true
	case "EC_EDWARDS":
		return ck.CKM_EDDSA, testMessage, true
	}
	return 0, nil, false
}

// sign signs data with h on the target and records the operation.
func (r *run) sign(h pkcs11.ObjectHandle, mech uint, data []byte) ([]byte, error) {
	s := r.dstS
	if err := s.M.SignInit(s.H, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, h); err != nil {
		return nil, p11.Wrap("C_SignInit("+ck.MechName(mech)+")", err)
	}
	sig, err := s.M.Sign(s.H, data)
	if err != nil {
		return nil, p11.Wrap("C_Sign("+ck.MechName(mech)+")", err)
	}
	r.did("Sign", mech)
	return sig, nil
}

// verify runs C_Verify on the target and records the operation.
func (r *run) verify(h pkcs11.ObjectHandle, mech uint, data, sig []byte) error {
	s := r.dstS
	if err := s.M.VerifyInit(s.H, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, h); err != nil {
		return p11.Wrap("C_VerifyInit("+ck.MechName(mech)+")", err)
	}
	if err := s.M.Verify(s.H, data, sig); err != nil {
		return p11.Wrap("C_Verify("+ck.MechName(mech)+")", err)
	}
	r.did("Verify", mech)
	return nil
}

// goVerify checks sig over data (as signMech prepared it) with pub.
func goVerify(pub crypto.PublicKey, mech uint, data, sig []byte) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if mech != pkcs11.CKM_SHA256_RSA_PKCS {
			return errors.New("RSA public key for a non-RSA signature")
		}
		d := sha256.Sum256(data)
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, d[:], sig)
	case *ecdsa.PublicKey:
		if mech != pkcs11.CKM_ECDSA || len(sig) == 0 || len(sig)%2 != 0 {
			return errors.New("ECDSA public key for a non-ECDSA signature")
		}
		n := len(sig) / 2
		if !ecdsa.Verify(k, data, new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])) {
			return errors.New("ECDSA signature does not verify")
		}
		return nil
	case ed25519.PublicKey:
		if mech != ck.CKM_EDDSA || !ed25519.Verify(k, data, sig) {
			return errors.New("Ed25519 signature does not verify")
		}
		return nil
	}
	return fmt.Errorf("unsupported public key %T", pub)
}

var (
	oidP256 = mustHex("06082a8648ce3d030107")
	oidP384 = mustHex("06052b81040022")
	oidP521 = mustHex("06052b81040023")
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// publicKey builds the Go public key of a public-key object.
func publicKey(s *p11.Session, h pkcs11.ObjectHandle, keyType string) (crypto.PublicKey, error) {
	a, err := p11.ReadAttrs(s.M, s.H, h, pkcs11.CKA_MODULUS, pkcs11.CKA_PUBLIC_EXPONENT, pkcs11.CKA_EC_PARAMS, pkcs11.CKA_EC_POINT)
	if err != nil {
		return nil, err
	}
	switch keyType {
	case "RSA":
		n, e := a.Bytes(pkcs11.CKA_MODULUS), new(big.Int).SetBytes(a.Bytes(pkcs11.CKA_PUBLIC_EXPONENT))
		if len(n) == 0 || !e.IsInt64() {
			return nil, errors.New("RSA public key without CKA_MODULUS/CKA_PUBLIC_EXPONENT")
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(e.Int64())}, nil
	case "EC":
		var c elliptic.Curve
		switch p := a.Bytes(pkcs11.CKA_EC_PARAMS); {
		case bytes.Equal(p, oidP256):
			c = elliptic.P256()
		case bytes.Equal(p, oidP384):
			c = elliptic.P384()
		case bytes.Equal(p, oidP521):
			c = elliptic.P521()
		default:
			return nil, fmt.Errorf("unsupported EC curve %x", p)
		}
		return ecdsa.ParseUncompressedPublicKey(c, rawPoint(a.Bytes(pkcs11.CKA_EC_POINT)))
	case "EC_EDWARDS":
		pt := rawPoint(a.Bytes(pkcs11.CKA_EC_POINT))
		if len(pt) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("Edwards public key of %d bytes (only Ed25519 is supported)", len(pt))
		}
		return ed25519.PublicKey(pt), nil
	}
	return nil, fmt.Errorf("key type %s has no Go public key", keyType)
}

// rawPoint unwraps a DER OCTET STRING around an EC point; a raw point is
// returned as is.
func rawPoint(b []byte) []byte {
	var inner []byte
	if rest, err := asn1.Unmarshal(b, &inner); err == nil && len(rest) == 0 {
		return inner
	}
	return b
}

// sourcePublic finds the source's public key for idHex: the public-key
// object with that CKA_ID, else the certificate's key.
func (r *run) sourcePublic(idHex, keyType string) (crypto.PublicKey, string, error) {
	if r.srcS == nil {
		return nil, "", errors.New("no source module: cannot compare with the source public key")
	}
	hs, err := find(r.srcS, pkcs11.CKO_PUBLIC_KEY, idHex, "")
	if err != nil {
		return nil, "", err
	}
	if len(hs) == 1 {
		pub, err := publicKey(r.srcS, hs[0], keyType)
		return pub, "source public key", err
	}
	cs, err := find(r.srcS, pkcs11.CKO_CERTIFICATE, idHex, "")
	if err != nil {
		return nil, "", err
	}
	if len(cs) == 1 {
		cert, err := readCert(r.srcS, cs[0])
		if err != nil {
			return nil, "", err
		}
		return cert.PublicKey, "source certificate", nil
	}
	return nil, "", fmt.Errorf("the source has %d public keys and %d certificates with CKA_ID %s", len(hs), len(cs), idHex)
}

func readCert(s *p11.Session, h pkcs11.ObjectHandle) (*x509.Certificate, error) {
	a, err := p11.ReadAttrs(s.M, s.H, h, pkcs11.CKA_VALUE)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(a.Bytes(pkcs11.CKA_VALUE))
}

// checkSigning is item 4.
func checkSigning(_ context.Context, r *run) Result {
	var t tally
	for _, rec := range r.migrated(inventory.ClassPrivateKey) {
		mech, data, ok := signMech(rec.KeyType)
		if !ok || !inventory.Is(rec.Sign) {
			continue
		}
		what := describeRec(rec)
		priv, err := findOne(r.dstS, pkcs11.CKO_PRIVATE_KEY, rec.ID, rec.Label)
		if err != nil {
			t.bad("%s: %v", what, err)
			continue
		}
		sig, err := r.sign(priv, mech, data)
		if err != nil {
			t.bad("%s: %v", what, err)
			continue
		}
		var steps []string
		switch pub, err := findOne(r.dstS, pkcs11.CKO_PUBLIC_KEY, rec.ID, rec.Label); {
		case err != nil:
			steps = append(steps, "no target public key, C_Verify not run")
		default:
			if err := r.verify(pub, mech, data, sig); err != nil {
				t.bad("%s: target signature fails C_Verify on the target: %v", what, err)
				continue
			}
			steps = append(steps, "C_Verify ok")
		}
		pub, from, err := r.sourcePublic(rec.ID, rec.KeyType)
		if err != nil {
			t.note("%s: %s signed; %v", what, ck.MechName(mech), err)
			continue
		}
		if err := goVerify(pub, mech, data, sig); err != nil {
			t.bad("%s: target signature does not verify with the %s (a different key under the same label and ID?): %v", what, from, err)
			continue
		}
		steps = append(steps, "verifies with the "+from)
		t.ok("%s: %s signed, %s", what, ck.MechName(mech), join(steps))
	}
	return t.result("signing keys", "no migrated signing key")
}

func join(s []string) string {
	out := ""
	for i, p := range s {
		if i > 0 {
			out += ", "
		}
		out += p
	}
	return out
}

// checkWrapping is item 5.
func checkWrapping(_ context.Context, r *run) Result {
	var t tally
	for _, rec := range r.migrated(inventory.ClassSecretKey) {
		if rec.KeyType != "AES" || !inventory.Is(rec.Wrap) {
			continue
		}
		what := describeRec(rec)
		kek, err := findOne(r.dstS, pkcs11.CKO_SECRET_KEY, rec.ID, rec.Label)
		if err != nil {
			t.bad("%s: %v", what, err)
			continue
		}
		detail, err := r.wrapRoundTrip(kek, inventory.Is(rec.Unwrap))
		switch {
		case errors.Is(err, errWrapOnly):
			t.note("%s: %s", what, detail)
		case err != nil:
			t.bad("%s: %v", what, err)
		default:
			t.ok("%s: %s", what, detail)
		}
	}
	return t.result("wrapping keys", "no migrated AES key with CKA_WRAP")
}

var errWrapOnly = errors.New("wrap-only key")

// wrapRoundTrip generates a session AES key on the target, wraps it under
// kek with KWP, unwraps it as a session object, and compares the check
// values. Every object it creates is a session object and is destroyed.
func (r *run) wrapRoundTrip(kek pkcs11.ObjectHandle, canUnwrap bool) (string, error) {
	s := r.dstS
	k, err := s.M.GenerateKey(s.H, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)}, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true),
	})
	if err != nil {
		return "", p11.Wrap("C_GenerateKey(session AES key)", err)
	}
	defer destroy(s, k)
	mech := uint(pkcs11.CKM_AES_KEY_WRAP_PAD)
	blob, err := s.M.WrapKey(s.H, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, kek, k)
	if p11.IsRV(err, pkcs11.CKR_MECHANISM_INVALID) {
		mech = ck.CKM_AES_KEY_WRAP_KWP
		blob, err = s.M.WrapKey(s.H, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, kek, k)
	}
	if err != nil {
		return "", p11.Wrap("C_WrapKey(KWP)", err)
	}
	if !canUnwrap {
		return sprintf("%s wrap ok (%d bytes); CKA_UNWRAP false, unwrap not tested", ck.MechName(mech), len(blob)), errWrapOnly
	}
	u, err := s.M.UnwrapKey(s.H, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, kek, blob, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true),
	})
	if err != nil {
		return "", p11.Wrap("C_UnwrapKey(KWP)", err)
	}
	defer destroy(s, u)
	want, how, err := r.checkValue(k)
	if err != nil {
		return "", err
	}
	got, _, err := r.checkValue(u)
	if err != nil {
		return "", err
	}
	if !bytes.Equal(want, got) {
		return "", fmt.Errorf("%s round trip changed the key: check value %x before, %x after", ck.MechName(mech), want[:3], got[:3])
	}
	return sprintf("%s wrap/unwrap of a session AES-256 key, check values equal (%s %x)", ck.MechName(mech), how, want[:3]), nil
}

// checkValue encrypts one zero block with AES-ECB, or AES-CBC with a zero
// IV (the same result) when the module has no ECB.
func (r *run) checkValue(h pkcs11.ObjectHandle) ([]byte, string, error) {
	s := r.dstS
	var lastErr error
	for _, m := range []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_ECB, nil), pkcs11.NewMechanism(pkcs11.CKM_AES_CBC, make([]byte, 16))} {
		if err := s.M.EncryptInit(s.H, []*pkcs11.Mechanism{m}, h); err != nil {
			lastErr = p11.Wrap("C_EncryptInit("+ck.MechName(m.Mechanism)+")", err)
			if p11.IsRV(err, pkcs11.CKR_MECHANISM_INVALID) {
				continue
			}
			return nil, "", lastErr
		}
		out, err := s.M.Encrypt(s.H, make([]byte, 16))
		if err != nil {
			return nil, "", p11.Wrap("C_Encrypt", err)
		}
		r.did("Encrypt", m.Mechanism)
		return out, ck.MechName(m.Mechanism), nil
	}
	return nil, "", lastErr
}

func destroy(s *p11.Session, h pkcs11.ObjectHandle) { _ = s.M.DestroyObject(s.H, h) }

// checkCertificates is item 6.
func checkCertificates(_ context.Context, r *run) Result {
	var t tally
	for _, rec := range r.migrated(inventory.ClassCertificate) {
		what := describeRec(rec)
		ch, err := findOne(r.dstS, pkcs11.CKO_CERTIFICATE, rec.ID, rec.Label)
		if err != nil {
			t.bad("%s: %v", what, err)
			continue
		}
		cert, err := readCert(r.dstS, ch)
		if err != nil {
			t.bad("%s: cannot parse the certificate on the target: %v", what, err)
			continue
		}
		privs, err := find(r.dstS, pkcs11.CKO_PRIVATE_KEY, rec.ID, "")
		if err != nil {
			t.bad("%s: %v", what, err)
			continue
		}
		if len(privs) != 1 {
			t.bad("%s: %d private keys with CKA_ID %s on the target, want 1", what, len(privs), rec.ID)
			continue
		}
		a, err := p11.ReadAttrs(r.dstS.M, r.dstS.H, privs[0], pkcs11.CKA_KEY_TYPE, pkcs11.CKA_LABEL)
		if err != nil {
			t.bad("%s: %v", what, err)
			continue
		}
		kt, _ := a.Ulong(pkcs11.CKA_KEY_TYPE)
		keyType := map[uint]string{pkcs11.CKK_RSA: "RSA", pkcs11.CKK_EC: "EC", ck.CKK_EC_EDWARDS: "EC_EDWARDS"}[kt]
		mech, data, ok := signMech(keyType)
		if !ok {
			t.note("%s: private key of type %s cannot be checked by signature", what, ck.KeyTypeName(kt))
			continue
		}
		sig, err := r.sign(privs[0], mech, data)
		if err != nil {
			t.bad("%s: private key %q cannot sign: %v", what, a.Bytes(pkcs11.CKA_LABEL), err)
			continue
		}
		if err := goVerify(cert.PublicKey, mech, data, sig); err != nil {
			t.bad("%s: the certificate's public key does not match private key %q: %v", what, a.Bytes(pkcs11.CKA_LABEL), err)
			continue
		}
		t.ok("%s: resolves to private key %q; its %s signature verifies with the certificate (%s)", what,
			a.Bytes(pkcs11.CKA_LABEL), ck.MechName(mech), cert.Subject.CommonName)
	}
	return t.result("certificates", "no migrated certificate")
}
