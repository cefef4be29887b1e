package hsm

import (
	"bytes"
	"testing"

	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/hsm/config"
	"github.com/craton-co/craton/hsm/mech"
	"github.com/miekg/pkcs11"
)

func mk(m uint, p any) []*pkcs11.Mechanism { return []*pkcs11.Mechanism{mech.NewMechanism(m, p)} }

// genPQPair generates a PQC pair; set 0 leaves CKA_PARAMETER_SET out.
func genPQPair(t testing.TB, c *Ctx, sh pkcs11.SessionHandle, m, set uint, token bool, extraPriv ...*pkcs11.Attribute) (pkcs11.ObjectHandle, pkcs11.ObjectHandle) {
	t.Helper()
	pub := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_TOKEN, token), pkcs11.NewAttribute(pkcs11.CKA_LABEL, "pq")}
	if set != 0 {
		pub = append(pub, pkcs11.NewAttribute(ck.CKA_PARAMETER_SET, set))
	}
	priv := append([]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_TOKEN, token), pkcs11.NewAttribute(pkcs11.CKA_LABEL, "pq")}, extraPriv...)
	hp, hq, err := c.GenerateKeyPair(sh, mk(m, nil), pub, priv)
	if err != nil {
		t.Fatalf("GenerateKeyPair %s: %v", ck.MechName(m), err)
	}
	return hp, hq
}

func signVerify(t testing.TB, c *Ctx, sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, priv, pub pkcs11.ObjectHandle, msg []byte) []byte {
	t.Helper()
	must(t, c.SignInit(sh, m, priv))
	sig, err := c.Sign(sh, msg)
	must(t, err)
	must(t, c.VerifyInit(sh, m, pub))
	must(t, c.Verify(sh, msg, sig))
	must(t, c.VerifyInit(sh, m, pub))
	wantRV(t, c.Verify(sh, append([]byte("x"), msg...), sig), pkcs11.CKR_SIGNATURE_INVALID)
	return sig
}

// TestPQKeyPairsBothFamilies generates with the vendor and 3.2 codes and
// checks the object attributes.
func TestPQKeyPairsBothFamilies(t *testing.T) {
	c, sh := ready(t, t.TempDir())
	for _, tc := range []struct {
		gen, set, kt, wantSet uint
	}{
		{ck.CKM_CRATON_ML_KEM_768, 0, ck.CKK_CRATON_ML_KEM, ck.CKP_ML_KEM_768},
		{ck.CKM_ML_KEM_KEY_PAIR_GEN, ck.CKP_ML_KEM_512, ck.CKK_ML_KEM, ck.CKP_ML_KEM_512},
		{ck.CKM_CRATON_ML_DSA_87, 0, ck.CKK_CRATON_ML_DSA, ck.CKP_ML_DSA_87},
		{ck.CKM_ML_DSA_KEY_PAIR_GEN, ck.CKP_ML_DSA_44, ck.CKK_ML_DSA, ck.CKP_ML_DSA_44},
		{ck.CKM_SLH_DSA_KEY_PAIR_GEN, ck.CKP_SLH_DSA_SHA2_128F, ck.CKK_SLH_DSA, ck.CKP_SLH_DSA_SHA2_128F},
		{ck.CKM_CRATON_HYBRID_X25519_MLKEM1024, 0, ck.CKK_CRATON_HYBRID_X25519_ML_KEM, ck.CKP_ML_KEM_1024},
	} {
		hp, hq := genPQPair(t, c, sh, tc.gen, tc.set, false)
		for _, h := range []pkcs11.ObjectHandle{hp, hq} {
			if got := attr(t, c, sh, h, pkcs11.CKA_KEY_TYPE); !bytes.Equal(got, encUlong(tc.kt)) {
				t.Errorf("%s: key type %x", ck.MechName(tc.gen), got)
			}
			if got := attr(t, c, sh, h, ck.CKA_PARAMETER_SET); !bytes.Equal(got, encUlong(tc.wantSet)) {
				t.Errorf("%s: parameter set %x", ck.MechName(tc.gen), got)
			}
			if got := attr(t, c, sh, h, ck.CKA_VENDOR_FIPS_APPROVED); !bytes.Equal(got, []byte{0}) {
				t.Errorf("%s: CKA_VENDOR_FIPS_APPROVED %x", ck.MechName(tc.gen), got)
			}
			if got := attr(t, c, sh, h, pkcs11.CKA_KEY_GEN_MECHANISM); !bytes.Equal(got, encUlong(tc.gen)) {
				t.Errorf("%s: key gen mechanism %x", ck.MechName(tc.gen), got)
			}
		}
		// The public key is readable (reference "differ" item 16); the
		// private value is not.
		if v := attr(t, c, sh, hp, pkcs11.CKA_VALUE); len(v) < 32 {
			t.Errorf("%s: public CKA_VALUE %d bytes", ck.MechName(tc.gen), len(v))
		}
		_, err := c.GetAttributeValue(sh, hq, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)})
		wantRV(t, err, pkcs11.CKR_ATTRIBUTE_SENSITIVE)
	}
	// 3.2 generation needs CKA_PARAMETER_SET; an unknown set is refused.
	_, _, err := c.GenerateKeyPair(sh, mk(ck.CKM_ML_DSA_KEY_PAIR_GEN, nil), nil, nil)
	wantRV(t, err, pkcs11.CKR_TEMPLATE_INCOMPLETE)
	_, _, err = c.GenerateKeyPair(sh, mk(ck.CKM_ML_DSA_KEY_PAIR_GEN, nil), []*pkcs11.Attribute{pkcs11.NewAttribute(ck.CKA_PARAMETER_SET, 9)}, nil)
	wantRV(t, err, ck.CKR_PARAMETER_SET_NOT_SUPPORTED)
	// A vendor mechanism fixes the set.
	_, _, err = c.GenerateKeyPair(sh, mk(ck.CKM_CRATON_ML_DSA_44, nil), []*pkcs11.Attribute{pkcs11.NewAttribute(ck.CKA_PARAMETER_SET, ck.CKP_ML_DSA_65)}, nil)
	wantRV(t, err, pkcs11.CKR_TEMPLATE_INCONSISTENT)
}

// TestPQSignBothFamilies signs with both code families on both key
// families, the 3.2 context parameter included.
func TestPQSignBothFamilies(t *testing.T) {
	c, sh := ready(t, t.TempDir())
	msg := []byte("pq message")
	hp, hq := genPQPair(t, c, sh, ck.CKM_CRATON_ML_DSA_44, 0, false)
	signVerify(t, c, sh, mk(ck.CKM_CRATON_ML_DSA_44, nil), hq, hp, msg)
	signVerify(t, c, sh, mk(ck.CKM_ML_DSA, nil), hq, hp, msg)
	ctx := mech.SignContext{Hedge: ck.CKH_DETERMINISTIC_REQUIRED, Context: []byte("app")}
	sig := signVerify(t, c, sh, mk(ck.CKM_ML_DSA, ctx), hq, hp, msg)
	var pub mldsa44.PublicKey
	must(t, pub.UnmarshalBinary(attr(t, c, sh, hp, pkcs11.CKA_VALUE)))
	if !mldsa44.Verify(&pub, msg, ctx.Context, sig) {
		t.Fatal("circl rejects the engine's signature")
	}
	must(t, c.VerifyInit(sh, mk(ck.CKM_ML_DSA, nil), hp))
	wantRV(t, c.Verify(sh, msg, sig), pkcs11.CKR_SIGNATURE_INVALID) // context matters
	// Wrong parameter set through a vendor code.
	wantRV(t, c.SignInit(sh, mk(ck.CKM_CRATON_ML_DSA_65, nil), hq), pkcs11.CKR_KEY_TYPE_INCONSISTENT)

	hp, hq = genPQPair(t, c, sh, ck.CKM_ML_DSA_KEY_PAIR_GEN, ck.CKP_ML_DSA_65, false)
	signVerify(t, c, sh, mk(ck.CKM_CRATON_ML_DSA_65, nil), hq, hp, msg)

	hp, hq = genPQPair(t, c, sh, ck.CKM_SLH_DSA_KEY_PAIR_GEN, ck.CKP_SLH_DSA_SHA2_128F, false)
	signVerify(t, c, sh, mk(ck.CKM_SLH_DSA, nil), hq, hp, msg)
	// Multi-part equals single-part input.
	must(t, c.SignInit(sh, mk(ck.CKM_SLH_DSA, mech.SignContext{Hedge: ck.CKH_DETERMINISTIC_REQUIRED}), hq))
	must(t, c.SignUpdate(sh, msg[:3]))
	must(t, c.SignUpdate(sh, msg[3:]))
	sig, err := c.SignFinal(sh)
	must(t, err)
	must(t, c.VerifyInit(sh, mk(ck.CKM_SLH_DSA, nil), hp))
	must(t, c.Verify(sh, msg, sig))

	// Hybrid ML-DSA-65 + ECDSA P-256: its own key pair generation.
	hp, hq = genPQPair(t, c, sh, ck.CKM_CRATON_HYBRID_ML_DSA_ECDSA, 0, false)
	signVerify(t, c, sh, mk(ck.CKM_CRATON_HYBRID_ML_DSA_ECDSA, nil), hq, hp, msg)
	if len(attr(t, c, sh, hp, pkcs11.CKA_EC_POINT)) != 67 {
		t.Fatal("hybrid public key lacks its P-256 point")
	}
	_, err = c.GetAttributeValue(sh, hq, []*pkcs11.Attribute{pkcs11.NewAttribute(ck.CKA_CRATON_EC_PRIVATE_VALUE, nil)})
	wantRV(t, err, pkcs11.CKR_ATTRIBUTE_SENSITIVE)
}

func secretValue(t testing.TB, c *Ctx, sh pkcs11.SessionHandle, h pkcs11.ObjectHandle) []byte {
	t.Helper()
	v := attr(t, c, sh, h, pkcs11.CKA_VALUE)
	if len(v) == 0 {
		t.Fatal("no secret value")
	}
	return v
}

var readableSecret = []*pkcs11.Attribute{
	pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, false), pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true),
}

// TestKEMRoutes: decapsulation through C_DeriveKey (Craton §5.2),
// encapsulation through C_DeriveKey on the public key (the 3.0 route), and
// C_EncapsulateKey / C_DecapsulateKey, for ML-KEM and the hybrid.
func TestKEMRoutes(t *testing.T) {
	c, sh := ready(t, t.TempDir())
	for _, m := range []uint{ck.CKM_CRATON_ML_KEM_768, ck.CKM_ML_KEM, ck.CKM_CRATON_HYBRID_X25519_MLKEM768} {
		gen, set := m, uint(0)
		if m == ck.CKM_ML_KEM {
			gen, set = ck.CKM_ML_KEM_KEY_PAIR_GEN, ck.CKP_ML_KEM_1024
		}
		hp, hq := genPQPair(t, c, sh, gen, set, false)
		// 3.0 route: derive on the public key → secret + ciphertext attribute.
		hs, err := c.DeriveKey(sh, mk(m, nil), hp, readableSecret)
		must(t, err)
		ct := attr(t, c, sh, hs, ck.CKA_CRATON_KEM_CIPHERTEXT)
		ss := secretValue(t, c, sh, hs)
		wantKT := uint(pkcs11.CKK_AES)
		if m == ck.CKM_ML_KEM {
			wantKT = pkcs11.CKK_GENERIC_SECRET
		}
		if got := attr(t, c, sh, hs, pkcs11.CKA_KEY_TYPE); !bytes.Equal(got, encUlong(wantKT)) {
			t.Fatalf("%s: key type %x", ck.MechName(m), got)
		}
		// Craton route: derive on the private key with the ciphertext.
		hd, err := c.DeriveKey(sh, mk(m, ct), hq, readableSecret)
		must(t, err)
		if !bytes.Equal(secretValue(t, c, sh, hd), ss) {
			t.Fatalf("%s: derive decapsulation differs", ck.MechName(m))
		}
		// 3.2 functions.
		n, err := c.EncapsulatedLen(sh, mk(m, nil), hp)
		must(t, err)
		ct2, he, err := c.EncapsulateKey(sh, mk(m, nil), hp, readableSecret[:1])
		must(t, err)
		if len(ct2) != n {
			t.Fatalf("ciphertext %d bytes, size query %d", len(ct2), n)
		}
		// 3.2 default: the new key is extractable.
		if !bytes.Equal(attr(t, c, sh, he, pkcs11.CKA_EXTRACTABLE), []byte{1}) {
			t.Fatal("C_EncapsulateKey key is not extractable by default")
		}
		hd2, err := c.DecapsulateKey(sh, mk(m, nil), hq, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, false)}, ct2)
		must(t, err)
		if !bytes.Equal(secretValue(t, c, sh, hd2), attr(t, c, sh, he, pkcs11.CKA_VALUE)) {
			t.Fatalf("%s: C_DecapsulateKey differs from C_EncapsulateKey", ck.MechName(m))
		}
		// Usage flags and key roles.
		_, _, err = c.EncapsulateKey(sh, mk(m, nil), hq, nil)
		wantRV(t, err, pkcs11.CKR_KEY_FUNCTION_NOT_PERMITTED)
		_, err = c.DecapsulateKey(sh, mk(m, nil), hq, nil, ct2[:len(ct2)-1])
		wantRV(t, err, pkcs11.CKR_ENCRYPTED_DATA_INVALID)
	}
	// Non-KEM mechanisms are refused by the KEM functions.
	_, _, err := c.EncapsulateKey(sh, mk(pkcs11.CKM_AES_GCM, nil), 1, nil)
	wantRV(t, err, pkcs11.CKR_MECHANISM_INVALID)
}

// TestPQCreatePublicObject: a PQC public key created with C_CreateObject
// verifies and encapsulates (reference "differ" item 16).
func TestPQCreatePublicObject(t *testing.T) {
	c, sh := ready(t, t.TempDir())
	hp, hq := genPQPair(t, c, sh, ck.CKM_CRATON_ML_DSA_65, 0, false)
	pubVal := attr(t, c, sh, hp, pkcs11.CKA_VALUE)
	// The 3.2 key type, parameter set inferred from the length.
	h, err := c.CreateObject(sh, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, ck.CKK_ML_DSA),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, pubVal),
	})
	must(t, err)
	if !bytes.Equal(attr(t, c, sh, h, ck.CKA_PARAMETER_SET), encUlong(ck.CKP_ML_DSA_65)) {
		t.Fatal("parameter set not filled in")
	}
	signVerify(t, c, sh, mk(ck.CKM_ML_DSA, nil), hq, h, []byte("m"))

	kp, kq := genPQPair(t, c, sh, ck.CKM_CRATON_ML_KEM_512, 0, false)
	h, err = c.CreateObject(sh, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, ck.CKK_CRATON_ML_KEM),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, attr(t, c, sh, kp, pkcs11.CKA_VALUE)),
	})
	must(t, err)
	ct, he, err := c.EncapsulateKey(sh, mk(ck.CKM_CRATON_ML_KEM_512, nil), h, readableSecret)
	must(t, err)
	hd, err := c.DecapsulateKey(sh, mk(ck.CKM_CRATON_ML_KEM_512, nil), kq, readableSecret, ct)
	must(t, err)
	if !bytes.Equal(attr(t, c, sh, he, pkcs11.CKA_VALUE), attr(t, c, sh, hd, pkcs11.CKA_VALUE)) {
		t.Fatal("secrets differ")
	}
	// A malformed public key is refused at creation.
	_, err = c.CreateObject(sh, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, ck.CKK_ML_KEM),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, []byte("short")),
	})
	wantRV(t, err, pkcs11.CKR_ATTRIBUTE_VALUE_INVALID)
}

// TestPQPersistAndWrapBetweenTokens: PQC token keys survive a restart, and
// wrap/unwrap (PKCS#8 under AES-KWP) moves them to a second engine.
func TestPQPersistAndWrapBetweenTokens(t *testing.T) {
	dir := t.TempDir()
	c, sh := ready(t, dir)
	extractable := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true)}
	_, dq := genPQPair(t, c, sh, ck.CKM_ML_DSA_KEY_PAIR_GEN, ck.CKP_ML_DSA_87, true, extractable...)
	_, kq := genPQPair(t, c, sh, ck.CKM_CRATON_ML_KEM_1024, 0, true, extractable...)
	must(t, c.Finalize())

	c, err := Open(testConfig(dir))
	must(t, err)
	t.Cleanup(func() { c.Finalize() })
	sh = rwSession(t, c)
	must(t, c.Login(sh, pkcs11.CKU_USER, userPIN))
	pubs := findAll(t, c, sh, pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY), pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, ck.CKK_ML_DSA))
	if len(pubs) != 1 {
		t.Fatalf("%d ML-DSA public keys after restart", len(pubs))
	}
	signVerify(t, c, sh, mk(ck.CKM_ML_DSA, nil), dq, pubs[0], []byte("after restart"))

	// Same KEK on both tokens.
	kek := bytes.Repeat([]byte{0x42}, 32)
	wrapTmpl := aesTemplate("kek", "k", kek, false,
		pkcs11.NewAttribute(pkcs11.CKA_WRAP, true), pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, true))
	hk, err := c.CreateObject(sh, wrapTmpl)
	must(t, err)
	c2, sh2 := ready(t, t.TempDir())
	hk2, err := c2.CreateObject(sh2, wrapTmpl)
	must(t, err)

	wm := mk(pkcs11.CKM_AES_KEY_WRAP_PAD, nil)
	for _, tc := range []struct {
		h      pkcs11.ObjectHandle
		intoKT uint
	}{{dq, ck.CKK_CRATON_ML_DSA}, {kq, ck.CKK_ML_KEM}} {
		blob, err := c.WrapKey(sh, wm, hk, tc.h)
		must(t, err)
		hu, err := c2.UnwrapKey(sh2, wm, hk2, blob, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, tc.intoKT),
		})
		must(t, err)
		if !bytes.Equal(attr(t, c2, sh2, hu, ck.CKA_PARAMETER_SET), attr(t, c, sh, tc.h, ck.CKA_PARAMETER_SET)) {
			t.Fatal("parameter set lost in transit")
		}
		if tc.intoKT == ck.CKK_CRATON_ML_DSA {
			must(t, c2.SignInit(sh2, mk(ck.CKM_CRATON_ML_DSA_87, nil), hu))
			sig, err := c2.Sign(sh2, []byte("moved"))
			must(t, err)
			must(t, c.VerifyInit(sh, mk(ck.CKM_ML_DSA, nil), pubs[0]))
			must(t, c.Verify(sh, []byte("moved"), sig))
		} else {
			// The moved KEM key decapsulates what the original's public key
			// encapsulates.
			kp := findAll(t, c, sh, pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY), pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, ck.CKK_CRATON_ML_KEM))
			ct, he, err := c.EncapsulateKey(sh, mk(ck.CKM_ML_KEM, nil), kp[0], readableSecret)
			must(t, err)
			hd, err := c2.DecapsulateKey(sh2, mk(ck.CKM_ML_KEM, nil), hu, readableSecret, ct)
			must(t, err)
			if !bytes.Equal(attr(t, c, sh, he, pkcs11.CKA_VALUE), attr(t, c2, sh2, hd, pkcs11.CKA_VALUE)) {
				t.Fatal("moved KEM key decapsulates differently")
			}
		}
		// A template naming another parameter set is refused.
		_, err = c2.UnwrapKey(sh2, wm, hk2, blob, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, tc.intoKT),
			pkcs11.NewAttribute(ck.CKA_PARAMETER_SET, 1),
		})
		wantRV(t, err, pkcs11.CKR_TEMPLATE_INCONSISTENT)
	}
}

// TestPQPolicy: FIPS-approved-only mode and enable_pqc=false hide and
// refuse every PQC mechanism; the audit flag is false for PQC.
func TestPQPolicy(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*config.Config)
	}{
		{"fips", func(c *config.Config) { c.Algorithms.FIPSApprovedOnly = true }},
		{"nopqc", func(c *config.Config) { c.Algorithms.EnablePQC = false }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig(dir)
			tc.set(&cfg)
			if cfg.Algorithms.FIPSApprovedOnly {
				cfg.Audit.Enabled, cfg.Audit.LogPath = true, dir+"/audit.jsonl"
			}
			c := openCtx(t, cfg)
			list, err := c.GetMechanismList(0)
			must(t, err)
			for _, m := range list {
				if isPQC(m.Mechanism) {
					t.Errorf("%s listed", ck.MechName(m.Mechanism))
				}
			}
			must(t, c.InitToken(0, soPIN, "t"))
			sh := rwSession(t, c)
			for _, m := range []uint{ck.CKM_CRATON_ML_KEM_768, ck.CKM_ML_DSA_KEY_PAIR_GEN, ck.CKM_SLH_DSA_KEY_PAIR_GEN, ck.CKM_CRATON_HYBRID_X25519_MLKEM768} {
				_, _, err := c.GenerateKeyPair(sh, mk(m, nil), nil, nil)
				wantRV(t, err, pkcs11.CKR_MECHANISM_INVALID)
				_, err = c.GetMechanismInfo(0, mk(m, nil))
				wantRV(t, err, pkcs11.CKR_MECHANISM_INVALID)
			}
		})
	}
	for m := range map[uint]bool{ck.CKM_ML_KEM: true, ck.CKM_CRATON_ML_DSA_65: true, ck.CKM_SLH_DSA: true, ck.CKM_CRATON_HYBRID_ML_DSA_ECDSA: true} {
		if mechFIPS(m) {
			t.Errorf("%s audited as FIPS-approved", ck.MechName(m))
		}
	}
}
