package hsm

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"testing"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/internal/softhsmtest"
	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// Cross-implementation tests: the engine against a real SoftHSMv2 2.6.1
// token through PKCS#11 on both sides (issue 4's acceptance).

// crossPair is a SoftHSMv2 session on the representative fixture token and
// a logged-in engine session holding the same known KEK (kek-known).
type crossPair struct {
	s      *p11.Session // SoftHSMv2
	sKEK   pkcs11.ObjectHandle
	c      *Ctx // engine
	sh     pkcs11.SessionHandle
	engKEK pkcs11.ObjectHandle
}

func newCrossPair(t *testing.T) *crossPair {
	t.Helper()
	fx := softhsmtest.New(t)
	tok := fx.EmptyToken("hsm-cross")
	softhsmtest.PopulateRepresentative(tok)
	s, err := p11.OpenSession(fx.Module(), tok.P11(), true)
	must(t, err)
	t.Cleanup(s.Close)
	must(t, s.Login(pkcs11.CKU_USER, softhsmtest.UserPIN))
	t.Cleanup(func() { _ = s.M.Logout(s.H) })
	cp := &crossPair{s: s}
	cp.sKEK = cp.softObj(t, pkcs11.CKO_SECRET_KEY, "kek-known")
	cp.c, cp.sh = ready(t, t.TempDir())
	cp.engKEK, err = cp.c.CreateObject(cp.sh, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, softhsmtest.KnownKEK),
		pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, true),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
	})
	must(t, err)
	return cp
}

func (cp *crossPair) softObj(t *testing.T, class uint, label string) pkcs11.ObjectHandle {
	t.Helper()
	hs, err := cp.s.FindAll([]*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, class), pkcs11.NewAttribute(pkcs11.CKA_LABEL, label)})
	must(t, err)
	if len(hs) != 1 {
		t.Fatalf("SoftHSMv2 %s %q: %d objects", ck.ClassName(class), label, len(hs))
	}
	return hs[0]
}

// moveIn wraps a SoftHSMv2 key under kek-known with mech and unwraps it in
// the engine with tmpl.
func (cp *crossPair) moveIn(t *testing.T, mech uint, key pkcs11.ObjectHandle, tmpl []*pkcs11.Attribute) pkcs11.ObjectHandle {
	t.Helper()
	m := []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}
	blob, err := cp.s.M.WrapKey(cp.s.H, m, cp.sKEK, key)
	must(t, err)
	h, err := cp.c.UnwrapKey(cp.sh, m, cp.engKEK, blob, tmpl)
	if err != nil {
		t.Fatalf("engine unwrap (%s, %d-byte blob): %v", ck.MechName(mech), len(blob), err)
	}
	return h
}

func privTmpl(keyType uint, label string) []*pkcs11.Attribute {
	return []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, keyType),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
	}
}

func secretTmpl(keyType uint, valueLen int, usage uint) []*pkcs11.Attribute {
	t := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, keyType),
		pkcs11.NewAttribute(usage, true),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
	}
	if valueLen > 0 {
		t = append(t, pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, valueLen))
	}
	return t
}

// engineSign signs data in the engine; softVerify checks it in SoftHSMv2.
func (cp *crossPair) engineSign(t *testing.T, mech *pkcs11.Mechanism, key pkcs11.ObjectHandle, data []byte) []byte {
	t.Helper()
	must(t, cp.c.SignInit(cp.sh, []*pkcs11.Mechanism{mech}, key))
	sig, err := cp.c.Sign(cp.sh, data)
	must(t, err)
	return sig
}

func (cp *crossPair) softVerify(t *testing.T, mech *pkcs11.Mechanism, pub pkcs11.ObjectHandle, data, sig []byte) {
	t.Helper()
	must(t, cp.s.M.VerifyInit(cp.s.H, []*pkcs11.Mechanism{mech}, pub))
	if err := cp.s.M.Verify(cp.s.H, data, sig); err != nil {
		t.Fatalf("SoftHSMv2 rejects the engine's %s signature: %v", ck.MechName(mech.Mechanism), err)
	}
}

func TestCrossSoftHSMWrappedKeysWorkInEngine(t *testing.T) {
	cp := newCrossPair(t)
	msg := []byte("cross-implementation test message")
	digest := sha256.Sum256(msg)
	pss := pkcs11.NewMechanism(pkcs11.CKM_SHA256_RSA_PKCS_PSS, pkcs11.NewPSSParams(pkcs11.CKM_SHA256, pkcs11.CKG_MGF1_SHA256, 32))

	for _, wrapMech := range []uint{pkcs11.CKM_AES_KEY_WRAP, ck.CKM_AES_KEY_WRAP_PAD} {
		t.Run(ck.MechName(wrapMech), func(t *testing.T) {
			rsa := cp.moveIn(t, wrapMech, cp.softObj(t, pkcs11.CKO_PRIVATE_KEY, "my-signing-key"), privTmpl(pkcs11.CKK_RSA, "rsa"))
			rsaPub := cp.softObj(t, pkcs11.CKO_PUBLIC_KEY, "my-signing-key")
			for _, m := range []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_SHA256_RSA_PKCS, nil), pss} {
				cp.softVerify(t, m, rsaPub, msg, cp.engineSign(t, m, rsa, msg))
			}

			ec := cp.moveIn(t, wrapMech, cp.softObj(t, pkcs11.CKO_PRIVATE_KEY, "ec-p256-x"), privTmpl(pkcs11.CKK_EC, "ec"))
			ecdsa := pkcs11.NewMechanism(pkcs11.CKM_ECDSA, nil)
			cp.softVerify(t, ecdsa, cp.softObj(t, pkcs11.CKO_PUBLIC_KEY, "ec-p256-x"), digest[:], cp.engineSign(t, ecdsa, ec, digest[:]))

			aes := cp.moveIn(t, wrapMech, cp.softObj(t, pkcs11.CKO_SECRET_KEY, "aes256-x"), secretTmpl(pkcs11.CKK_AES, 32, pkcs11.CKA_ENCRYPT))
			cbc := pkcs11.NewMechanism(pkcs11.CKM_AES_CBC, make([]byte, 16))
			block := bytes.Repeat([]byte{0x5a}, 32)
			if got, want := cp.engineEncrypt(t, cbc, aes, block), cp.softEncrypt(t, cbc, cp.softObj(t, pkcs11.CKO_SECRET_KEY, "aes256-x"), block); !bytes.Equal(got, want) {
				t.Fatalf("AES-CBC differs: engine %x, SoftHSMv2 %x", got, want)
			}
		})
	}

	// The 20-byte generic secret arrives zero-padded to 24 bytes (SoftHSMv2
	// 2.6.1 pads before KWP); CKA_VALUE_LEN restores it, and the HMAC agrees.
	hmacSrc := cp.softObj(t, pkcs11.CKO_SECRET_KEY, "hmac20-x")
	hmac := cp.moveIn(t, ck.CKM_AES_KEY_WRAP_PAD, hmacSrc, secretTmpl(pkcs11.CKK_GENERIC_SECRET, 20, pkcs11.CKA_SIGN))
	vl, err := cp.c.GetAttributeValue(cp.sh, hmac, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, nil)})
	must(t, err)
	if n, _ := p11.DecodeUlong(vl[0].Value); n != 20 {
		t.Fatalf("unwrapped generic secret is %d bytes, want 20", n)
	}
	mac := pkcs11.NewMechanism(pkcs11.CKM_SHA_1_HMAC, nil)
	must(t, cp.s.M.SignInit(cp.s.H, []*pkcs11.Mechanism{mac}, hmacSrc))
	want, err := cp.s.M.Sign(cp.s.H, msg)
	must(t, err)
	if got := cp.engineSign(t, mac, hmac, msg); !bytes.Equal(got, want) {
		t.Fatalf("HMAC-SHA1 differs: engine %x, SoftHSMv2 %x", got, want)
	}
}

func (cp *crossPair) engineEncrypt(t *testing.T, m *pkcs11.Mechanism, key pkcs11.ObjectHandle, data []byte) []byte {
	t.Helper()
	must(t, cp.c.EncryptInit(cp.sh, []*pkcs11.Mechanism{m}, key))
	out, err := cp.c.Encrypt(cp.sh, data)
	must(t, err)
	return out
}

func (cp *crossPair) softEncrypt(t *testing.T, m *pkcs11.Mechanism, key pkcs11.ObjectHandle, data []byte) []byte {
	t.Helper()
	must(t, cp.s.M.EncryptInit(cp.s.H, []*pkcs11.Mechanism{m}, key))
	out, err := cp.s.M.Encrypt(cp.s.H, data)
	must(t, err)
	return out
}

// genPair generates a key pair in the engine and copies its public half
// into SoftHSMv2 as a session object, so SoftHSMv2 can verify.
func (cp *crossPair) genPair(t *testing.T, mech uint, pubTmpl []*pkcs11.Attribute, pubAttrs ...uint) (pkcs11.ObjectHandle, pkcs11.ObjectHandle) {
	t.Helper()
	pub, priv, err := cp.c.GenerateKeyPair(cp.sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)},
		append(pubTmpl, pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true), pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false)),
		[]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_SIGN, true), pkcs11.NewAttribute(pkcs11.CKA_DERIVE, true), pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false)})
	must(t, err)
	if len(pubAttrs) == 0 {
		return pub, priv
	}
	read := make([]*pkcs11.Attribute, len(pubAttrs))
	for i, a := range pubAttrs {
		read[i] = pkcs11.NewAttribute(a, nil)
	}
	vals, err := cp.c.GetAttributeValue(cp.sh, pub, read)
	must(t, err)
	class, kt := pkcs11.CKO_PUBLIC_KEY, uint(pkcs11.CKK_RSA)
	if mech == pkcs11.CKM_EC_KEY_PAIR_GEN {
		kt = pkcs11.CKK_EC
	}
	tmpl := append([]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, class), pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, kt),
		pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true), pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false)}, vals...)
	softPub, err := cp.s.M.CreateObject(cp.s.H, tmpl)
	must(t, err)
	return softPub, priv
}

var p256Params = []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}

func TestCrossEngineSignaturesVerifyInSoftHSM(t *testing.T) {
	cp := newCrossPair(t)
	msg := []byte("signed by craton, verified by SoftHSMv2")
	digest := sha256.Sum256(msg)

	softPub, priv := cp.genPair(t, pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN,
		[]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_MODULUS_BITS, 2048)}, pkcs11.CKA_MODULUS, pkcs11.CKA_PUBLIC_EXPONENT)
	for _, m := range []*pkcs11.Mechanism{
		pkcs11.NewMechanism(pkcs11.CKM_SHA256_RSA_PKCS, nil),
		pkcs11.NewMechanism(pkcs11.CKM_SHA256_RSA_PKCS_PSS, pkcs11.NewPSSParams(pkcs11.CKM_SHA256, pkcs11.CKG_MGF1_SHA256, 32)),
	} {
		cp.softVerify(t, m, softPub, msg, cp.engineSign(t, m, priv, msg))
	}

	softPub, priv = cp.genPair(t, pkcs11.CKM_EC_KEY_PAIR_GEN,
		[]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, p256Params)}, pkcs11.CKA_EC_PARAMS, pkcs11.CKA_EC_POINT)
	ecdsa := pkcs11.NewMechanism(pkcs11.CKM_ECDSA, nil)
	sig := cp.engineSign(t, ecdsa, priv, digest[:])
	if len(sig) != 64 {
		t.Fatalf("CKM_ECDSA P-256 signature is %d bytes, want raw r||s (64)", len(sig))
	}
	cp.softVerify(t, ecdsa, softPub, digest[:], sig)

	// Ed25519: SoftHSMv2 2.6.1 has EdDSA too, but Go's crypto/ed25519 is the
	// reference here.
	edPub, edPriv := cp.genPair(t, ck.CKM_EC_EDWARDS_KEY_PAIR_GEN,
		[]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, []byte{0x06, 0x03, 0x2b, 0x65, 0x70})})
	edSig := cp.engineSign(t, pkcs11.NewMechanism(ck.CKM_EDDSA, nil), edPriv, msg)
	pt, err := cp.c.GetAttributeValue(cp.sh, edPub, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, nil)})
	must(t, err)
	raw := pt[0].Value
	if len(raw) == 34 { // DER OCTET STRING of the 32-byte key
		raw = raw[2:]
	}
	if !ed25519.Verify(ed25519.PublicKey(raw), msg, edSig) {
		t.Fatal("crypto/ed25519 rejects the engine's Ed25519 signature")
	}
}

func TestCrossECDHAgreesWithSoftHSM(t *testing.T) {
	cp := newCrossPair(t)
	ecParams := pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, p256Params)
	// Engine pair and SoftHSMv2 pair, both P-256 session keys that may derive.
	engPub, engPriv := cp.genPair(t, pkcs11.CKM_EC_KEY_PAIR_GEN, []*pkcs11.Attribute{ecParams})
	softPub, softPriv, err := cp.s.M.GenerateKeyPair(cp.s.H, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_EC_KEY_PAIR_GEN, nil)},
		[]*pkcs11.Attribute{ecParams, pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false)},
		[]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_DERIVE, true), pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false)})
	must(t, err)

	point := func(get func() ([]*pkcs11.Attribute, error)) []byte {
		a, err := get()
		must(t, err)
		if v := a[0].Value; len(v) == 67 && v[0] == 0x04 && v[1] == 0x41 { // DER OCTET STRING
			return v[2:]
		}
		return a[0].Value
	}
	ptAttr := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, nil)}
	engPoint := point(func() ([]*pkcs11.Attribute, error) { return cp.c.GetAttributeValue(cp.sh, engPub, ptAttr) })
	softPoint := point(func() ([]*pkcs11.Attribute, error) { return cp.s.M.GetAttributeValue(cp.s.H, softPub, ptAttr) })

	derived := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY), pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32), pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
	}
	dm := func(peer []byte) []*pkcs11.Mechanism {
		return []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_ECDH1_DERIVE, pkcs11.NewECDH1DeriveParams(pkcs11.CKD_NULL, nil, peer))}
	}
	engKey, err := cp.c.DeriveKey(cp.sh, dm(softPoint), engPriv, derived)
	must(t, err)
	softKey, err := cp.s.M.DeriveKey(cp.s.H, dm(engPoint), softPriv, derived)
	must(t, err)
	cbc := pkcs11.NewMechanism(pkcs11.CKM_AES_CBC, make([]byte, 16))
	block := make([]byte, 16)
	if got, want := cp.engineEncrypt(t, cbc, engKey, block), cp.softEncrypt(t, cbc, softKey, block); !bytes.Equal(got, want) {
		t.Fatalf("ECDH-derived keys differ: engine %x, SoftHSMv2 %x", got, want)
	}
}
