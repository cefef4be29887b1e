/* shim.c — the hand-written C part of libcraton_hsm.so: library state for
 * the fork guard, C_Initialize/C_Finalize entry points, the function-list
 * and interface entry points, the legacy parallel-function stubs and the
 * info-struct fillers. No PKCS#11 logic: everything else is in Go (the
 * translation in exports.go, the semantics in the engine). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"
#include "_cgo_export.h"

pid_t craton_init_pid;        /* see shim.h */
static pid_t craton_load_pid; /* pid that loaded the library */

unsigned char *craton_fork_flag; /* see shim.h */

__attribute__((constructor)) static void craton_on_load(void)
{
	craton_load_pid = getpid();
#ifdef MADV_WIPEONFORK
	void *page = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page != MAP_FAILED) {
		if (madvise(page, (size_t)sysconf(_SC_PAGESIZE), MADV_WIPEONFORK) == 0)
			craton_fork_flag = page;
		else
			munmap(page, (size_t)sysconf(_SC_PAGESIZE));
	}
#endif
}

pid_t craton_loaded_pid(void) { return craton_load_pid; }

/* in_forked_child: the library (and with it the Go runtime) was loaded by
 * an ancestor of this process. Only the forking thread survives fork(), so
 * the Go runtime's other threads (GC workers, sysmon) are gone here; see
 * FORK-SAFETY.md. */
static int in_forked_child(void)
{
	return craton_load_pid != 0 && getpid() != craton_load_pid;
}

static CK_RV check_init_args(CK_VOID_PTR pInitArgs)
{
	CK_C_INITIALIZE_ARGS_PTR a = (CK_C_INITIALIZE_ARGS_PTR)pInitArgs;
	int n;
	if (a == NULL_PTR)
		return CKR_OK;
	if (a->pReserved != NULL_PTR)
		return CKR_ARGUMENTS_BAD;
	n = (a->CreateMutex != NULL_PTR) + (a->DestroyMutex != NULL_PTR) +
	    (a->LockMutex != NULL_PTR) + (a->UnlockMutex != NULL_PTR);
	if (n != 0 && n != 4)
		return CKR_ARGUMENTS_BAD; /* all four or none (v2.40 5.4) */
	/* Mutex callbacks with or without CKF_OS_LOCKING_OK: accepted; the
	 * library is internally thread-safe with its own (Go) locking and
	 * never calls the application's callbacks. */
	return CKR_OK;
}

CK_RV C_Initialize(CK_VOID_PTR pInitArgs)
{
	CK_RV rv = check_init_args(pInitArgs);
	pid_t me;
	int child;
	if (rv != CKR_OK)
		return rv;
	me = getpid();
	child = in_forked_child();
	if (child) {
		const char *allow = getenv("CRATON_HSM_ALLOW_CHILD_INIT");
		if (allow == NULL || strcmp(allow, "1") != 0) {
			fprintf(stderr,
				"libcraton_hsm: C_Initialize refused in a forked child (pid %ld; the "
				"library was loaded by pid %ld): the Go runtime inside the library does "
				"not survive fork(). Load the module after fork() (or fork+exec). See "
				"docs/fork-safety.md; CRATON_HSM_ALLOW_CHILD_INIT=1 overrides at the risk "
				"of a hang.\n",
				(long)me, (long)craton_load_pid);
			return CKR_GENERAL_ERROR;
		}
	} else if (__atomic_load_n(&craton_init_pid, __ATOMIC_ACQUIRE) == me) {
		return CKR_CRYPTOKI_ALREADY_INITIALIZED;
	}
	rv = goC_Initialize(child);
	if (rv == CKR_OK) {
		/* This process may now call in: mark it (a child forked from here
		 * on sees the page wiped). */
		if (craton_fork_flag != NULL)
			__atomic_store_n(craton_fork_flag, 1, __ATOMIC_RELEASE);
		__atomic_store_n(&craton_init_pid, me, __ATOMIC_RELEASE);
	}
	return rv;
}

CK_RV C_Finalize(CK_VOID_PTR pReserved)
{
	CK_RV rv;
	pid_t me;
	CRATON_GUARD();
	if (pReserved != NULL_PTR)
		return CKR_ARGUMENTS_BAD;
	me = getpid();
	/* Later calls from other threads see "not initialised" at once. */
	if (!__atomic_compare_exchange_n(&craton_init_pid, &me, 0, 0,
			__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	rv = goC_Finalize();
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_NOT_INITIALIZED)
		__atomic_store_n(&craton_init_pid, getpid(), __ATOMIC_RELEASE);
	return rv;
}

extern CK_FUNCTION_LIST craton_function_list_2_40;   /* zfuncs.c */
extern CK_FUNCTION_LIST_3_0 craton_function_list_3_0; /* zfuncs.c */
extern CK_FUNCTION_LIST_3_2 craton_function_list_3_2; /* zfuncs.c */

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)
{
	if (ppFunctionList == NULL_PTR)
		return CKR_ARGUMENTS_BAD;
	*ppFunctionList = &craton_function_list_2_40;
	return CKR_OK;
}

static CK_CHAR craton_interface_name[] = "PKCS 11";

/* The 3.0 list stays the default (first) interface, so that callers that
 * ask for no particular version keep the table they have always had; a 3.2
 * caller asks for {3, 2} and gets C_EncapsulateKey / C_DecapsulateKey (the
 * other 3.2 additions are CKR_FUNCTION_NOT_SUPPORTED stubs). */
#define CRATON_N_INTERFACES 3
static CK_INTERFACE craton_interfaces[CRATON_N_INTERFACES] = {
	{ craton_interface_name, &craton_function_list_3_0, 0 },
	{ craton_interface_name, &craton_function_list_3_2, 0 },
	{ craton_interface_name, &craton_function_list_2_40, 0 },
};

CK_RV C_GetInterfaceList(CK_INTERFACE_PTR pInterfacesList, CK_ULONG_PTR pulCount)
{
	CK_ULONG i;
	if (pulCount == NULL_PTR)
		return CKR_ARGUMENTS_BAD;
	if (pInterfacesList == NULL_PTR) {
		*pulCount = CRATON_N_INTERFACES;
		return CKR_OK;
	}
	if (*pulCount < CRATON_N_INTERFACES) {
		*pulCount = CRATON_N_INTERFACES;
		return CKR_BUFFER_TOO_SMALL;
	}
	for (i = 0; i < CRATON_N_INTERFACES; i++)
		pInterfacesList[i] = craton_interfaces[i];
	*pulCount = CRATON_N_INTERFACES;
	return CKR_OK;
}

static CK_VERSION interface_version(const CK_INTERFACE *it)
{
	return ((const CK_FUNCTION_LIST *)it->pFunctionList)->version;
}

CK_RV C_GetInterface(CK_UTF8CHAR_PTR pInterfaceName, CK_VERSION_PTR pVersion,
	CK_INTERFACE_PTR_PTR ppInterface, CK_FLAGS flags)
{
	int i;
	if (ppInterface == NULL_PTR)
		return CKR_ARGUMENTS_BAD;
	for (i = 0; i < CRATON_N_INTERFACES; i++) {
		CK_INTERFACE *it = &craton_interfaces[i];
		CK_VERSION v = interface_version(it);
		if (pInterfaceName != NULL_PTR &&
		    strcmp((const char *)pInterfaceName, (const char *)it->pInterfaceName) != 0)
			continue;
		if (pVersion != NULL_PTR && (pVersion->major != v.major || pVersion->minor != v.minor))
			continue;
		if ((flags & it->flags) != flags)
			continue; /* e.g. CKF_INTERFACE_FORK_SAFE: we are not */
		*ppInterface = it;
		return CKR_OK;
	}
	return CKR_ARGUMENTS_BAD;
}

CK_RV C_GetFunctionStatus(CK_SESSION_HANDLE hSession)
{
	CRATON_GUARD();
	(void)hSession;
	return CKR_FUNCTION_NOT_PARALLEL;
}

CK_RV C_CancelFunction(CK_SESSION_HANDLE hSession)
{
	CRATON_GUARD();
	(void)hSession;
	return CKR_FUNCTION_NOT_PARALLEL;
}

CK_RV C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR pSlot, CK_VOID_PTR pReserved)
{
	CRATON_GUARD();
	(void)pSlot;
	if (pReserved != NULL_PTR)
		return CKR_ARGUMENTS_BAD;
	/* Software slots never change: no event, ever. Blocking would wait
	 * forever, so it is not offered. */
	if (flags & CKF_DONT_BLOCK)
		return CKR_NO_EVENT;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

void craton_copy_from(void *dst, uint64_t src, size_t n)
{
	if (n > 0)
		memcpy(dst, (const void *)(uintptr_t)src, n);
}

static void pad(CK_UTF8CHAR *dst, size_t n, const char *src, size_t srcLen)
{
	if (srcLen > n)
		srcLen = n;
	if (srcLen > 0)
		memcpy(dst, src, srcLen);
	memset(dst + srcLen, ' ', n - srcLen);
}

void craton_fill_info(CK_INFO_PTR p, CK_BYTE cmaj, CK_BYTE cmin,
	const char *man, size_t manLen, CK_FLAGS flags,
	const char *desc, size_t descLen, CK_BYTE lmaj, CK_BYTE lmin)
{
	memset(p, 0, sizeof *p);
	p->cryptokiVersion.major = cmaj;
	p->cryptokiVersion.minor = cmin;
	pad(p->manufacturerID, sizeof p->manufacturerID, man, manLen);
	p->flags = flags;
	pad(p->libraryDescription, sizeof p->libraryDescription, desc, descLen);
	p->libraryVersion.major = lmaj;
	p->libraryVersion.minor = lmin;
}

void craton_fill_slot_info(CK_SLOT_INFO_PTR p, const char *desc, size_t descLen,
	const char *man, size_t manLen, CK_FLAGS flags,
	CK_BYTE hwmaj, CK_BYTE hwmin, CK_BYTE fwmaj, CK_BYTE fwmin)
{
	memset(p, 0, sizeof *p);
	pad(p->slotDescription, sizeof p->slotDescription, desc, descLen);
	pad(p->manufacturerID, sizeof p->manufacturerID, man, manLen);
	p->flags = flags;
	p->hardwareVersion.major = hwmaj;
	p->hardwareVersion.minor = hwmin;
	p->firmwareVersion.major = fwmaj;
	p->firmwareVersion.minor = fwmin;
}

void craton_fill_token_info(CK_TOKEN_INFO_PTR p,
	const char *label, size_t labelLen, const char *man, size_t manLen,
	const char *model, size_t modelLen, const char *serial, size_t serialLen,
	CK_FLAGS flags, const CK_ULONG *c,
	CK_BYTE hwmaj, CK_BYTE hwmin, CK_BYTE fwmaj, CK_BYTE fwmin,
	const char *utc, size_t utcLen)
{
	memset(p, 0, sizeof *p);
	pad(p->label, sizeof p->label, label, labelLen);
	pad(p->manufacturerID, sizeof p->manufacturerID, man, manLen);
	pad(p->model, sizeof p->model, model, modelLen);
	pad(p->serialNumber, sizeof p->serialNumber, serial, serialLen);
	p->flags = flags;
	p->ulMaxSessionCount = c[0];
	p->ulSessionCount = c[1];
	p->ulMaxRwSessionCount = c[2];
	p->ulRwSessionCount = c[3];
	p->ulMaxPinLen = c[4];
	p->ulMinPinLen = c[5];
	p->ulTotalPublicMemory = c[6];
	p->ulFreePublicMemory = c[7];
	p->ulTotalPrivateMemory = c[8];
	p->ulFreePrivateMemory = c[9];
	p->hardwareVersion.major = hwmaj;
	p->hardwareVersion.minor = hwmin;
	p->firmwareVersion.major = fwmaj;
	p->firmwareVersion.minor = fwmin;
	/* utcTime is CK_CHAR[16]; pad with spaces (or zeros per spec when the
	 * token has no clock: flags lack CKF_CLOCK_ON_TOKEN and the field is
	 * ignored by callers). */
	pad((CK_UTF8CHAR *)p->utcTime, sizeof p->utcTime, utc, utcLen);
}

void craton_fill_session_info(CK_SESSION_INFO_PTR p, CK_SLOT_ID slot,
	CK_STATE state, CK_FLAGS flags, CK_ULONG devErr)
{
	memset(p, 0, sizeof *p);
	p->slotID = slot;
	p->state = state;
	p->flags = flags;
	p->ulDeviceError = devErr;
}

void craton_fill_mechanism_info(CK_MECHANISM_INFO_PTR p, CK_ULONG min,
	CK_ULONG max, CK_FLAGS flags)
{
	p->ulMinKeySize = min;
	p->ulMaxKeySize = max;
	p->flags = flags;
}

/* craton_self_path returns the path this library was loaded from (for the
 * integrity self-test, which checks it against "<path>.sha256"), or NULL. */
const char *craton_self_path(void)
{
	Dl_info info;
	if (dladdr((void *)&C_GetFunctionList, &info) == 0 || info.dli_fname == NULL)
		return NULL;
	return info.dli_fname;
}
