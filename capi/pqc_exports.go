package main

/*
#include "shim.h"
*/
import "C"

import (
	"unsafe"

	"github.com/miekg/pkcs11"
)

// PKCS#11 3.2 KEM functions, reachable through the "PKCS 11" interface of
// version 3.2 (C_GetInterface, CK_FUNCTION_LIST_3_2). See docs/pqc.md for
// the C_DeriveKey routes PKCS#11 3.0 callers use instead.

// kemer is what a backend needs for C_EncapsulateKey / C_DecapsulateKey
// (*hsm.Ctx has it; miekg's *pkcs11.Ctx does not).
type kemer interface {
	EncapsulatedLen(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, pub pkcs11.ObjectHandle) (int, error)
	EncapsulateKey(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, pub pkcs11.ObjectHandle, a []*pkcs11.Attribute) ([]byte, pkcs11.ObjectHandle, error)
	DecapsulateKey(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, priv pkcs11.ObjectHandle, a []*pkcs11.Attribute, ct []byte) (pkcs11.ObjectHandle, error)
}

// goC_EncapsulateKey follows the 3.2 output convention: with pCiphertext
// NULL it only reports the ciphertext length, with a buffer too small it
// reports the length and returns CKR_BUFFER_TOO_SMALL; in both cases no
// key is created. Otherwise the key is created and the ciphertext written.
//
//export goC_EncapsulateKey
func goC_EncapsulateKey(hSession C.CK_SESSION_HANDLE, pMechanism C.CK_MECHANISM_PTR, hPublicKey C.CK_OBJECT_HANDLE, pTemplate C.CK_ATTRIBUTE_PTR, ulAttributeCount C.CK_ULONG, pCiphertext C.CK_BYTE_PTR, pulCiphertextLen C.CK_ULONG_PTR, phKey C.CK_OBJECT_HANDLE_PTR) C.CK_RV {
	return call(func(be backend) uint {
		k, ok := be.(kemer)
		if !ok {
			return C.CKR_FUNCTION_NOT_SUPPORTED
		}
		if pulCiphertextLen == nil || pCiphertext != nil && phKey == nil {
			return C.CKR_ARGUMENTS_BAD
		}
		m, rv := mechanism(pMechanism)
		if rv != C.CKR_OK {
			return rv
		}
		t, rv := template(pTemplate, ulAttributeCount)
		if rv != C.CKR_OK {
			return rv
		}
		sh := sess(hSession)
		n, err := k.EncapsulatedLen(sh, m, obj(hPublicKey))
		if err != nil {
			return rvOf(err)
		}
		if pCiphertext == nil || uint64(*pulCiphertextLen) < uint64(n) {
			short := pCiphertext != nil
			*pulCiphertextLen = C.CK_ULONG(n)
			if short {
				return C.CKR_BUFFER_TOO_SMALL
			}
			return C.CKR_OK
		}
		ct, h, err := k.EncapsulateKey(sh, m, obj(hPublicKey), t)
		if err != nil {
			return rvOf(err)
		}
		copy(unsafe.Slice((*byte)(unsafe.Pointer(pCiphertext)), len(ct)), ct)
		*pulCiphertextLen = C.CK_ULONG(len(ct))
		setHandle((*C.CK_ULONG)(phKey), uint(h))
		return C.CKR_OK
	})
}

//export goC_DecapsulateKey
func goC_DecapsulateKey(hSession C.CK_SESSION_HANDLE, pMechanism C.CK_MECHANISM_PTR, hPrivateKey C.CK_OBJECT_HANDLE, pTemplate C.CK_ATTRIBUTE_PTR, ulAttributeCount C.CK_ULONG, pCiphertext C.CK_BYTE_PTR, ulCiphertextLen C.CK_ULONG, phKey C.CK_OBJECT_HANDLE_PTR) C.CK_RV {
	return call(func(be backend) uint {
		k, ok := be.(kemer)
		if !ok {
			return C.CKR_FUNCTION_NOT_SUPPORTED
		}
		if phKey == nil {
			return C.CKR_ARGUMENTS_BAD
		}
		m, rv := mechanism(pMechanism)
		if rv != C.CKR_OK {
			return rv
		}
		t, rv := template(pTemplate, ulAttributeCount)
		if rv != C.CKR_OK {
			return rv
		}
		ct, rv := data(pCiphertext, ulCiphertextLen)
		if rv != C.CKR_OK {
			return rv
		}
		h, err := k.DecapsulateKey(sess(hSession), m, obj(hPrivateKey), t, ct)
		if err != nil {
			return rvOf(err)
		}
		setHandle((*C.CK_ULONG)(phKey), uint(h))
		return C.CKR_OK
	})
}
