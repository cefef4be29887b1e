package interop

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

// PQC through libcraton_hsm.so: pkcs11-tool's mechanism list, a Go harness
// through miekg/pkcs11 (PKCS#11 3.0 functions only: keygen, sign/verify,
// KEM through C_DeriveKey) with both code families, and a C harness that
// takes the 3.2 interface from C_GetInterface for C_EncapsulateKey /
// C_DecapsulateKey and the CK_SIGN_ADDITIONAL_CONTEXT parameter.

// pkcs11-tool 0.23 has no names for these codes and prints mechtype-0x...
var pqcToolNames = []string{
	"mechtype-0xF,", "mechtype-0x17,", "mechtype-0x1C,", "mechtype-0x1D,", "mechtype-0x2D,", "mechtype-0x2E,",
	"mechtype-0x80000001,", "mechtype-0x80000002,", "mechtype-0x80000003,",
	"mechtype-0x80000010,", "mechtype-0x80000011,", "mechtype-0x80000012,",
	"mechtype-0x80000020,", "mechtype-0x80000021,", "mechtype-0x80000030,",
	"mechtype-0x80000040,", "mechtype-0x80000041,",
}

func TestToolListsPQC(t *testing.T) {
	s := newStore(t)
	out := s.tool("-M")
	mustContain(t, out, pqcToolNames...)
	mustContain(t, out, "mechtype-0x17, keySize={800,1568}, derive, other flags=0x30000000") // CKF_ENCAPSULATE|CKF_DECAPSULATE
	// FIPS-approved-only mode (CRATON_HSM_FIPS=1) lists none of them.
	cmd := exec.Command(needTool(t, "pkcs11-tool"), "--module", libPath, "-M")
	cmd.Env = append(s.env(), "CRATON_HSM_FIPS=1")
	fips, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pkcs11-tool -M in FIPS mode: %v\n%s", err, fips)
	}
	for _, n := range pqcToolNames {
		if strings.Contains(string(fips), n) {
			t.Errorf("FIPS mode lists %s", strings.TrimSuffix(n, ","))
		}
	}
	if !strings.Contains(string(fips), "SHA256-RSA-PKCS") {
		t.Errorf("FIPS mode list looks empty:\n%s", fips)
	}
}

// TestPQCMiekgHarness drives the PQC mechanisms through miekg/pkcs11 with
// both code families.
func TestPQCMiekgHarness(t *testing.T) {
	l := openInproc(t)
	sh, err := l.OpenSession(0, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		t.Fatal(err)
	}
	defer l.CloseSession(sh)
	if err := l.Login(sh, pkcs11.CKU_USER, userPIN); err != nil {
		t.Fatal(err)
	}
	defer l.Logout(sh)
	mech := func(m uint, p []byte) []*pkcs11.Mechanism { return []*pkcs11.Mechanism{pkcs11.NewMechanism(m, p)} }
	value := func(h pkcs11.ObjectHandle, typ uint) []byte {
		t.Helper()
		a, err := l.GetAttributeValue(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(typ, nil)})
		if err != nil {
			t.Fatalf("GetAttributeValue %s: %v", ck.AttrName(typ), err)
		}
		return a[0].Value
	}
	msg := []byte("signed through libcraton_hsm.so")

	// ML-DSA-65: generated with the 3.2 code, used with both codes.
	hp, hq, err := l.GenerateKeyPair(sh, mech(ck.CKM_ML_DSA_KEY_PAIR_GEN, nil),
		[]*pkcs11.Attribute{pkcs11.NewAttribute(ck.CKA_PARAMETER_SET, ck.CKP_ML_DSA_65)}, nil)
	if err != nil {
		t.Fatalf("ML-DSA key pair: %v", err)
	}
	var pub mldsa65.PublicKey
	if err := pub.UnmarshalBinary(value(hp, pkcs11.CKA_VALUE)); err != nil {
		t.Fatalf("public CKA_VALUE: %v", err)
	}
	for _, m := range []uint{ck.CKM_ML_DSA, ck.CKM_CRATON_ML_DSA_65} {
		if err := l.SignInit(sh, mech(m, nil), hq); err != nil {
			t.Fatal(err)
		}
		sig, err := l.Sign(sh, msg)
		if err != nil {
			t.Fatalf("%s sign: %v", ck.MechName(m), err)
		}
		if !mldsa65.Verify(&pub, msg, nil, sig) {
			t.Fatalf("%s: circl rejects the signature", ck.MechName(m))
		}
		if err := l.VerifyInit(sh, mech(m, nil), hp); err != nil {
			t.Fatal(err)
		}
		if err := l.Verify(sh, msg, sig); err != nil {
			t.Fatalf("%s verify: %v", ck.MechName(m), err)
		}
	}
	// Vendor keygen (Craton's code) and the SLH-DSA 3.2 code.
	for _, g := range []struct {
		gen, op uint
		pub     []*pkcs11.Attribute
	}{
		{ck.CKM_CRATON_ML_DSA_44, ck.CKM_ML_DSA, nil},
		{ck.CKM_SLH_DSA_KEY_PAIR_GEN, ck.CKM_SLH_DSA, []*pkcs11.Attribute{pkcs11.NewAttribute(ck.CKA_PARAMETER_SET, ck.CKP_SLH_DSA_SHA2_128F)}},
		{ck.CKM_CRATON_HYBRID_ML_DSA_ECDSA, ck.CKM_CRATON_HYBRID_ML_DSA_ECDSA, nil},
	} {
		hp, hq, err := l.GenerateKeyPair(sh, mech(g.gen, nil), g.pub, nil)
		if err != nil {
			t.Fatalf("%s: %v", ck.MechName(g.gen), err)
		}
		if err := l.SignInit(sh, mech(g.op, nil), hq); err != nil {
			t.Fatal(err)
		}
		sig, err := l.Sign(sh, msg)
		if err != nil {
			t.Fatalf("%s sign: %v", ck.MechName(g.op), err)
		}
		if err := l.VerifyInit(sh, mech(g.op, nil), hp); err != nil {
			t.Fatal(err)
		}
		if err := l.Verify(sh, msg, sig); err != nil {
			t.Fatalf("%s verify: %v", ck.MechName(g.op), err)
		}
	}

	// ML-KEM: C_DeriveKey on the public key encapsulates (ciphertext in
	// CKA_CRATON_KEM_CIPHERTEXT), on the private key with the ciphertext
	// decapsulates; both code families.
	readable := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, false), pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true)}
	for _, c := range []struct {
		gen, op uint
		pub     []*pkcs11.Attribute
	}{
		{ck.CKM_ML_KEM_KEY_PAIR_GEN, ck.CKM_ML_KEM, []*pkcs11.Attribute{pkcs11.NewAttribute(ck.CKA_PARAMETER_SET, ck.CKP_ML_KEM_768)}},
		{ck.CKM_CRATON_ML_KEM_1024, ck.CKM_CRATON_ML_KEM_1024, nil},
		{ck.CKM_CRATON_HYBRID_X25519_MLKEM768, ck.CKM_CRATON_HYBRID_X25519_MLKEM768, nil},
	} {
		hp, hq, err := l.GenerateKeyPair(sh, mech(c.gen, nil), c.pub, nil)
		if err != nil {
			t.Fatalf("%s: %v", ck.MechName(c.gen), err)
		}
		he, err := l.DeriveKey(sh, mech(c.op, nil), hp, readable)
		if err != nil {
			t.Fatalf("%s encapsulate via C_DeriveKey: %v", ck.MechName(c.op), err)
		}
		ct := value(he, ck.CKA_CRATON_KEM_CIPHERTEXT)
		for _, op := range []uint{c.op, ck.CKM_ML_KEM} {
			if c.gen == ck.CKM_CRATON_HYBRID_X25519_MLKEM768 && op == ck.CKM_ML_KEM {
				continue // CKM_ML_KEM is plain ML-KEM
			}
			hd, err := l.DeriveKey(sh, mech(op, ct), hq, readable)
			if err != nil {
				t.Fatalf("%s decapsulate via C_DeriveKey: %v", ck.MechName(op), err)
			}
			if !bytes.Equal(value(hd, pkcs11.CKA_VALUE), value(he, pkcs11.CKA_VALUE)) {
				t.Fatalf("%s: secrets differ", ck.MechName(op))
			}
		}
	}
}

// pqcHarness uses the PKCS#11 3.2 interface of the library.
const pqcHarness = `
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include "craton_pkcs11.h"

static int fails;
#define EXPECT(call, want) do { CK_RV rv_ = (call); if (rv_ != (CK_RV)(want)) { \
	fprintf(stderr, "line %d: %s = 0x%lx, want 0x%lx\n", __LINE__, #call, rv_, (CK_RV)(want)); fails++; } } while (0)
#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "line %d: %s\n", __LINE__, #cond); fails++; } } while (0)

static CK_FUNCTION_LIST_3_2_PTR f;
static CK_SESSION_HANDLE s;
static CK_BBOOL no = CK_FALSE, yes = CK_TRUE;

static void value(CK_OBJECT_HANDLE h, CK_BYTE *buf, CK_ULONG *n) {
	CK_ATTRIBUTE a = {CKA_VALUE, buf, *n};
	EXPECT(f->C_GetAttributeValue(s, h, &a, 1), CKR_OK);
	*n = a.ulValueLen;
}

/* kem runs C_EncapsulateKey / C_DecapsulateKey with mechanism m. */
static void kem(CK_MECHANISM_TYPE gen, CK_ULONG set, CK_MECHANISM_TYPE m, CK_ULONG ctLen) {
	CK_MECHANISM mg = {gen, NULL, 0}, mk = {m, NULL, 0};
	CK_ATTRIBUTE pt[] = {{CKA_PARAMETER_SET, &set, sizeof set}};
	CK_ATTRIBUTE st[] = {{CKA_SENSITIVE, &no, 1}, {CKA_EXTRACTABLE, &yes, 1}};
	CK_OBJECT_HANDLE pub, priv, k1 = 0, k2 = 0;
	CK_BYTE ct[4096], v1[64], v2[64];
	CK_ULONG n, n1 = sizeof v1, n2 = sizeof v2;
	EXPECT(f->C_GenerateKeyPair(s, &mg, pt, set ? 1 : 0, NULL, 0, &pub, &priv), CKR_OK);
	n = 0;
	EXPECT(f->C_EncapsulateKey(s, &mk, pub, st, 2, NULL, &n, &k1), CKR_OK); /* size query */
	CHECK(n == ctLen && k1 == 0);
	n = 10;
	EXPECT(f->C_EncapsulateKey(s, &mk, pub, st, 2, ct, &n, &k1), CKR_BUFFER_TOO_SMALL);
	CHECK(n == ctLen && k1 == 0);
	n = sizeof ct;
	EXPECT(f->C_EncapsulateKey(s, &mk, pub, st, 2, ct, &n, &k1), CKR_OK);
	CHECK(n == ctLen && k1 != 0);
	EXPECT(f->C_DecapsulateKey(s, &mk, priv, st, 2, ct, n, &k2), CKR_OK);
	value(k1, v1, &n1);
	value(k2, v2, &n2);
	CHECK(n1 == 32 && n1 == n2 && memcmp(v1, v2, n1) == 0);
	EXPECT(f->C_DecapsulateKey(s, &mk, priv, st, 2, ct, n - 1, &k2), CKR_ENCRYPTED_DATA_INVALID);
	EXPECT(f->C_EncapsulateKey(s, &mk, priv, st, 2, ct, &n, &k1), CKR_KEY_FUNCTION_NOT_PERMITTED);
}

int main(int argc, char **argv) {
	void *h = dlopen(argv[1], RTLD_NOW);
	const char *user = argv[2];
	CK_C_GetInterface gi;
	CK_INTERFACE_PTR ip;
	CK_VERSION v32 = {3, 2};
	if (!h) { fprintf(stderr, "%s\n", dlerror()); return 2; }
	gi = (CK_C_GetInterface)dlsym(h, "C_GetInterface");
	EXPECT(gi((CK_UTF8CHAR_PTR)"PKCS 11", &v32, &ip, 0), CKR_OK);
	f = (CK_FUNCTION_LIST_3_2_PTR)ip->pFunctionList;
	CHECK(f->version.major == 3 && f->version.minor == 2);
	{
		void **p = (void **)&f->C_Initialize;
		CK_ULONG i;
		for (i = 0; i < 104; i++) CHECK(p[i] != NULL);
	}
	EXPECT(f->C_Initialize(NULL), CKR_OK);
	EXPECT(f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s), CKR_OK);
	EXPECT(f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)user, strlen(user)), CKR_OK);

	kem(CKM_ML_KEM_KEY_PAIR_GEN, CKP_ML_KEM_768, CKM_ML_KEM, 1088);
	kem(CKM_ML_KEM_KEY_PAIR_GEN, CKP_ML_KEM_1024, CKM_ML_KEM, 1568);
	kem(CKM_CRATON_ML_KEM_512, 0, CKM_CRATON_ML_KEM_512, 768);
	kem(CKM_CRATON_ML_KEM_768, 0, CKM_ML_KEM, 1088);
	kem(CKM_CRATON_HYBRID_X25519_MLKEM768, 0, CKM_CRATON_HYBRID_X25519_MLKEM768, 32 + 1088);
	kem(CKM_CRATON_HYBRID_X25519_MLKEM1024, 0, CKM_CRATON_HYBRID_X25519_MLKEM1024, 32 + 1568);

	{ /* ML-DSA with a CK_SIGN_ADDITIONAL_CONTEXT (pointer into this process) */
		CK_ULONG set = CKP_ML_DSA_87;
		CK_MECHANISM mg = {CKM_ML_DSA_KEY_PAIR_GEN, NULL, 0};
		CK_ATTRIBUTE pt[] = {{CKA_PARAMETER_SET, &set, sizeof set}};
		CK_OBJECT_HANDLE pub, priv;
		CK_BYTE ctx[] = "context string", msg[] = "message", sig[5000], sig2[5000];
		CK_SIGN_ADDITIONAL_CONTEXT p = {CKH_DETERMINISTIC_REQUIRED, ctx, sizeof ctx - 1};
		CK_MECHANISM ms = {CKM_ML_DSA, &p, sizeof p}, plain = {CKM_ML_DSA, NULL, 0};
		CK_ULONG n = sizeof sig, n2 = sizeof sig2;
		EXPECT(f->C_GenerateKeyPair(s, &mg, pt, 1, NULL, 0, &pub, &priv), CKR_OK);
		EXPECT(f->C_SignInit(s, &ms, priv), CKR_OK);
		EXPECT(f->C_Sign(s, msg, sizeof msg - 1, sig, &n), CKR_OK);
		CHECK(n == 4627);
		EXPECT(f->C_SignInit(s, &ms, priv), CKR_OK);
		EXPECT(f->C_Sign(s, msg, sizeof msg - 1, sig2, &n2), CKR_OK);
		CHECK(n2 == n && memcmp(sig, sig2, n) == 0); /* deterministic */
		EXPECT(f->C_VerifyInit(s, &ms, pub), CKR_OK);
		EXPECT(f->C_Verify(s, msg, sizeof msg - 1, sig, n), CKR_OK);
		EXPECT(f->C_VerifyInit(s, &plain, pub), CKR_OK);
		EXPECT(f->C_Verify(s, msg, sizeof msg - 1, sig, n), CKR_SIGNATURE_INVALID);
		p.ulContextLen = 256;
		EXPECT(f->C_SignInit(s, &ms, priv), CKR_MECHANISM_PARAM_INVALID);
	}
	EXPECT(f->C_Finalize(NULL), CKR_OK);
	if (fails) return 1;
	printf("pqc ok\n");
	return 0;
}
`

func TestPQC32Interface(t *testing.T) {
	bin := compileC(t, "pqc", pqcHarness)
	s := newToken(t)
	out, err := s.run(2*time.Minute, nil, bin, libPath, userPIN)
	if err != nil {
		t.Fatalf("pqc harness: %v\n%s", err, out)
	}
	mustContain(t, out, "pqc ok")
}
