package wrapmove

import (
	"bytes"
	"crypto/rand"
	"fmt"

	"github.com/craton-co/craton/errs"
	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// Transport kinds, as reported in Result and the journal.
const (
	TransportECDH    = "ecdh-p256"              // derived inside both modules; never in host memory
	TransportByValue = "random-aes256-by-value" // fallback: host-generated, zeroed after import
)

// transport is an AES-256 key present as a session object in both modules.
// Its handles die with the sessions, so a crash leaves nothing behind.
type transport struct {
	kind     string
	note     string // why the fallback was used
	src, dst pkcs11.ObjectHandle
	mech     uint // KWP or KW, for the agreement proof
}

// p256Params is CKA_EC_PARAMS for P-256 (OID 1.2.840.10045.3.1.7).
var p256Params = mustHex("06082a8648ce3d030107")

// establishTransport puts the same AES-256 key into both sessions and
// proves agreement. ECDH inside both tokens is preferred because the key
// then never exists outside the modules; when either module cannot derive
// it, a random key is imported by value into both.
func establishTransport(src, dst *p11.Session, mech uint) (*transport, error) {
	t, err := ecdhTransport(src, dst)
	if err == nil {
		t.mech = mech
		if err = t.prove(src, dst); err == nil {
			return t, nil
		}
		t.destroy(src, dst)
	}
	note := "ECDH unavailable: " + err.Error()
	t, err2 := byValueTransport(src, dst)
	if err2 != nil {
		return nil, &errs.Error{Kind: errs.KindInternal, Op: "establish transport key",
			Msg: fmt.Sprintf("ECDH failed (%v) and the by-value fallback failed (%v)", err, err2)}
	}
	t.mech, t.note = mech, note
	if err := t.prove(src, dst); err != nil {
		t.destroy(src, dst)
		return nil, err
	}
	return t, nil
}

func (t *transport) destroy(src, dst *p11.Session) {
	if t.src != 0 {
		_ = src.M.DestroyObject(src.H, t.src)
	}
	if t.dst != 0 {
		_ = dst.M.DestroyObject(dst.H, t.dst)
	}
}

// ecdhTransport runs an ephemeral P-256 exchange inside each module and
// derives CKD_NULL secrets. Only CKD_NULL is portable (SoftHSMv2 refuses
// the SHA-256 KDF), so the key is the raw 32-byte X coordinate; all 32
// bytes are used because modules disagree on which end a shorter
// CKA_VALUE_LEN keeps (Appendix A).
func ecdhTransport(src, dst *p11.Session) (*transport, error) {
	sPub, sPriv, err := ephemeralP256(src)
	if err != nil {
		return nil, err
	}
	defer destroyAll(src, sPub, sPriv)
	dPub, dPriv, err := ephemeralP256(dst)
	if err != nil {
		return nil, err
	}
	defer destroyAll(dst, dPub, dPriv)
	sPoint, err := ecPoint(src, sPub)
	if err != nil {
		return nil, err
	}
	dPoint, err := ecPoint(dst, dPub)
	if err != nil {
		return nil, err
	}
	t := &transport{kind: TransportECDH}
	if t.src, err = deriveAES(src, sPriv, dPoint); err != nil {
		return nil, err
	}
	if t.dst, err = deriveAES(dst, dPriv, sPoint); err != nil {
		t.destroy(src, dst)
		return nil, err
	}
	return t, nil
}

func ephemeralP256(s *p11.Session) (pkcs11.ObjectHandle, pkcs11.ObjectHandle, error) {
	pub := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
		pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, p256Params),
	}
	priv := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_DERIVE, true), // SoftHSMv2 defaults to false
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, false),
	}
	mech := []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_EC_KEY_PAIR_GEN, nil)}
	pu, pr, err := s.M.GenerateKeyPair(s.H, mech, pub, priv)
	if err != nil {
		return 0, 0, p11.Wrap("C_GenerateKeyPair(ephemeral P-256 on "+s.Token.Label+")", err)
	}
	return pu, pr, nil
}

// ecPoint reads CKA_EC_POINT and returns the raw uncompressed point: PKCS#11
// 3.0 requires modules to accept the raw form in CK_ECDH1_DERIVE_PARAMS.
func ecPoint(s *p11.Session, pub pkcs11.ObjectHandle) ([]byte, error) {
	a, err := p11.ReadAttrs(s.M, s.H, pub, pkcs11.CKA_EC_POINT)
	if err != nil {
		return nil, err
	}
	pt := rawECPoint(a.Bytes(pkcs11.CKA_EC_POINT))
	if len(pt) != 65 || pt[0] != 0x04 {
		return nil, fmt.Errorf("%s returned an EC point of %d bytes, want an uncompressed P-256 point", s.Token.Label, len(pt))
	}
	return pt, nil
}

// deriveAES derives the transport key: an AES-256 session key that can
// only wrap and unwrap (no encrypt/decrypt, so it cannot be used to
// decrypt a wrapped blob as data) and never leaves the module.
func deriveAES(s *p11.Session, priv pkcs11.ObjectHandle, peer []byte) (pkcs11.ObjectHandle, error) {
	mech := []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_ECDH1_DERIVE,
		pkcs11.NewECDH1DeriveParams(pkcs11.CKD_NULL, nil, peer))}
	h, err := s.M.DeriveKey(s.H, mech, priv, transportTemplate(nil))
	if err != nil {
		return 0, p11.Wrap("C_DeriveKey(CKM_ECDH1_DERIVE on "+s.Token.Label+")", err)
	}
	return h, nil
}

// transportTemplate is the template of the transport key; value is set
// only for the by-value fallback.
func transportTemplate(value []byte) []*pkcs11.Attribute {
	t := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_WRAP, true),
		pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, true),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, false),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, false),
	}
	if value == nil {
		return append(t, pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32))
	}
	return append(t, pkcs11.NewAttribute(pkcs11.CKA_VALUE, value))
}

// byValueTransport creates one random AES-256 key in both modules. The
// host copy is zeroed as soon as both imports returned.
func byValueTransport(src, dst *p11.Session) (*transport, error) {
	key := make([]byte, 32)
	defer clear(key)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	t := &transport{kind: TransportByValue}
	var err error
	if t.src, err = src.M.CreateObject(src.H, transportTemplate(key)); err != nil {
		return nil, p11.Wrap("C_CreateObject(transport key on "+src.Token.Label+")", err)
	}
	if t.dst, err = dst.M.CreateObject(dst.H, transportTemplate(key)); err != nil {
		t.destroy(src, dst)
		return nil, p11.Wrap("C_CreateObject(transport key on "+dst.Token.Label+")", err)
	}
	return t, nil
}

// prove shows that both modules hold the same transport key: a throwaway
// AES key made on the source is wrapped there and unwrapped on the target
// (KWP/KW carry an integrity check, so a different key fails the unwrap),
// then both copies encrypt the same block. CKA_CHECK_VALUE is not used:
// SoftHSMv2 computes it over the raw ECDH secret for derived keys.
func (t *transport) prove(src, dst *p11.Session) error {
	gen := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true),
	}
	probe, err := src.M.GenerateKey(src.H, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)}, gen)
	if err != nil {
		return p11.Wrap("C_GenerateKey(transport probe)", err)
	}
	defer destroyAll(src, probe)
	wm := []*pkcs11.Mechanism{pkcs11.NewMechanism(t.mech, nil)}
	blob, err := src.M.WrapKey(src.H, wm, t.src, probe)
	if err != nil {
		return p11.Wrap("C_WrapKey(transport probe)", err)
	}
	utmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true),
	}
	copyH, err := dst.M.UnwrapKey(dst.H, wm, t.dst, blob, utmpl)
	if err != nil {
		return fmt.Errorf("the two modules derived different transport keys: %w", p11.Wrap("C_UnwrapKey(transport probe)", err))
	}
	defer destroyAll(dst, copyH)
	a, _, err := aesBlock(src, probe, true)
	if err != nil {
		return err
	}
	b, _, err := aesBlock(dst, copyH, true)
	if err != nil {
		return err
	}
	if !bytes.Equal(a, b) {
		return fmt.Errorf("transport probe encrypts differently on the two modules")
	}
	return nil
}

func destroyAll(s *p11.Session, hs ...pkcs11.ObjectHandle) {
	for _, h := range hs {
		if h != 0 {
			_ = s.M.DestroyObject(s.H, h)
		}
	}
}
