/* shim.h — declarations shared by the Go files' cgo preambles and the C
 * files of the capi package. Declarations only (cgo copies a Go file's
 * preamble into _cgo_export.c too, so a definition here would be duplicated:
 * facts §15.2 pitfall 2). Guarded (pitfall 1). */
#ifndef CRATON_SHIM_H
#define CRATON_SHIM_H 1

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <unistd.h>
#include "include/craton_pkcs11.h"

/* Process id that completed C_Initialize; 0 while not initialised. Read
 * with CRATON_GUARD before any call enters Go. */
extern pid_t craton_init_pid;

/* CRATON_GUARD is the first statement of every exported PKCS#11 function
 * except C_GetFunctionList, C_GetInterfaceList and C_GetInterface: in a
 * process that has not initialised the library — including a child forked
 * after C_Initialize, whose pid differs — it returns
 * CKR_CRYPTOKI_NOT_INITIALIZED without entering the Go runtime. */
#define CRATON_GUARD() do { \
		pid_t craton_p_ = __atomic_load_n(&craton_init_pid, __ATOMIC_ACQUIRE); \
		if (craton_p_ == 0 || (craton_fork_flag != NULL ? \
				__atomic_load_n(craton_fork_flag, __ATOMIC_ACQUIRE) == 0 : \
				craton_p_ != getpid())) \
			return CKR_CRYPTOKI_NOT_INITIALIZED; \
	} while (0)

/* craton_fork_flag points into a page marked MADV_WIPEONFORK: it reads 1
 * in the process that initialised the library and 0 in any child forked
 * after that, so the guard needs no getpid() system call per PKCS#11 call
 * (measured at ~0.3 us each). NULL where the kernel lacks MADV_WIPEONFORK
 * (Linux < 4.14): the guard then compares pids. */
extern unsigned char *craton_fork_flag;

/* Memory access for the Go side: copies from or to a C address held as an
 * integer (so Go never converts an integer to a pointer). */
void craton_copy_from(void *dst, uint64_t src, size_t n);

/* Fillers for the info structs (done in C so that packing, should a
 * platform need it, is the compiler's business: pitfall 5). Strings are
 * space padded, never NUL terminated. */
void craton_fill_info(CK_INFO_PTR p, CK_BYTE cmaj, CK_BYTE cmin,
	const char *man, size_t manLen, CK_FLAGS flags,
	const char *desc, size_t descLen, CK_BYTE lmaj, CK_BYTE lmin);
void craton_fill_slot_info(CK_SLOT_INFO_PTR p, const char *desc, size_t descLen,
	const char *man, size_t manLen, CK_FLAGS flags,
	CK_BYTE hwmaj, CK_BYTE hwmin, CK_BYTE fwmaj, CK_BYTE fwmin);
void craton_fill_token_info(CK_TOKEN_INFO_PTR p,
	const char *label, size_t labelLen, const char *man, size_t manLen,
	const char *model, size_t modelLen, const char *serial, size_t serialLen,
	CK_FLAGS flags, const CK_ULONG *counts /* 10: maxSess, sess, maxRW, rw,
	maxPin, minPin, totPub, freePub, totPriv, freePriv */,
	CK_BYTE hwmaj, CK_BYTE hwmin, CK_BYTE fwmaj, CK_BYTE fwmin,
	const char *utc, size_t utcLen);
void craton_fill_session_info(CK_SESSION_INFO_PTR p, CK_SLOT_ID slot,
	CK_STATE state, CK_FLAGS flags, CK_ULONG devErr);
void craton_fill_mechanism_info(CK_MECHANISM_INFO_PTR p, CK_ULONG min,
	CK_ULONG max, CK_FLAGS flags);

/* The process environment as C sees it now (setenv after start included;
 * the Go runtime's copy is the one from load time). */
extern char **environ;

/* Path of this library (dladdr), for the integrity self-test; NULL if unknown. */
const char *craton_self_path(void);

/* Test hook: the pid recorded when the library was loaded. */
pid_t craton_loaded_pid(void);

#endif /* CRATON_SHIM_H */
