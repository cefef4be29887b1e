package interop

import (
	"testing"
	"time"
)

// abiHarness checks the C ABI directly where client tools and miekg/pkcs11
// hide the details: C_Initialize arguments, NULL pointers, the interface
// API, typed stubs, C_GetAttributeValue per-attribute semantics and the
// two-call length idiom of C_Sign (the operation stays active after a size
// query and after CKR_BUFFER_TOO_SMALL, and ends with the successful call).
const abiHarness = `
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "craton_pkcs11.h"

static int fails;
#define EXPECT(call, want) do { CK_RV rv_ = (call); if (rv_ != (CK_RV)(want)) { \
	fprintf(stderr, "line %d: %s = 0x%lx, want 0x%lx\n", __LINE__, #call, rv_, (CK_RV)(want)); fails++; } } while (0)
#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "line %d: %s\n", __LINE__, #cond); fails++; } } while (0)

static CK_RV dummy_create(CK_VOID_PTR_PTR m) { (void)m; return CKR_OK; }
static CK_RV dummy_mutex(CK_VOID_PTR m) { (void)m; return CKR_OK; }

int main(int argc, char **argv) {
	void *h = dlopen(argv[1], RTLD_NOW);
	const char *so = argv[2], *user = argv[3];
	CK_C_GetFunctionList gfl;
	CK_C_GetInterfaceList gil;
	CK_C_GetInterface gi;
	CK_FUNCTION_LIST_PTR f;
	CK_FUNCTION_LIST_3_0_PTR f3;
	CK_INTERFACE ifs[4];
	CK_INTERFACE_PTR ip;
	CK_ULONG n, i;
	CK_C_INITIALIZE_ARGS args;
	CK_INFO info;
	CK_SESSION_HANDLE s;
	CK_VERSION v30 = {3, 0}, v99 = {9, 9};
	if (!h) { fprintf(stderr, "%s\n", dlerror()); return 2; }
	gfl = (CK_C_GetFunctionList)dlsym(h, "C_GetFunctionList");
	gil = (CK_C_GetInterfaceList)dlsym(h, "C_GetInterfaceList");
	gi = (CK_C_GetInterface)dlsym(h, "C_GetInterface");
	CHECK(gfl && gil && gi);
	EXPECT(gfl(NULL), CKR_ARGUMENTS_BAD);
	EXPECT(gfl(&f), CKR_OK);
	CHECK(f->version.major == 2 && f->version.minor == 40);
	{ /* every entry of both tables is set */
		void **p = (void **)&f->C_Initialize;
		for (i = 0; i < 68; i++) CHECK(p[i] != NULL);
	}
	EXPECT(gil(NULL, NULL), CKR_ARGUMENTS_BAD);
	EXPECT(gil(NULL, &n), CKR_OK);
	CHECK(n == 3);
	n = 1;
	EXPECT(gil(ifs, &n), CKR_BUFFER_TOO_SMALL);
	CHECK(n == 3);
	n = 4;
	EXPECT(gil(ifs, &n), CKR_OK);
	CHECK(strcmp((char *)ifs[0].pInterfaceName, "PKCS 11") == 0);
	EXPECT(gi(NULL, NULL, &ip, 0), CKR_OK);
	f3 = (CK_FUNCTION_LIST_3_0_PTR)ip->pFunctionList;
	CHECK(f3->version.major == 3 && f3->version.minor == 0);
	{
		void **p = (void **)&f3->C_Initialize;
		for (i = 0; i < 92; i++) CHECK(p[i] != NULL);
	}
	EXPECT(gi((CK_UTF8CHAR_PTR)"PKCS 11", &v30, &ip, 0), CKR_OK);
	EXPECT(gi((CK_UTF8CHAR_PTR)"PKCS 11", &v99, &ip, 0), CKR_ARGUMENTS_BAD);
	EXPECT(gi((CK_UTF8CHAR_PTR)"Vendor X", NULL, &ip, 0), CKR_ARGUMENTS_BAD);
	EXPECT(gi(NULL, NULL, &ip, CKF_INTERFACE_FORK_SAFE), CKR_ARGUMENTS_BAD);
	EXPECT(gi(NULL, NULL, NULL, 0), CKR_ARGUMENTS_BAD);

	/* before C_Initialize */
	EXPECT(f->C_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED);
	EXPECT(f->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
	EXPECT(f3->C_MessageEncryptInit(1, NULL, 1), CKR_CRYPTOKI_NOT_INITIALIZED);

	/* C_Initialize arguments */
	memset(&args, 0, sizeof args);
	args.pReserved = &args;
	EXPECT(f->C_Initialize(&args), CKR_ARGUMENTS_BAD);
	memset(&args, 0, sizeof args);
	args.CreateMutex = dummy_create;
	EXPECT(f->C_Initialize(&args), CKR_ARGUMENTS_BAD);
	args.DestroyMutex = dummy_mutex; args.LockMutex = dummy_mutex; args.UnlockMutex = dummy_mutex;
	EXPECT(f->C_Initialize(&args), CKR_OK); /* callbacks without CKF_OS_LOCKING_OK: own locking */
	EXPECT(f->C_Initialize(NULL), CKR_CRYPTOKI_ALREADY_INITIALIZED);
	EXPECT(f->C_Finalize(&args), CKR_ARGUMENTS_BAD);
	EXPECT(f->C_Finalize(NULL), CKR_OK);
	args.flags = CKF_OS_LOCKING_OK;
	EXPECT(f->C_Initialize(&args), CKR_OK);

	/* info, NULL pointers */
	EXPECT(f->C_GetInfo(NULL), CKR_ARGUMENTS_BAD);
	EXPECT(f->C_GetInfo(&info), CKR_OK);
	CHECK(info.cryptokiVersion.major == 3 && info.cryptokiVersion.minor == 0);
	CHECK(memcmp(info.manufacturerID, "Craton HSM Project              ", 32) == 0);
	CHECK(memcmp(info.libraryDescription, "Craton HSM Software HSM         ", 32) == 0);
	EXPECT(f->C_GetSlotList(CK_FALSE, NULL, NULL), CKR_ARGUMENTS_BAD);
	{
		CK_SLOT_ID slots[1];
		n = 0;
		EXPECT(f->C_GetSlotList(CK_FALSE, slots, &n), CKR_BUFFER_TOO_SMALL);
		CHECK(n == 1);
		EXPECT(f->C_GetSlotList(CK_FALSE, slots, &n), CKR_OK);
	}
	EXPECT(f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, NULL), CKR_ARGUMENTS_BAD);
	EXPECT(f->C_SignRecoverInit(1, NULL, 1), CKR_FUNCTION_NOT_SUPPORTED);
	EXPECT(f->C_GetFunctionStatus(1), CKR_FUNCTION_NOT_PARALLEL);
	EXPECT(f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &n, NULL), CKR_NO_EVENT);
	EXPECT(f3->C_MessageEncryptInit(1, NULL, 1), CKR_FUNCTION_NOT_SUPPORTED);

	EXPECT(f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s), CKR_OK);
	EXPECT(f3->C_LoginUser(s, CKU_USER, (CK_UTF8CHAR_PTR)user, strlen(user), NULL, 0), CKR_OK);
	(void)so;
	{
		/* a sensitive generic secret (HMAC) key and a readable label */
		CK_MECHANISM gen = {CKM_GENERIC_SECRET_KEY_GEN, NULL, 0};
		CK_ULONG len = 32;
		CK_BBOOL yes = CK_TRUE;
		CK_OBJECT_HANDLE k;
		CK_ATTRIBUTE t[] = {{CKA_VALUE_LEN, &len, sizeof len}, {CKA_SENSITIVE, &yes, 1},
			{CKA_SIGN, &yes, 1}, {CKA_LABEL, "abi-key", 7}};
		CK_BYTE label[16], small[2];
		CK_ULONG cls = 0;
		CK_ATTRIBUTE q[4];
		EXPECT(f->C_GenerateKey(s, &gen, t, 4, &k), CKR_OK);
		q[0].type = CKA_LABEL; q[0].pValue = NULL; q[0].ulValueLen = 0;
		q[1].type = CKA_VALUE; q[1].pValue = NULL; q[1].ulValueLen = 0;
		q[2].type = 0x7ffffff0UL; q[2].pValue = NULL; q[2].ulValueLen = 0;
		q[3].type = CKA_CLASS; q[3].pValue = &cls; q[3].ulValueLen = sizeof cls;
		EXPECT(f->C_GetAttributeValue(s, k, q, 4), CKR_ATTRIBUTE_SENSITIVE);
		CHECK(q[0].ulValueLen == 7);
		CHECK(q[1].ulValueLen == CK_UNAVAILABLE_INFORMATION);
		CHECK(q[2].ulValueLen == CK_UNAVAILABLE_INFORMATION);
		CHECK(q[3].ulValueLen == sizeof cls && cls == CKO_SECRET_KEY);
		q[0].pValue = label; q[0].ulValueLen = sizeof label;
		EXPECT(f->C_GetAttributeValue(s, k, q, 1), CKR_OK);
		CHECK(q[0].ulValueLen == 7 && memcmp(label, "abi-key", 7) == 0);
		q[0].pValue = small; q[0].ulValueLen = sizeof small;
		EXPECT(f->C_GetAttributeValue(s, k, q, 1), CKR_BUFFER_TOO_SMALL);
		CHECK(q[0].ulValueLen == CK_UNAVAILABLE_INFORMATION);
		EXPECT(f->C_GetAttributeValue(s, k, &q[2], 1), CKR_ATTRIBUTE_TYPE_INVALID);
		EXPECT(f->C_GetAttributeValue(s, k, NULL, 1), CKR_ARGUMENTS_BAD);

		/* two-call idiom on C_Sign (HMAC) */
		{
			CK_MECHANISM hm = {CKM_SHA256_HMAC, NULL, 0};
			CK_BYTE data[5] = "hello", sig[64], sig2[64];
			CK_ULONG sl = 0;
			EXPECT(f->C_SignInit(s, &hm, k), CKR_OK);
			EXPECT(f->C_Sign(s, data, 5, NULL, &sl), CKR_OK);
			CHECK(sl == 32);
			sl = 8;
			EXPECT(f->C_Sign(s, data, 5, sig, &sl), CKR_BUFFER_TOO_SMALL);
			CHECK(sl == 32);
			sl = sizeof sig;
			EXPECT(f->C_Sign(s, data, 5, sig, &sl), CKR_OK);
			CHECK(sl == 32);
			EXPECT(f->C_Sign(s, data, 5, sig, &sl), CKR_OPERATION_NOT_INITIALIZED);
			/* the same MAC again, in one call */
			EXPECT(f->C_SignInit(s, &hm, k), CKR_OK);
			sl = sizeof sig2;
			EXPECT(f->C_Sign(s, data, 5, sig2, &sl), CKR_OK);
			CHECK(sl == 32 && memcmp(sig, sig2, 32) == 0);
			/* a size query, then a new SignInit: the kept output is dropped */
			EXPECT(f->C_SignInit(s, &hm, k), CKR_OK);
			EXPECT(f->C_Sign(s, data, 5, NULL, &sl), CKR_OK);
			EXPECT(f->C_SignInit(s, &hm, k), CKR_OK);
			sl = sizeof sig2;
			EXPECT(f->C_Sign(s, (CK_BYTE_PTR)"other", 5, sig2, &sl), CKR_OK);
			CHECK(memcmp(sig, sig2, 32) != 0);
			EXPECT(f->C_Sign(s, NULL, 5, sig, &sl), CKR_ARGUMENTS_BAD);
		}
		{
			/* random: NULL buffer with a length */
			EXPECT(f->C_GenerateRandom(s, NULL, 4), CKR_ARGUMENTS_BAD);
			EXPECT(f->C_GenerateRandom(s, small, 2), CKR_OK);
		}
		{
			/* template validation */
			CK_ATTRIBUTE bad[] = {{CKA_LABEL, NULL, 5}};
			CK_OBJECT_HANDLE o;
			EXPECT(f->C_CreateObject(s, bad, 1, &o), CKR_ARGUMENTS_BAD);
			EXPECT(f->C_CreateObject(s, NULL, 3, &o), CKR_ARGUMENTS_BAD);
			EXPECT(f->C_FindObjectsInit(s, NULL, 1000), CKR_ARGUMENTS_BAD);
		}
	}
	EXPECT(f->C_CloseSession(s), CKR_OK);
	EXPECT(f->C_Finalize(NULL), CKR_OK);
	if (fails) return 1;
	printf("abi ok\n");
	return 0;
}
`

func TestABIConformance(t *testing.T) {
	bin := compileC(t, "abi", abiHarness)
	s := newToken(t)
	out, err := s.run(2*time.Minute, nil, bin, libPath, soPIN, userPIN)
	if err != nil {
		t.Fatalf("abi harness: %v\n%s", err, out)
	}
	mustContain(t, out, "abi ok")
}
