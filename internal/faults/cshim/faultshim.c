/* faultshim.c — a PKCS#11 library for reliability tests: it loads a real
 * module (FAULTSHIM_MODULE, default SoftHSMv2), forwards every call to it,
 * and fails the calls named in FAULTSHIM_FAIL.
 *
 *   FAULTSHIM_FAIL="C_GetAttributeValue:5:0x30,C_Initialize:0:0x6"
 *
 * Each rule is FUNCTION:AFTER:CK_RV — let AFTER calls of FUNCTION through,
 * then fail every later one with CK_RV (hex or decimal). Only the functions
 * listed in WRAPPED below can fail; every other entry of the function list
 * is the real module's own pointer. FAULTSHIM_TRACE=1 prints each injected
 * failure on stderr.
 *
 * Built by internal/faults.BuildCShim with gcc -shared -fPIC; test support
 * only, never installed. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "craton_pkcs11.h"

#define MAX_RULES 16

struct rule {
	char func[64];
	unsigned long after;
	CK_RV rv;
	unsigned long calls;
};

static struct rule rules[MAX_RULES];
static int nrules = -1;
static int trace;
static CK_FUNCTION_LIST_PTR real;
static CK_FUNCTION_LIST shim;
static void *handle;

static void parse_rules(void) {
	const char *env = getenv("FAULTSHIM_FAIL");
	nrules = 0;
	trace = getenv("FAULTSHIM_TRACE") != NULL;
	if (env == NULL)
		return;
	char *copy = strdup(env), *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok != NULL && nrules < MAX_RULES; tok = strtok_r(NULL, ",", &save)) {
		char *c1 = strchr(tok, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c1 == NULL || c2 == NULL || (size_t)(c1 - tok) >= sizeof rules[0].func)
			continue;
		struct rule *r = &rules[nrules++];
		memset(r, 0, sizeof *r);
		memcpy(r->func, tok, (size_t)(c1 - tok));
		r->after = strtoul(c1 + 1, NULL, 0);
		r->rv = (CK_RV)strtoul(c2 + 1, NULL, 0);
	}
	free(copy);
}

/* fault reports whether this call of func must fail, and with what. */
static int fault(const char *func, CK_RV *rv) {
	for (int i = 0; i < nrules; i++) {
		if (strcmp(rules[i].func, func) != 0)
			continue;
		unsigned long n = __atomic_add_fetch(&rules[i].calls, 1, __ATOMIC_SEQ_CST);
		if (n > rules[i].after) {
			*rv = rules[i].rv;
			if (trace)
				fprintf(stderr, "faultshim: %s call %lu fails with 0x%lx\n", func, n, (unsigned long)*rv);
			return 1;
		}
	}
	return 0;
}

#define WRAP(name, params, args) \
	static CK_RV w_##name params { \
		CK_RV rv_; \
		if (fault(#name, &rv_)) \
			return rv_; \
		return real->name args; \
	}

WRAP(C_Initialize, (CK_VOID_PTR a), (a))
WRAP(C_GetInfo, (CK_INFO_PTR a), (a))
WRAP(C_GetSlotList, (CK_BBOOL a, CK_SLOT_ID_PTR b, CK_ULONG_PTR c), (a, b, c))
WRAP(C_GetTokenInfo, (CK_SLOT_ID a, CK_TOKEN_INFO_PTR b), (a, b))
WRAP(C_GetMechanismList, (CK_SLOT_ID a, CK_MECHANISM_TYPE_PTR b, CK_ULONG_PTR c), (a, b, c))
WRAP(C_GetMechanismInfo, (CK_SLOT_ID a, CK_MECHANISM_TYPE b, CK_MECHANISM_INFO_PTR c), (a, b, c))
WRAP(C_OpenSession, (CK_SLOT_ID a, CK_FLAGS b, CK_VOID_PTR c, CK_NOTIFY d, CK_SESSION_HANDLE_PTR e), (a, b, c, d, e))
WRAP(C_Login, (CK_SESSION_HANDLE a, CK_USER_TYPE b, CK_UTF8CHAR_PTR c, CK_ULONG d), (a, b, c, d))
WRAP(C_FindObjectsInit, (CK_SESSION_HANDLE a, CK_ATTRIBUTE_PTR b, CK_ULONG c), (a, b, c))
WRAP(C_FindObjects, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE_PTR b, CK_ULONG c, CK_ULONG_PTR d), (a, b, c, d))
WRAP(C_GetAttributeValue, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, CK_ATTRIBUTE_PTR c, CK_ULONG d), (a, b, c, d))
WRAP(C_CreateObject, (CK_SESSION_HANDLE a, CK_ATTRIBUTE_PTR b, CK_ULONG c, CK_OBJECT_HANDLE_PTR d), (a, b, c, d))
WRAP(C_DestroyObject, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b), (a, b))
WRAP(C_WrapKey, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c, CK_OBJECT_HANDLE d, CK_BYTE_PTR e, CK_ULONG_PTR f), (a, b, c, d, e, f))
WRAP(C_UnwrapKey, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c, CK_BYTE_PTR d, CK_ULONG e, CK_ATTRIBUTE_PTR f, CK_ULONG g, CK_OBJECT_HANDLE_PTR h), (a, b, c, d, e, f, g, h))
WRAP(C_DeriveKey, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c, CK_ATTRIBUTE_PTR d, CK_ULONG e, CK_OBJECT_HANDLE_PTR f), (a, b, c, d, e, f))
WRAP(C_GenerateKeyPair, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_ATTRIBUTE_PTR c, CK_ULONG d, CK_ATTRIBUTE_PTR e, CK_ULONG f, CK_OBJECT_HANDLE_PTR g, CK_OBJECT_HANDLE_PTR h), (a, b, c, d, e, f, g, h))
WRAP(C_SignInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c), (a, b, c))
WRAP(C_Sign, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e), (a, b, c, d, e))
WRAP(C_EncryptInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c), (a, b, c))
WRAP(C_Encrypt, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e), (a, b, c, d, e))

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list) {
	if (list == NULL)
		return CKR_ARGUMENTS_BAD;
	if (real == NULL) {
		const char *path = getenv("FAULTSHIM_MODULE");
		if (path == NULL)
			path = "/usr/lib/softhsm/libsofthsm2.so";
		handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (handle == NULL) {
			fprintf(stderr, "faultshim: %s\n", dlerror());
			return CKR_GENERAL_ERROR;
		}
		CK_C_GetFunctionList gfl = (CK_C_GetFunctionList)dlsym(handle, "C_GetFunctionList");
		if (gfl == NULL || gfl(&real) != CKR_OK || real == NULL)
			return CKR_GENERAL_ERROR;
		parse_rules();
		shim = *real;
		shim.C_Initialize = w_C_Initialize;
		shim.C_GetInfo = w_C_GetInfo;
		shim.C_GetSlotList = w_C_GetSlotList;
		shim.C_GetTokenInfo = w_C_GetTokenInfo;
		shim.C_GetMechanismList = w_C_GetMechanismList;
		shim.C_GetMechanismInfo = w_C_GetMechanismInfo;
		shim.C_OpenSession = w_C_OpenSession;
		shim.C_Login = w_C_Login;
		shim.C_FindObjectsInit = w_C_FindObjectsInit;
		shim.C_FindObjects = w_C_FindObjects;
		shim.C_GetAttributeValue = w_C_GetAttributeValue;
		shim.C_CreateObject = w_C_CreateObject;
		shim.C_DestroyObject = w_C_DestroyObject;
		shim.C_WrapKey = w_C_WrapKey;
		shim.C_UnwrapKey = w_C_UnwrapKey;
		shim.C_DeriveKey = w_C_DeriveKey;
		shim.C_GenerateKeyPair = w_C_GenerateKeyPair;
		shim.C_SignInit = w_C_SignInit;
		shim.C_Sign = w_C_Sign;
		shim.C_EncryptInit = w_C_EncryptInit;
		shim.C_Encrypt = w_C_Encrypt;
	}
	*list = &shim;
	return CKR_OK;
}
