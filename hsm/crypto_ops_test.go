package hsm

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"testing"

	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

var p256OID = []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}

func mechs(t uint) []*pkcs11.Mechanism { return []*pkcs11.Mechanism{pkcs11.NewMechanism(t, nil)} }

func genAES(t *testing.T, c *Ctx, sh pkcs11.SessionHandle, token bool, extra ...*pkcs11.Attribute) pkcs11.ObjectHandle {
	t.Helper()
	h, err := c.GenerateKey(sh, mechs(pkcs11.CKM_AES_KEY_GEN), append([]*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32), pkcs11.NewAttribute(pkcs11.CKA_TOKEN, token)}, extra...))
	must(t, err)
	return h
}

func TestGeneratedKeyAttributes(t *testing.T) {
	c, sh := ready(t, t.TempDir())
	h := genAES(t, c, sh, false)
	for typ, want := range map[uint][]byte{
		pkcs11.CKA_LOCAL: {1}, pkcs11.CKA_ALWAYS_SENSITIVE: {1}, pkcs11.CKA_NEVER_EXTRACTABLE: {1},
		pkcs11.CKA_KEY_GEN_MECHANISM: encUlong(pkcs11.CKM_AES_KEY_GEN), pkcs11.CKA_VALUE_LEN: encUlong(32),
		pkcs11.CKA_CLASS: encUlong(pkcs11.CKO_SECRET_KEY), pkcs11.CKA_KEY_TYPE: encUlong(pkcs11.CKK_AES),
	} {
		if got := attr(t, c, sh, h, typ); !bytes.Equal(got, want) {
			t.Errorf("%s = %x want %x", ck.AttrName(typ), got, want)
		}
	}
	x := genAES(t, c, sh, false, pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true), pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, false))
	if v := attr(t, c, sh, x, pkcs11.CKA_VALUE); len(v) != 32 {
		t.Fatal("extractable non-sensitive key value unreadable")
	}
	if a := attr(t, c, sh, x, pkcs11.CKA_ALWAYS_SENSITIVE); a[0] != 0 {
		t.Fatal("ALWAYS_SENSITIVE true on a non-sensitive key")
	}
	_, err := c.GenerateKey(sh, mechs(pkcs11.CKM_AES_KEY_GEN), []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32), pkcs11.NewAttribute(pkcs11.CKA_VALUE, make([]byte, 32))})
	wantRV(t, err, pkcs11.CKR_ATTRIBUTE_READ_ONLY)
}

func TestSignVerifyKeyPairs(t *testing.T) {
	c, sh := ready(t, t.TempDir())
	pairs := []struct {
		name    string
		gen     uint
		pubTmpl []*pkcs11.Attribute
		sig     uint
	}{
		{"RSA", pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_MODULUS_BITS, 2048)}, pkcs11.CKM_SHA256_RSA_PKCS},
		{"EC", pkcs11.CKM_EC_KEY_PAIR_GEN, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, p256OID)}, pkcs11.CKM_ECDSA_SHA256},
		{"Ed25519", ck.CKM_EC_EDWARDS_KEY_PAIR_GEN, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, []byte{0x06, 0x03, 0x2b, 0x65, 0x70})}, ck.CKM_EDDSA},
	}
	msg := []byte("message to sign")
	for _, p := range pairs {
		pub, priv, err := c.GenerateKeyPair(sh, mechs(p.gen), p.pubTmpl, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true)})
		if err != nil {
			t.Fatalf("%s keygen: %v", p.name, err)
		}
		if l := attr(t, c, sh, pub, pkcs11.CKA_LOCAL); l[0] != 1 {
			t.Errorf("%s public not local", p.name)
		}
		must(t, c.SignInit(sh, mechs(p.sig), priv))
		wantRV(t, c.SignInit(sh, mechs(p.sig), priv), pkcs11.CKR_OPERATION_ACTIVE)
		sig, err := c.Sign(sh, msg)
		must(t, err)
		_, err = c.Sign(sh, msg)
		wantRV(t, err, pkcs11.CKR_OPERATION_NOT_INITIALIZED)
		must(t, c.VerifyInit(sh, mechs(p.sig), pub))
		must(t, c.Verify(sh, msg, sig))
		must(t, c.VerifyInit(sh, mechs(p.sig), pub))
		wantRV(t, c.Verify(sh, append([]byte("x"), msg...), sig), pkcs11.CKR_SIGNATURE_INVALID)
		// Signing with the public key: not permitted.
		wantRV(t, c.SignInit(sh, mechs(p.sig), pub), pkcs11.CKR_KEY_FUNCTION_NOT_PERMITTED)
		if p.sig == ck.CKM_EDDSA {
			continue
		}
		// Multi-part gives a signature the single-part verify accepts.
		must(t, c.SignInit(sh, mechs(p.sig), priv))
		must(t, c.SignUpdate(sh, msg[:4]))
		must(t, c.SignUpdate(sh, msg[4:]))
		sig2, err := c.SignFinal(sh)
		must(t, err)
		must(t, c.VerifyInit(sh, mechs(p.sig), pub))
		must(t, c.VerifyUpdate(sh, msg))
		must(t, c.VerifyFinal(sh, sig2))
	}
}

func TestKeyFunctionNotPermitted(t *testing.T) {
	c, sh := ready(t, t.TempDir())
	h := genAES(t, c, sh, false, pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, false))
	wantRV(t, c.EncryptInit(sh, mechs(pkcs11.CKM_AES_GCM), h), pkcs11.CKR_KEY_FUNCTION_NOT_PERMITTED)
	_, priv, err := c.GenerateKeyPair(sh, mechs(pkcs11.CKM_EC_KEY_PAIR_GEN),
		[]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, p256OID)},
		[]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_SIGN, false)})
	must(t, err)
	wantRV(t, c.SignInit(sh, mechs(pkcs11.CKM_ECDSA), priv), pkcs11.CKR_KEY_FUNCTION_NOT_PERMITTED)
}

func TestGCMNoncesNeverRepeatAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	c, sh := ready(t, dir)
	h := genAES(t, c, sh, true)
	seen := map[string]bool{}
	encrypt := func(c *Ctx, sh pkcs11.SessionHandle) []byte {
		must(t, c.EncryptInit(sh, mechs(pkcs11.CKM_AES_GCM), h))
		ct, err := c.Encrypt(sh, []byte("plaintext"))
		must(t, err)
		if len(ct) != 12+9+16 {
			t.Fatalf("GCM output length %d", len(ct))
		}
		if seen[string(ct[:12])] {
			t.Fatalf("nonce %x repeated", ct[:12])
		}
		seen[string(ct[:12])] = true
		return ct
	}
	for i := 0; i < 3; i++ {
		encrypt(c, sh)
	}
	must(t, c.Finalize())
	c, sh = ready2(t, dir)
	ct := encrypt(c, sh)
	if n := binary.BigEndian.Uint64(ct[4:12]); n < nonceBlock {
		t.Fatalf("counter after restart %d: the reserved block was reused", n)
	}
	must(t, c.DecryptInit(sh, mechs(pkcs11.CKM_AES_GCM), h))
	pt, err := c.Decrypt(sh, ct)
	must(t, err)
	if string(pt) != "plaintext" {
		t.Fatalf("decrypt %q", pt)
	}
}

// ready2 reopens an existing store and logs the user in.
func ready2(t *testing.T, dir string) (*Ctx, pkcs11.SessionHandle) {
	c := openCtx(t, testConfig(dir))
	sh := rwSession(t, c)
	must(t, c.Login(sh, pkcs11.CKU_USER, userPIN))
	return c, sh
}

func TestWrapUnwrap(t *testing.T) {
	c, sh := ready(t, t.TempDir())
	kek := genAES(t, c, sh, false)
	// A 20-byte secret zero-padded to 24, as SoftHSMv2 wraps it.
	padded := append(bytes.Repeat([]byte{0xA5}, 20), 0, 0, 0, 0)
	target, err := c.CreateObject(sh, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_GENERIC_SECRET),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, padded),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true),
	})
	must(t, err)
	blob, err := c.WrapKey(sh, mechs(pkcs11.CKM_AES_KEY_WRAP), kek, target)
	must(t, err)
	h, err := c.UnwrapKey(sh, mechs(pkcs11.CKM_AES_KEY_WRAP), kek, blob, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_GENERIC_SECRET),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 20),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, "unwrapped"),
	})
	must(t, err)
	for typ, want := range map[uint][]byte{
		pkcs11.CKA_LOCAL: {0}, pkcs11.CKA_ALWAYS_SENSITIVE: {0}, pkcs11.CKA_NEVER_EXTRACTABLE: {0},
		pkcs11.CKA_VALUE_LEN: encUlong(20), pkcs11.CKA_KEY_TYPE: encUlong(pkcs11.CKK_GENERIC_SECRET),
		pkcs11.CKA_KEY_GEN_MECHANISM: encUlong(pkcs11.CK_UNAVAILABLE_INFORMATION),
	} {
		if got := attr(t, c, sh, h, typ); !bytes.Equal(got, want) {
			t.Errorf("%s = %x want %x", ck.AttrName(typ), got, want)
		}
	}
	// Wrap-with-trusted needs a trusted wrapping key.
	guarded := genAES(t, c, sh, false, pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true), pkcs11.NewAttribute(pkcs11.CKA_WRAP_WITH_TRUSTED, true))
	_, err = c.WrapKey(sh, mechs(pkcs11.CKM_AES_KEY_WRAP), kek, guarded)
	wantRV(t, err, pkcs11.CKR_KEY_NOT_WRAPPABLE)
	noWrap := genAES(t, c, sh, false, pkcs11.NewAttribute(pkcs11.CKA_WRAP, false))
	_, err = c.WrapKey(sh, mechs(pkcs11.CKM_AES_KEY_WRAP), noWrap, target)
	wantRV(t, err, pkcs11.CKR_KEY_FUNCTION_NOT_PERMITTED)
}

func TestDigestAndRandom(t *testing.T) {
	c, sh := ready(t, t.TempDir())
	must(t, c.DigestInit(sh, mechs(pkcs11.CKM_SHA256)))
	must(t, c.DigestUpdate(sh, []byte("ab")))
	must(t, c.DigestUpdate(sh, []byte("c")))
	d, err := c.DigestFinal(sh)
	must(t, err)
	want := sha256.Sum256([]byte("abc"))
	if !bytes.Equal(d, want[:]) {
		t.Fatalf("digest %x", d)
	}
	_, err = c.DigestFinal(sh)
	wantRV(t, err, pkcs11.CKR_OPERATION_NOT_INITIALIZED)
	r, err := c.GenerateRandom(sh, 32)
	must(t, err)
	if len(r) != 32 || bytes.Equal(r, make([]byte, 32)) {
		t.Fatal("random")
	}
}

func TestMechanismPolicy(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Algorithms.FIPSApprovedOnly = true
	c := openCtx(t, cfg)
	list, err := c.GetMechanismList(0)
	must(t, err)
	for _, m := range list {
		if !mechFIPS(m.Mechanism) {
			t.Errorf("FIPS mode lists %s", ck.MechName(m.Mechanism))
		}
		if isPQC(m.Mechanism) && !cfg.Algorithms.EnablePQC {
			t.Errorf("PQC listed with enable_pqc=false")
		}
	}
	_, err = c.GetMechanismInfo(0, mechs(ck.CKM_EDDSA))
	wantRV(t, err, pkcs11.CKR_MECHANISM_INVALID)
	info, err := c.GetMechanismInfo(0, mechs(pkcs11.CKM_SHA256))
	must(t, err)
	if info.Flags&pkcs11.CKF_DIGEST == 0 {
		t.Fatalf("SHA256 flags %#x", info.Flags)
	}
}
