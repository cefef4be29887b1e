/* craton_pkcs11.h — the one header the capi package includes.
 *
 * Guarded (cgo repeats a file's preamble in _cgo_export.h, so an unguarded
 * include would redefine every struct: facts §15.2 pitfall 1). Defines the
 * five platform macros pkcs11.h wants, then includes the OASIS headers
 * (v2.40 from miekg/pkcs11 plus the v3.0 interface additions). */
#ifndef CRATON_PKCS11_H
#define CRATON_PKCS11_H 1

#define CK_PTR *
#define CK_DEFINE_FUNCTION(returnType, name) returnType name
#define CK_DECLARE_FUNCTION(returnType, name) returnType name
#define CK_DECLARE_FUNCTION_POINTER(returnType, name) returnType (* name)
#define CK_CALLBACK_FUNCTION(returnType, name) returnType (* name)
#ifndef NULL_PTR
#define NULL_PTR 0
#endif

#if defined(_WIN32)
# pragma pack(push, cryptoki, 1)
# include "pkcs11.h"
# pragma pack(pop, cryptoki)
#else
# include "pkcs11.h"
#endif

#include <stddef.h>

#endif /* CRATON_PKCS11_H */
