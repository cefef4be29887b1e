// Package mech is the cryptographic backend of Craton's embedded PKCS#11
// engine. It performs mechanisms on already-parsed key material (Key) and
// knows nothing about sessions, objects, stores or attribute policy; the
// engine in package hsm owns those and calls in here. Errors are
// pkcs11.Error values carrying the CK_RV the engine should return.
//
// # Mechanism parameters
//
// Every entry point takes the *pkcs11.Mechanism the engine received. Its
// parameter can arrive in three forms, all accepted:
//
//  1. From an in-process Go caller using miekg/pkcs11's constructors:
//     pkcs11.NewMechanism(t, pkcs11.NewGCMParams(...)), NewOAEPParams and
//     NewECDH1DeriveParams leave Mechanism.Parameter nil and keep the object
//     in an unexported field, serialising it to C memory only inside
//     miekg's own C calls. This package reads that object (read-only)
//     through a type switch, at field offsets found by reflection once at
//     start-up (miekgLayout). The C-ABI shim (capi) hands its decoded
//     CK_GCM_PARAMS, CK_RSA_PKCS_OAEP_PARAMS and CK_ECDH1_DERIVE_PARAMS
//     over in this form too. pkcs11.NewPSSParams, by contrast, returns the flat C
//     struct bytes, which land in Parameter.
//  2. As C struct bytes in Parameter, which is what a C-ABI shim gets when it
//     copies pParameter/ulParameterLen: CK_GCM_PARAMS (48 bytes, or 40
//     without ulIvBits), CK_RSA_PKCS_OAEP_PARAMS (40) and
//     CK_ECDH1_DERIVE_PARAMS (40) hold pointers into the caller's memory;
//     they are followed (ParseGCMParams, ParseOAEPParams,
//     ParseECDH1Params) and copied during the Init/Wrap/Derive call, so the
//     shim must call while the caller's C_*Init is in progress, which is
//     the PKCS#11 contract anyway. Layouts assume a CK_ULONG as wide as a
//     pointer (Linux, macOS; not Windows' packed 32-bit CK_ULONG). The
//     pointers are followed in C (cgo, which miekg/pkcs11 requires anyway),
//     NULL is refused when the length is not 0. Flat structures (CK_RSA_PKCS_PSS_PARAMS 24 bytes,
//     CK_AES_CTR_PARAMS 24, CK_MAC_GENERAL_PARAMS 8, IVs) are read directly.
//  3. Decoded Go values (GCMParams, OAEPParams, PSSParams, CTRParams,
//     ECDH1Params) wrapped by NewMechanism into form 1 or 2.
//
// CKM_AES_GCM with no parameter at all is Craton's mode: the nonce comes
// from the NonceSource, encryption returns nonce(12) || ct || tag(16) and
// decryption reads the nonce from the front. With a CK_GCM_PARAMS the
// output is ct || tag as in the specification. CKM_ECDH1_DERIVE also
// accepts Craton's legacy parameter, the bare peer point (kdf CKD_NULL).
//
// # Semantics
//
// PKCS#11 is followed where Craton's Rust engine deviates: ECDSA signatures
// are raw r || s and CKM_ECDSA does not re-hash; ECDH with CKD_NULL gives
// both parties the same key; CKM_AES_KEY_WRAP_PAD and CKM_AES_KEY_WRAP_KWP
// are real RFC 5649; Unwrap builds the class and key type asked for. RSA
// private-key operations go through a replaceable Backend (SetBackend).
package mech
