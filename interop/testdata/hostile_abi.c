/* hostile_abi.c — the C ABI hostile-input catalogue (interop/hostile_abi_test.go).
 *
 * Usage: hostile_abi <libcraton_hsm.so> <user PIN>
 *
 * dlopens the library, initialises it, logs the user in, makes an HMAC key
 * (sensitive generic secret, label "abi-key") and an AES-256 key, and runs
 * every case. One line per case on stdout:
 *
 *     case <id> 0x<CK_RV> <ok | what else went wrong>
 *
 * The Go test compares the lines against its table (abiCases). Buffers
 * whose claimed length exceeds their real size end where a PROT_NONE page
 * begins (guarded), so a read or write past them kills the harness with
 * SIGSEGV: the Go test then names the case after the last line printed. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "craton_pkcs11.h"

static void *lib;
static CK_FUNCTION_LIST_PTR f;
static CK_SLOT_ID slot;
static CK_SESSION_HANDLE s; /* RW, user logged in */
static CK_OBJECT_HANDLE hmacKey, aesKey;
static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

#define MAX_DATA ((CK_ULONG)64 << 20) /* capi: maxData */

static void report(const char *id, CK_RV rv, const char *post)
{
	printf("case %s 0x%lx %s\n", id, (unsigned long)rv, post ? post : "ok");
	fflush(stdout);
}

/* guarded returns n writable bytes that end where a PROT_NONE page begins. */
static void *guarded(size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), span = ((n + pg - 1) / pg) * pg;
	unsigned char *m;
	if (span == 0)
		span = pg;
	m = mmap(NULL, span + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || mprotect(m + span, pg, PROT_NONE) != 0) {
		perror("guarded");
		exit(3);
	}
	memset(m, 0x5a, span);
	return m + span - n;
}

static CK_SESSION_HANDLE fresh(void)
{
	CK_SESSION_HANDLE h = 0;
	if (f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h) != CKR_OK) {
		fprintf(stderr, "C_OpenSession failed\n");
		exit(4);
	}
	return h;
}

static CK_MECHANISM hmac = {CKM_SHA256_HMAC, NULL, 0};
static CK_BYTE hello[5] = {'h', 'e', 'l', 'l', 'o'};

static void setup(const char *pin)
{
	CK_ULONG n = 1, len = 32;
	CK_MECHANISM gen = {CKM_GENERIC_SECRET_KEY_GEN, NULL, 0};
	CK_MECHANISM aesgen = {CKM_AES_KEY_GEN, NULL, 0};
	CK_ATTRIBUTE ht[] = {{CKA_VALUE_LEN, &len, sizeof len}, {CKA_SENSITIVE, &yes, 1},
		{CKA_SIGN, &yes, 1}, {CKA_VERIFY, &yes, 1}, {CKA_LABEL, "abi-key", 7}};
	CK_ATTRIBUTE at[] = {{CKA_VALUE_LEN, &len, sizeof len}, {CKA_ENCRYPT, &yes, 1},
		{CKA_DECRYPT, &yes, 1}, {CKA_TOKEN, &no, 1}};
	if (f->C_GetSlotList(CK_TRUE, &slot, &n) != CKR_OK || n < 1) {
		fprintf(stderr, "no slot\n");
		exit(5);
	}
	s = fresh();
	if (f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)) != CKR_OK) {
		fprintf(stderr, "C_Login failed\n");
		exit(6);
	}
	if (f->C_GenerateKey(s, &gen, ht, 5, &hmacKey) != CKR_OK ||
	    f->C_GenerateKey(s, &aesgen, at, 4, &aesKey) != CKR_OK) {
		fprintf(stderr, "C_GenerateKey failed\n");
		exit(7);
	}
}

/* nullPointers: a NULL where the spec requires a pointer. */
static void nullPointers(void)
{
	CK_C_GetFunctionList gfl;
	CK_C_GetInterface gi;
	CK_C_GetInterfaceList gil;
	CK_OBJECT_HANDLE h;
	CK_ULONG n;
	gfl = (CK_C_GetFunctionList)dlsym(lib, "C_GetFunctionList");
	gi = (CK_C_GetInterface)dlsym(lib, "C_GetInterface");
	gil = (CK_C_GetInterfaceList)dlsym(lib, "C_GetInterfaceList");
	if (!gfl || !gi || !gil) {
		fprintf(stderr, "dlsym failed\n");
		exit(10);
	}
	report("null-ppFunctionList", gfl(NULL), NULL);
	report("null-ppInterface", gi(NULL, NULL, NULL, 0), NULL);
	report("null-interface-pulCount", gil(NULL, NULL), NULL);
	report("null-GetInfo", f->C_GetInfo(NULL), NULL);
	report("null-slotlist-pulCount", f->C_GetSlotList(CK_FALSE, NULL, NULL), NULL);
	report("null-slotinfo", f->C_GetSlotInfo(slot, NULL), NULL);
	report("null-tokeninfo", f->C_GetTokenInfo(slot, NULL), NULL);
	report("null-mechlist-pulCount", f->C_GetMechanismList(slot, NULL, NULL), NULL);
	report("null-mechinfo", f->C_GetMechanismInfo(slot, CKM_SHA256_HMAC, NULL), NULL);
	report("null-phSession", f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, NULL), NULL);
	report("null-sessioninfo", f->C_GetSessionInfo(s, NULL), NULL);
	report("null-pPin", f->C_Login(s, CKU_USER, NULL, 8), NULL);
	report("null-setpin-old", f->C_SetPIN(s, NULL, 8, (CK_UTF8CHAR_PTR)"new-Pin123", 10), NULL);
	report("null-inittoken-label", f->C_InitToken(slot, (CK_UTF8CHAR_PTR)"so-Pin1234", 10, NULL), NULL);
	report("null-pTemplate", f->C_CreateObject(s, NULL, 3, &h), NULL);
	{
		CK_OBJECT_CLASS c = CKO_DATA;
		CK_ATTRIBUTE t[] = {{CKA_CLASS, &c, sizeof c}, {CKA_TOKEN, &no, 1}};
		report("null-phObject", f->C_CreateObject(s, t, 2, NULL), NULL);
	}
	{
		CK_ATTRIBUTE t[] = {{CKA_LABEL, NULL, 5}};
		report("null-pValue-with-length", f->C_CreateObject(s, t, 1, &h), NULL);
	}
	report("null-getattr-template", f->C_GetAttributeValue(s, hmacKey, NULL, 1), NULL);
	report("null-find-template", f->C_FindObjectsInit(s, NULL, 2), NULL);
	{
		CK_SESSION_HANDLE x = fresh();
		CK_OBJECT_HANDLE hs[4];
		f->C_FindObjectsInit(x, NULL, 0);
		report("null-phObject-find", f->C_FindObjects(x, NULL, 4, &n), NULL);
		report("null-pulObjectCount", f->C_FindObjects(x, hs, 4, NULL), NULL);
		f->C_CloseSession(x);
	}
	report("null-pMechanism", f->C_SignInit(s, NULL, hmacKey), NULL);
	{
		CK_SESSION_HANDLE x = fresh();
		CK_BYTE sig[32];
		CK_ULONG sl = sizeof sig;
		CK_RV rv;
		f->C_SignInit(x, &hmac, hmacKey);
		rv = f->C_Sign(x, hello, 5, sig, NULL);
		/* The operation is still active (the argument check comes first,
		 * as in SoftHSMv2): a correct call completes it. */
		report("null-pulSignatureLen", rv,
			f->C_Sign(x, hello, 5, sig, &sl) == CKR_OK && sl == 32 ? NULL : "a correct C_Sign afterwards failed");
		f->C_CloseSession(x);
	}
	{
		CK_SESSION_HANDLE x = fresh();
		CK_BYTE sig[32];
		CK_ULONG sl = sizeof sig;
		f->C_SignInit(x, &hmac, hmacKey);
		report("null-pData-with-length", f->C_Sign(x, NULL, 5, sig, &sl), NULL);
		f->C_CloseSession(x);
	}
	report("null-encrypt-mechanism", f->C_EncryptInit(s, NULL, aesKey), NULL);
	report("null-digest-mechanism", f->C_DigestInit(s, NULL), NULL);
	{
		CK_MECHANISM gen = {CKM_AES_KEY_GEN, NULL, 0};
		CK_ULONG len = 16;
		CK_ATTRIBUTE t[] = {{CKA_VALUE_LEN, &len, sizeof len}};
		report("null-phKey", f->C_GenerateKey(s, &gen, t, 1, NULL), NULL);
	}
	{
		CK_MECHANISM ec = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
		CK_BYTE p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
		CK_ATTRIBUTE pub[] = {{CKA_EC_PARAMS, p256, sizeof p256}};
		CK_OBJECT_HANDLE hp;
		report("null-phPrivateKey", f->C_GenerateKeyPair(s, &ec, pub, 1, NULL, 0, &hp, NULL), NULL);
	}
	{
		CK_MECHANISM kw = {CKM_AES_KEY_WRAP, NULL, 0};
		report("null-pulWrappedKeyLen", f->C_WrapKey(s, &kw, aesKey, hmacKey, NULL, NULL), NULL);
	}
	report("null-random-buffer", f->C_GenerateRandom(s, NULL, 16), NULL);
	report("null-pulSize", f->C_GetObjectSize(s, hmacKey, NULL), NULL);
	report("waitforslot-pReserved", f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, (CK_VOID_PTR)&n), NULL);
}

/* oversized: lengths larger than the buffer behind them. */
static void oversized(void)
{
	CK_OBJECT_HANDLE h;
	{
		CK_OBJECT_CLASS *c = guarded(sizeof *c);
		CK_ATTRIBUTE *t = guarded(sizeof *t);
		*c = CKO_DATA;
		t->type = CKA_CLASS; t->pValue = c; t->ulValueLen = sizeof *c;
		report("huge-ulCount-create", f->C_CreateObject(s, t, 0x10000000UL, &h), NULL);
		report("huge-ulCount-getattr", f->C_GetAttributeValue(s, hmacKey, t, (CK_ULONG)-1 / sizeof *t), NULL);
		report("ulCount-257-find", f->C_FindObjectsInit(s, t, 257), NULL);
	}
	{
		CK_BYTE *v = guarded(16);
		CK_OBJECT_CLASS c = CKO_DATA;
		CK_ATTRIBUTE t[] = {{CKA_CLASS, &c, sizeof c}, {CKA_TOKEN, &no, 1}, {CKA_VALUE, v, (64 << 10) + 1}};
		report("ulValueLen-64KiB+1", f->C_CreateObject(s, t, 3, &h), NULL);
		t[2].ulValueLen = CK_UNAVAILABLE_INFORMATION;
		report("ulValueLen-unavailable-create", f->C_CreateObject(s, t, 3, &h), NULL);
	}
	{
		CK_UTF8CHAR *p = guarded(10);
		CK_SESSION_HANDLE x = fresh();
		memcpy(p, "user-Pin12", 10);
		report("ulPinLen-257", f->C_Login(x, CKU_USER, p, 257), NULL);
		report("ulPinLen-huge", f->C_Login(x, CKU_USER, p, (CK_ULONG)-1), NULL);
		report("setpin-new-257", f->C_SetPIN(x, p, 10, p, 257), NULL);
		f->C_CloseSession(x);
	}
	{
		CK_SESSION_HANDLE x = fresh();
		CK_BYTE *d = guarded(16), sig[32];
		CK_ULONG sl = sizeof sig;
		CK_RV rv;
		f->C_SignInit(x, &hmac, hmacKey);
		rv = f->C_Sign(x, d, MAX_DATA + 1, sig, &sl);
		report("ulDataLen-64MiB+1-sign", rv, NULL);
		f->C_CloseSession(x);
	}
	{
		CK_SESSION_HANDLE x = fresh();
		CK_BYTE *d = guarded(16), out[64];
		CK_ULONG ol = sizeof out;
		CK_MECHANISM cbc = {CKM_AES_CBC_PAD, NULL, 0};
		CK_BYTE iv[16] = {0};
		cbc.pParameter = iv; cbc.ulParameterLen = sizeof iv;
		f->C_EncryptInit(x, &cbc, aesKey);
		report("ulDataLen-huge-encrypt", f->C_Encrypt(x, d, (CK_ULONG)-1, out, &ol), NULL);
		f->C_CloseSession(x);
	}
	{
		CK_SESSION_HANDLE x = fresh();
		CK_BYTE *d = guarded(16);
		f->C_VerifyInit(x, &hmac, hmacKey);
		report("ulSignatureLen-64MiB+1-verify", f->C_Verify(x, hello, 5, d, MAX_DATA + 1), NULL);
		f->C_CloseSession(x);
	}
	{
		CK_SESSION_HANDLE x = fresh();
		CK_MECHANISM sha = {CKM_SHA256, NULL, 0};
		CK_BYTE *d = guarded(16);
		f->C_DigestInit(x, &sha);
		report("ulPartLen-64MiB+1-digestupdate", f->C_DigestUpdate(x, d, MAX_DATA + 1), NULL);
		f->C_CloseSession(x);
	}
	{
		CK_BYTE *d = guarded(16);
		report("ulRandomLen-64MiB+1", f->C_GenerateRandom(s, d, MAX_DATA + 1), NULL);
	}
	{
		CK_BYTE *p = guarded(16);
		CK_MECHANISM m = {CKM_SHA256_HMAC, NULL, MAX_DATA + 1};
		m.pParameter = p;
		report("ulParameterLen-64MiB+1", f->C_SignInit(s, &m, hmacKey), NULL);
	}
	{
		CK_BYTE *iv = guarded(12);
		CK_GCM_PARAMS g = {NULL, MAX_DATA + 1, 96, NULL, 0, 128};
		CK_MECHANISM m = {CKM_AES_GCM, &g, sizeof g};
		g.pIv = iv;
		report("gcm-ulIvLen-64MiB+1", f->C_EncryptInit(s, &m, aesKey), NULL);
	}
	{
		/* the output length the caller claims is an upper bound: exactly
		 * the 32 MAC bytes are written */
		CK_SESSION_HANDLE x = fresh();
		CK_BYTE *sig = guarded(32);
		CK_ULONG sl = CK_UNAVAILABLE_INFORMATION;
		CK_RV rv;
		f->C_SignInit(x, &hmac, hmacKey);
		rv = f->C_Sign(x, hello, 5, sig, &sl);
		report("pulSignatureLen-huge-32-byte-buffer", rv, sl == 32 ? NULL : "*pulSignatureLen is not 32");
		f->C_CloseSession(x);
	}
	{
		CK_BYTE *l = guarded(7);
		CK_ATTRIBUTE q = {CKA_LABEL, NULL, CK_UNAVAILABLE_INFORMATION};
		CK_RV rv;
		q.pValue = l;
		rv = f->C_GetAttributeValue(s, hmacKey, &q, 1);
		report("getattr-ulValueLen-unavailable-7-byte-buffer", rv,
			q.ulValueLen == 7 && memcmp(l, "abi-key", 7) == 0 ? NULL : "label not returned");
	}
}

/* mechanismParams: parameters of the wrong size or content. */
static void mechanismParams(void)
{
	CK_BYTE iv[16] = {0};
	CK_GCM_PARAMS g = {iv, 12, 96, NULL, 0, 128};
	{
		CK_MECHANISM m = {CKM_AES_GCM, &g, sizeof g - 1};
		report("gcm-param-short", f->C_EncryptInit(s, &m, aesKey), NULL);
	}
	{
		CK_MECHANISM m = {CKM_AES_GCM, NULL, sizeof g};
		report("gcm-param-null-with-length", f->C_EncryptInit(s, &m, aesKey), NULL);
	}
	{
		CK_GCM_PARAMS b = g;
		CK_MECHANISM m = {CKM_AES_GCM, &b, sizeof b};
		b.ulTagBits = 200;
		report("gcm-tagbits-200", f->C_EncryptInit(s, &m, aesKey), NULL);
	}
	{
		CK_MECHANISM m = {CKM_AES_CBC_PAD, iv, 8};
		report("cbc-iv-8-bytes", f->C_EncryptInit(s, &m, aesKey), NULL);
	}
	{
		CK_RSA_PKCS_OAEP_PARAMS o = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0};
		CK_MECHANISM m = {CKM_RSA_PKCS_OAEP, &o, sizeof o - 1};
		report("oaep-param-short", f->C_EncryptInit(s, &m, aesKey), NULL);
	}
	{
		CK_MECHANISM m = {0x7ffffff0UL, NULL, 0};
		report("mechanism-unknown", f->C_SignInit(s, &m, hmacKey), NULL);
	}
}

/* attributes: values of the wrong size for their type, and engine checks
 * behind the ABI. */
static void attributes(void)
{
	CK_OBJECT_HANDLE h;
	CK_MECHANISM aesgen = {CKM_AES_KEY_GEN, NULL, 0};
	{
		unsigned int len4 = 32;
		CK_ATTRIBUTE t[] = {{CKA_VALUE_LEN, &len4, sizeof len4}, {CKA_TOKEN, &no, 1}};
		report("value-len-4-bytes", f->C_GenerateKey(s, &aesgen, t, 2, &h), NULL);
	}
	{
		CK_ULONG len = 32, tok8 = 0;
		CK_ATTRIBUTE t[] = {{CKA_VALUE_LEN, &len, sizeof len}, {CKA_TOKEN, &tok8, sizeof tok8}};
		report("bbool-8-bytes", f->C_GenerateKey(s, &aesgen, t, 2, &h), NULL);
	}
	{
		CK_BYTE c1 = CKO_DATA;
		CK_ATTRIBUTE t[] = {{CKA_CLASS, &c1, 1}, {CKA_TOKEN, &no, 1}};
		report("class-1-byte", f->C_CreateObject(s, t, 2, &h), NULL);
	}
	{
		CK_ATTRIBUTE q = {CKA_WRAP_TEMPLATE, NULL, 0};
		CK_RV rv = f->C_GetAttributeValue(s, hmacKey, &q, 1);
		report("getattr-wrap-template", rv, q.ulValueLen == CK_UNAVAILABLE_INFORMATION ? NULL : "ulValueLen not CK_UNAVAILABLE_INFORMATION");
	}
	{
		CK_SESSION_HANDLE x = fresh();
		CK_BYTE sig[31] = {0};
		f->C_VerifyInit(x, &hmac, hmacKey);
		report("verify-signature-31-bytes", f->C_Verify(x, hello, 5, sig, sizeof sig), NULL);
		f->C_CloseSession(x);
	}
	{
		CK_SESSION_HANDLE x = fresh();
		CK_MECHANISM sha = {CKM_SHA256, NULL, 0};
		CK_BYTE d[32];
		CK_ULONG dl = sizeof d;
		static const CK_BYTE sha256hello[32] = {0x2c, 0xf2, 0x4d, 0xba, 0x5f, 0xb0, 0xa3, 0x0e, 0x26, 0xe8,
			0x3b, 0x2a, 0xc5, 0xb9, 0xe2, 0x9e, 0x1b, 0x16, 0x1e, 0x5c, 0x1f, 0xa7, 0x42, 0x5e, 0x73, 0x04,
			0x33, 0x62, 0x93, 0x8b, 0x98, 0x24};
		CK_RV rv;
		f->C_DigestInit(x, &sha);
		f->C_DigestUpdate(x, hello, 5);
		rv = f->C_Digest(x, hello, 5, d, &dl);
		/* the multi-part digest goes on: its result is SHA-256("hello") */
		dl = sizeof d;
		report("digest-after-digestupdate", rv,
			f->C_DigestFinal(x, d, &dl) == CKR_OK && dl == 32 && memcmp(d, sha256hello, 32) == 0 ?
			NULL : "C_DigestFinal afterwards did not return SHA-256(\"hello\")");
		f->C_CloseSession(x);
	}
	{
		CK_SESSION_HANDLE x = fresh();
		CK_BYTE sig[32];
		CK_ULONG sl = sizeof sig;
		f->C_SignInit(x, &hmac, hmacKey);
		f->C_SignUpdate(x, hello, 5);
		report("sign-after-signupdate", f->C_Sign(x, hello, 5, sig, &sl), NULL);
		f->C_CloseSession(x);
	}
	{
		CK_ULONG len = 32;
		CK_MECHANISM gen = {CKM_GENERIC_SECRET_KEY_GEN, NULL, 0};
		CK_ATTRIBUTE t[] = {{CKA_VALUE_LEN, &len, sizeof len}, {CKA_SIGN, &no, 1}, {CKA_TOKEN, &no, 1}};
		CK_OBJECT_HANDLE k = 0;
		f->C_GenerateKey(s, &gen, t, 3, &k);
		report("signinit-key-without-cka-sign", f->C_SignInit(s, &hmac, k), NULL);
	}
	report("signinit-aes-key-for-hmac", f->C_SignInit(s, &hmac, aesKey), NULL);
	{
		CK_SESSION_HANDLE ro = 0;
		CK_OBJECT_CLASS c = CKO_DATA;
		CK_ATTRIBUTE t[] = {{CKA_CLASS, &c, sizeof c}, {CKA_TOKEN, &yes, 1}};
		f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &ro);
		report("ro-session-token-object", f->C_CreateObject(ro, t, 2, &h), NULL);
		f->C_CloseSession(ro);
	}
	report("closeallsessions-slot-invalid", f->C_CloseAllSessions(0x7fff), NULL);
	{
		CK_MECHANISM_INFO mi;
		report("mechinfo-unknown", f->C_GetMechanismInfo(slot, 0x7ffffff0UL, &mi), NULL);
	}
}

/* handles: invalid, random, closed, destroyed. */
static void handles(void)
{
	CK_SESSION_INFO si;
	CK_SLOT_INFO sli;
	CK_SESSION_HANDLE closed = fresh(), x;
	CK_ATTRIBUTE q = {CKA_LABEL, NULL, 0};
	CK_OBJECT_HANDLE gone;
	CK_OBJECT_CLASS c = CKO_DATA;
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &c, sizeof c}, {CKA_TOKEN, &no, 1}};
	f->C_CloseSession(closed);
	report("session-0", f->C_GetSessionInfo(0, &si), NULL);
	report("session-random", f->C_GetSessionInfo(0x5eed1234UL, &si), NULL);
	report("session-closed-signinit", f->C_SignInit(closed, &hmac, hmacKey), NULL);
	report("session-closed-close", f->C_CloseSession(closed), NULL);
	report("object-0", f->C_GetAttributeValue(s, 0, &q, 1), NULL);
	if (f->C_CreateObject(s, t, 2, &gone) != CKR_OK || f->C_DestroyObject(s, gone) != CKR_OK) {
		fprintf(stderr, "data object create/destroy failed\n");
		exit(8);
	}
	report("object-destroyed-getattr", f->C_GetAttributeValue(s, gone, &q, 1), NULL);
	report("object-destroyed-destroy", f->C_DestroyObject(s, gone), NULL);
	report("key-0-signinit", f->C_SignInit(s, &hmac, 0), NULL);
	report("key-random-signinit", f->C_SignInit(s, &hmac, 0x7fff1234UL), NULL);
	report("slot-invalid", f->C_GetSlotInfo(0x7fff, &sli), NULL);
	report("opensession-slot-invalid", f->C_OpenSession(0x7fff, CKF_SERIAL_SESSION, NULL, NULL, &x), NULL);
	report("opensession-no-serial-flag", f->C_OpenSession(slot, 0, NULL, NULL, &x), NULL);
	report("login-user-type-invalid", f->C_Login(s, 7, (CK_UTF8CHAR_PTR)"user-Pin12", 10), NULL);
}

/* order: calls out of sequence. */
static void order(void)
{
	CK_SESSION_HANDLE x = fresh();
	CK_BYTE sig[32];
	CK_ULONG sl = sizeof sig, n;
	CK_OBJECT_HANDLE hs[2];
	report("sign-without-signinit", f->C_Sign(x, hello, 5, sig, &sl), NULL);
	f->C_SignInit(x, &hmac, hmacKey);
	report("signinit-twice", f->C_SignInit(x, &hmac, hmacKey), NULL);
	report("findobjects-without-init", f->C_FindObjects(x, hs, 2, &n), NULL);
	sl = sizeof sig;
	report("encryptfinal-without-init", f->C_EncryptFinal(x, sig, &sl), NULL);
	report("initialize-twice", f->C_Initialize(NULL), NULL);
	report("login-twice", f->C_Login(x, CKU_USER, (CK_UTF8CHAR_PTR)"user-Pin12", 10), NULL);
	f->C_CloseSession(x);
}

/* twoCall: the length idiom with a buffer too small. */
static void twoCall(void)
{
	{
		CK_SESSION_HANDLE x = fresh();
		CK_BYTE sig[32];
		CK_ULONG sl = 8;
		CK_RV rv;
		f->C_SignInit(x, &hmac, hmacKey);
		rv = f->C_Sign(x, hello, 5, sig, &sl);
		if (sl != 32) {
			report("sign-buffer-too-small", rv, "*pulSignatureLen is not 32");
		} else {
			report("sign-buffer-too-small", rv,
				f->C_Sign(x, hello, 5, sig, &sl) == CKR_OK ? NULL : "the retry with 32 bytes failed");
		}
		f->C_CloseSession(x);
	}
	{
		CK_SLOT_ID sl[1];
		CK_ULONG n = 0;
		CK_RV rv = f->C_GetSlotList(CK_FALSE, sl, &n);
		report("slotlist-count-0", rv, n >= 1 ? NULL : "*pulCount not set to the slot count");
	}
	{
		CK_MECHANISM_TYPE m[1];
		CK_ULONG n = 1, want = 0;
		CK_RV rv;
		f->C_GetMechanismList(slot, NULL, &want);
		rv = f->C_GetMechanismList(slot, m, &n);
		report("mechlist-count-1", rv, n == want && want > 1 ? NULL : "*pulCount not set to the list length");
	}
	{
		CK_BYTE small[2];
		CK_ATTRIBUTE q = {CKA_LABEL, small, sizeof small};
		CK_RV rv = f->C_GetAttributeValue(s, hmacKey, &q, 1);
		report("getattr-buffer-too-small", rv, q.ulValueLen == CK_UNAVAILABLE_INFORMATION ? NULL : "ulValueLen not CK_UNAVAILABLE_INFORMATION");
	}
	{
		CK_BYTE v[64];
		CK_ATTRIBUTE q = {CKA_VALUE, v, sizeof v};
		CK_RV rv = f->C_GetAttributeValue(s, hmacKey, &q, 1);
		report("getattr-sensitive", rv, q.ulValueLen == CK_UNAVAILABLE_INFORMATION ? NULL : "ulValueLen not CK_UNAVAILABLE_INFORMATION");
	}
	{
		CK_ATTRIBUTE q = {0x7ffffff0UL, NULL, 0};
		CK_RV rv = f->C_GetAttributeValue(s, hmacKey, &q, 1);
		report("getattr-type-invalid", rv, q.ulValueLen == CK_UNAVAILABLE_INFORMATION ? NULL : "ulValueLen not CK_UNAVAILABLE_INFORMATION");
	}
}

/* finalize: C_Finalize arguments and calls after it. */
static void finalize(void)
{
	CK_INFO info;
	CK_SESSION_INFO si;
	CK_SESSION_HANDLE x = fresh(), y;
	CK_C_INITIALIZE_ARGS a;
	CK_BYTE sig[32];
	CK_ULONG sl = sizeof sig;
	CK_FUNCTION_LIST_PTR f2;
	CK_RV rv;
	f->C_SignInit(x, &hmac, hmacKey);
	rv = f->C_Finalize(&a);
	report("finalize-pReserved", rv, f->C_GetInfo(&info) == CKR_OK ? NULL : "the library did not stay initialised");
	report("finalize", f->C_Finalize(NULL), NULL);
	report("after-finalize-getinfo", f->C_GetInfo(&info), NULL);
	report("after-finalize-sign", f->C_Sign(x, hello, 5, sig, &sl), NULL);
	report("after-finalize-opensession", f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &y), NULL);
	report("after-finalize-finalize", f->C_Finalize(NULL), NULL);
	rv = f->C_GetFunctionList(&f2);
	report("after-finalize-getfunctionlist", rv, f2 == f ? NULL : "another function list");
	memset(&a, 0, sizeof a);
	a.flags = CKF_OS_LOCKING_OK;
	if (f->C_Initialize(&a) != CKR_OK) {
		fprintf(stderr, "C_Initialize after C_Finalize failed\n");
		exit(9);
	}
	report("reinit-old-session", f->C_GetSessionInfo(x, &si), NULL);
	f->C_Finalize(NULL);
}

int main(int argc, char **argv)
{
	CK_C_GetFunctionList gfl;
	CK_C_INITIALIZE_ARGS a;
	if (argc != 3) {
		fprintf(stderr, "usage: hostile_abi <libcraton_hsm.so> <user PIN>\n");
		return 2;
	}
	if (!(lib = dlopen(argv[1], RTLD_NOW))) {
		fprintf(stderr, "%s\n", dlerror());
		return 2;
	}
	gfl = (CK_C_GetFunctionList)dlsym(lib, "C_GetFunctionList");
	if (!gfl || gfl(&f) != CKR_OK)
		return 3;
	memset(&a, 0, sizeof a);
	a.flags = CKF_OS_LOCKING_OK;
	if (f->C_Initialize(&a) != CKR_OK)
		return 4;
	setup(argv[2]);
	nullPointers();
	oversized();
	mechanismParams();
	attributes();
	handles();
	order();
	twoCall();
	finalize();
	printf("done\n");
	return 0;
}
