package main

/*
#cgo CFLAGS: -Werror=incompatible-pointer-types -Werror=implicit-function-declaration -Werror=int-conversion
#include "shim.h"
*/
import "C"

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime/debug"
	"unsafe"

	"github.com/miekg/pkcs11"
)

// The goC_* functions are the Go halves of the PKCS#11 entry points; the C
// halves (zfuncs.c, shim.c) hold the canonical names and run the fork /
// initialisation guard first. Each translates the C arguments to the
// engine's Go API and the results back, and nothing else.

// call runs f with the backend under the library read lock, turning a
// panic into CKR_GENERAL_ERROR.
func call(f func(be backend) uint) (rv C.CK_RV) {
	defer func() {
		if r := recover(); r != nil {
			reportOnce(fmt.Sprintf("libcraton_hsm: internal error: %v\n%s", r, debug.Stack()))
			rv = C.CKR_GENERAL_ERROR
		}
	}()
	be := current()
	defer lib.mu.RUnlock()
	if be == nil {
		return C.CKR_CRYPTOKI_NOT_INITIALIZED
	}
	return C.CK_RV(f(be))
}

func cDeref(addr uint64, n int) []byte {
	b := make([]byte, n)
	C.craton_copy_from(unsafe.Pointer(&b[0]), C.uint64_t(addr), C.size_t(n))
	return b
}

// input copies a caller buffer (p, n); NULL with n > 0 is CKR_ARGUMENTS_BAD,
// more than limit bytes is overRV.
func input(p C.CK_BYTE_PTR, n C.CK_ULONG, limit int, overRV uint) ([]byte, uint) {
	v, rv := inputView(p, n, limit, overRV)
	if rv != C.CKR_OK {
		return nil, rv
	}
	return bytes.Clone(v), C.CKR_OK // an empty view clones to a non-nil empty slice
}

// inputView is input without the copy: a view of the caller's buffer, valid
// only during the call and never kept or handed to the engine.
func inputView(p C.CK_BYTE_PTR, n C.CK_ULONG, limit int, overRV uint) ([]byte, uint) {
	if n == 0 {
		return []byte{}, C.CKR_OK
	}
	if p == nil {
		return nil, C.CKR_ARGUMENTS_BAD
	}
	if uint64(n) > uint64(limit) {
		return nil, overRV
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n)), C.CKR_OK
}

func data(p C.CK_BYTE_PTR, n C.CK_ULONG) ([]byte, uint) {
	return input(p, n, maxData, C.CKR_DATA_LEN_RANGE)
}

func pin(p C.CK_UTF8CHAR_PTR, n C.CK_ULONG) (string, uint) {
	b, rv := input(C.CK_BYTE_PTR(p), n, maxPIN, C.CKR_PIN_LEN_RANGE)
	return string(b), rv
}

// knownPtrs resolves the C addresses decoding meets to pointers read as
// pointers from the caller's structures (a template's pValue members, a
// mechanism's pParameter and the pointer members of its parameter), so that
// a value is copied by a Go memmove (C.GoBytes) rather than by a call into
// C (craton_copy_from: ~0.1-0.25 us each, several per C_GenerateKey or GCM
// *Init). Decoding works on a snapshot of the structures; an address that
// is not (or no longer) among the pointers is copied by craton_copy_from as
// before, so the bytes copied are the same either way.
type knownPtrs struct {
	attrs []C.CK_ATTRIBUTE  // a template, in C memory
	ptrs  [9]unsafe.Pointer // a mechanism: pParameter, then its first words
	nptrs int
	next  int // where the template search resumes (values come in order)
}

func (k *knownPtrs) deref(addr uint64, n int) []byte {
	for i := range k.attrs {
		j := (k.next + i) % len(k.attrs)
		if v := unsafe.Pointer(k.attrs[j].pValue); v != nil && uint64(uintptr(v)) == addr {
			k.next = j + 1
			return C.GoBytes(v, C.int(n))
		}
	}
	for _, v := range k.ptrs[:k.nptrs] {
		if v != nil && uint64(uintptr(v)) == addr {
			return C.GoBytes(v, C.int(n))
		}
	}
	return cDeref(addr, n)
}

func template(p C.CK_ATTRIBUTE_PTR, n C.CK_ULONG) ([]*pkcs11.Attribute, uint) {
	if err := checkCount(p == nil, uint64(n)); err != nil {
		return nil, rvOf(err)
	}
	if n == 0 {
		return nil, C.CKR_OK
	}
	raw := C.GoBytes(unsafe.Pointer(p), C.int(uint64(n)*attrSize))
	k := knownPtrs{attrs: unsafe.Slice(p, int(n))}
	attrs, err := decodeTemplate(raw, k.deref)
	return attrs, rvOf(err)
}

func mechanism(p C.CK_MECHANISM_PTR) ([]*pkcs11.Mechanism, uint) {
	if p == nil {
		return nil, C.CKR_ARGUMENTS_BAD
	}
	var raw [mechSize]byte // on the stack: no allocation per *Init
	copy(raw[:], unsafe.Slice((*byte)(unsafe.Pointer(p)), mechSize))
	var k knownPtrs
	if par, n := unsafe.Pointer(p.pParameter), uint64(p.ulParameterLen); par != nil && n > 0 && n <= maxParam {
		k.ptrs[0], k.nptrs = par, 1
		// The pointer members of CK_GCM_PARAMS, CK_RSA_PKCS_OAEP_PARAMS and
		// CK_ECDH1_DERIVE_PARAMS lie within their first 8 words (decoding
		// reads all n bytes anyway); a parameter that is not word-aligned is
		// left to craton_copy_from.
		if uintptr(par)%unsafe.Alignof(par) == 0 {
			words := unsafe.Slice((*unsafe.Pointer)(par), min(n/ptrSize, uint64(len(k.ptrs)-1)))
			k.nptrs += copy(k.ptrs[1:], words)
		}
	}
	m, err := decodeMechanism(raw[:], k.deref)
	if err != nil {
		return nil, rvOf(err)
	}
	return []*pkcs11.Mechanism{m}, C.CKR_OK
}

// output applies the two-call idiom to an operation producing bytes: a kept
// output for the same (session, kind, input) is handed out, otherwise run
// produces it; a NULL buffer or a short one keeps it for the next call.
// view is the caller's input as it is now (compared in place); run returns
// the Go copy of it that the engine got, which is kept with the output
// rather than copied again (the engine reads its input, never writes it).
func output(sh pkcs11.SessionHandle, op opKind, view []byte, p C.CK_BYTE_PTR, pl C.CK_ULONG_PTR, run func() (in, out []byte, err error)) uint {
	if pl == nil {
		return C.CKR_ARGUMENTS_BAD
	}
	isNull, have := p == nil, uint64(*pl)
	in, out, ok, removed := pend.take(sh, op, view, func(n int) bool { return lengthIdiom(n, isNull, have).Copy })
	if !ok {
		var err error
		if in, out, err = run(); err != nil {
			return rvOf(err)
		}
	}
	o := lengthIdiom(len(out), isNull, have)
	*pl = C.CK_ULONG(o.Len)
	switch {
	case o.Copy:
		copy(unsafe.Slice((*byte)(unsafe.Pointer(p)), len(out)), out)
		if !removed {
			pend.drop(sh, op)
		}
		wipe(out)
		if pooledInput(op) {
			inRecycle(in) // the operation has ended and its output is gone
		}
	case o.Keep && !ok:
		pend.keep(sh, op, in, out)
	}
	return o.RV
}

// ulongs writes vals to the caller's array with the two-call idiom (no
// state to keep: the list is recomputed).
func ulongs(vals []uint, p *C.CK_ULONG, pl C.CK_ULONG_PTR) uint {
	if pl == nil {
		return C.CKR_ARGUMENTS_BAD
	}
	o := lengthIdiom(len(vals), p == nil, uint64(*pl))
	*pl = C.CK_ULONG(o.Len)
	if o.Copy {
		dst := unsafe.Slice(p, len(vals))
		for i, v := range vals {
			dst[i] = C.CK_ULONG(v)
		}
	}
	return o.RV
}

// str passes a Go string to a C filler (no copy, no Go pointers inside).
func str(s string) (*C.char, C.size_t) {
	if s == "" {
		return nil, 0
	}
	return (*C.char)(unsafe.Pointer(unsafe.StringData(s))), C.size_t(len(s))
}

func sess(h C.CK_SESSION_HANDLE) pkcs11.SessionHandle { return pkcs11.SessionHandle(h) }
func obj(h C.CK_OBJECT_HANDLE) pkcs11.ObjectHandle    { return pkcs11.ObjectHandle(h) }

func setHandle(p *C.CK_ULONG, h uint) { *p = C.CK_ULONG(h) }

//export goC_Initialize
func goC_Initialize(forkedChild C.int) (rv C.CK_RV) {
	defer func() {
		if r := recover(); r != nil {
			reportOnce(fmt.Sprintf("libcraton_hsm: internal error in C_Initialize: %v", r))
			rv = C.CKR_GENERAL_ERROR
		}
	}()
	return C.CK_RV(initialize(forkedChild != 0))
}

//export goC_Finalize
func goC_Finalize() (rv C.CK_RV) {
	defer func() {
		if r := recover(); r != nil {
			rv = C.CKR_GENERAL_ERROR
		}
	}()
	return C.CK_RV(finalize())
}

//export goC_GetInfo
func goC_GetInfo(pInfo C.CK_INFO_PTR) C.CK_RV {
	return call(func(be backend) uint {
		if pInfo == nil {
			return C.CKR_ARGUMENTS_BAD
		}
		in, err := be.GetInfo()
		if err != nil {
			return rvOf(err)
		}
		m, ml := str(in.ManufacturerID)
		d, dl := str(in.LibraryDescription)
		C.craton_fill_info(pInfo, C.CK_BYTE(in.CryptokiVersion.Major), C.CK_BYTE(in.CryptokiVersion.Minor),
			m, ml, C.CK_FLAGS(in.Flags), d, dl, C.CK_BYTE(in.LibraryVersion.Major), C.CK_BYTE(in.LibraryVersion.Minor))
		return C.CKR_OK
	})
}

//export goC_GetSlotList
func goC_GetSlotList(tokenPresent C.CK_BBOOL, pSlotList C.CK_SLOT_ID_PTR, pulCount C.CK_ULONG_PTR) C.CK_RV {
	return call(func(be backend) uint {
		if pulCount == nil {
			return C.CKR_ARGUMENTS_BAD
		}
		slots, err := be.GetSlotList(tokenPresent != 0)
		if err != nil {
			return rvOf(err)
		}
		return ulongs(slots, (*C.CK_ULONG)(pSlotList), pulCount)
	})
}

//export goC_GetSlotInfo
func goC_GetSlotInfo(slotID C.CK_SLOT_ID, pInfo C.CK_SLOT_INFO_PTR) C.CK_RV {
	return call(func(be backend) uint {
		if pInfo == nil {
			return C.CKR_ARGUMENTS_BAD
		}
		si, err := be.GetSlotInfo(uint(slotID))
		if err != nil {
			return rvOf(err)
		}
		d, dl := str(si.SlotDescription)
		m, ml := str(si.ManufacturerID)
		C.craton_fill_slot_info(pInfo, d, dl, m, ml, C.CK_FLAGS(si.Flags),
			C.CK_BYTE(si.HardwareVersion.Major), C.CK_BYTE(si.HardwareVersion.Minor),
			C.CK_BYTE(si.FirmwareVersion.Major), C.CK_BYTE(si.FirmwareVersion.Minor))
		return C.CKR_OK
	})
}

//export goC_GetTokenInfo
func goC_GetTokenInfo(slotID C.CK_SLOT_ID, pInfo C.CK_TOKEN_INFO_PTR) C.CK_RV {
	return call(func(be backend) uint {
		if pInfo == nil {
			return C.CKR_ARGUMENTS_BAD
		}
		ti, err := be.GetTokenInfo(uint(slotID))
		if err != nil {
			return rvOf(err)
		}
		counts := [10]C.CK_ULONG{
			C.CK_ULONG(ti.MaxSessionCount), C.CK_ULONG(ti.SessionCount),
			C.CK_ULONG(ti.MaxRwSessionCount), C.CK_ULONG(ti.RwSessionCount),
			C.CK_ULONG(ti.MaxPinLen), C.CK_ULONG(ti.MinPinLen),
			C.CK_ULONG(ti.TotalPublicMemory), C.CK_ULONG(ti.FreePublicMemory),
			C.CK_ULONG(ti.TotalPrivateMemory), C.CK_ULONG(ti.FreePrivateMemory),
		}
		l, ll := str(ti.Label)
		m, ml := str(ti.ManufacturerID)
		mo, mol := str(ti.Model)
		s, sl := str(ti.SerialNumber)
		u, ul := str(ti.UTCTime)
		C.craton_fill_token_info(pInfo, l, ll, m, ml, mo, mol, s, sl, C.CK_FLAGS(ti.Flags), &counts[0],
			C.CK_BYTE(ti.HardwareVersion.Major), C.CK_BYTE(ti.HardwareVersion.Minor),
			C.CK_BYTE(ti.FirmwareVersion.Major), C.CK_BYTE(ti.FirmwareVersion.Minor), u, ul)
		return C.CKR_OK
	})
}

//export goC_GetMechanismList
func goC_GetMechanismList(slotID C.CK_SLOT_ID, pMechanismList C.CK_MECHANISM_TYPE_PTR, pulCount C.CK_ULONG_PTR) C.CK_RV {
	return call(func(be backend) uint {
		if pulCount == nil {
			return C.CKR_ARGUMENTS_BAD
		}
		ms, err := be.GetMechanismList(uint(slotID))
		if err != nil {
			return rvOf(err)
		}
		types := make([]uint, len(ms))
		for i, m := range ms {
			types[i] = m.Mechanism
		}
		return ulongs(types, (*C.CK_ULONG)(pMechanismList), pulCount)
	})
}

//export goC_GetMechanismInfo
func goC_GetMechanismInfo(slotID C.CK_SLOT_ID, typ C.CK_MECHANISM_TYPE, pInfo C.CK_MECHANISM_INFO_PTR) C.CK_RV {
	return call(func(be backend) uint {
		if pInfo == nil {
			return C.CKR_ARGUMENTS_BAD
		}
		mi, err := be.GetMechanismInfo(uint(slotID), []*pkcs11.Mechanism{pkcs11.NewMechanism(uint(typ), nil)})
		if err != nil {
			return rvOf(err)
		}
		C.craton_fill_mechanism_info(pInfo, C.CK_ULONG(mi.MinKeySize), C.CK_ULONG(mi.MaxKeySize), C.CK_FLAGS(mi.Flags))
		return C.CKR_OK
	})
}

//export goC_InitToken
func goC_InitToken(slotID C.CK_SLOT_ID, pPin C.CK_UTF8CHAR_PTR, ulPinLen C.CK_ULONG, pLabel C.CK_UTF8CHAR_PTR) C.CK_RV {
	return call(func(be backend) uint {
		if pLabel == nil {
			return C.CKR_ARGUMENTS_BAD
		}
		p, rv := pin(pPin, ulPinLen)
		if rv != C.CKR_OK {
			return rv
		}
		label := C.GoBytes(unsafe.Pointer(pLabel), 32) // CK_UTF8CHAR[32], space padded
		return rvOf(be.InitToken(uint(slotID), p, string(bytes.TrimRight(label, " "))))
	})
}

//export goC_InitPIN
func goC_InitPIN(hSession C.CK_SESSION_HANDLE, pPin C.CK_UTF8CHAR_PTR, ulPinLen C.CK_ULONG) C.CK_RV {
	return call(func(be backend) uint {
		p, rv := pin(pPin, ulPinLen)
		if rv != C.CKR_OK {
			return rv
		}
		return rvOf(be.InitPIN(sess(hSession), p))
	})
}

//export goC_SetPIN
func goC_SetPIN(hSession C.CK_SESSION_HANDLE, pOldPin C.CK_UTF8CHAR_PTR, ulOldLen C.CK_ULONG, pNewPin C.CK_UTF8CHAR_PTR, ulNewLen C.CK_ULONG) C.CK_RV {
	return call(func(be backend) uint {
		o, rv := pin(pOldPin, ulOldLen)
		if rv != C.CKR_OK {
			return rv
		}
		n, rv := pin(pNewPin, ulNewLen)
		if rv != C.CKR_OK {
			return rv
		}
		return rvOf(be.SetPIN(sess(hSession), o, n))
	})
}

//export goC_OpenSession
func goC_OpenSession(slotID C.CK_SLOT_ID, flags C.CK_FLAGS, pApplication C.CK_VOID_PTR, notify C.CK_NOTIFY, phSession C.CK_SESSION_HANDLE_PTR) C.CK_RV {
	return call(func(be backend) uint {
		// pApplication and Notify: no callbacks are ever made.
		if phSession == nil {
			return C.CKR_ARGUMENTS_BAD
		}
		h, err := be.OpenSession(uint(slotID), uint(flags))
		if err != nil {
			return rvOf(err)
		}
		setHandle((*C.CK_ULONG)(phSession), uint(h))
		return C.CKR_OK
	})
}

//export goC_CloseSession
func goC_CloseSession(hSession C.CK_SESSION_HANDLE) C.CK_RV {
	return call(func(be backend) uint {
		err := be.CloseSession(sess(hSession))
		if err == nil {
			pend.drop(sess(hSession))
		}
		return rvOf(err)
	})
}

//export goC_CloseAllSessions
func goC_CloseAllSessions(slotID C.CK_SLOT_ID) C.CK_RV {
	return call(func(be backend) uint {
		err := be.CloseAllSessions(uint(slotID))
		if err == nil {
			pend.prune(func(sh pkcs11.SessionHandle) bool {
				_, e := be.GetSessionInfo(sh)
				return e == nil
			})
		}
		return rvOf(err)
	})
}

//export goC_GetSessionInfo
func goC_GetSessionInfo(hSession C.CK_SESSION_HANDLE, pInfo C.CK_SESSION_INFO_PTR) C.CK_RV {
	return call(func(be backend) uint {
		if pInfo == nil {
			return C.CKR_ARGUMENTS_BAD
		}
		si, err := be.GetSessionInfo(sess(hSession))
		if err != nil {
			return rvOf(err)
		}
		C.craton_fill_session_info(pInfo, C.CK_SLOT_ID(si.SlotID), C.CK_STATE(si.State), C.CK_FLAGS(si.Flags), C.CK_ULONG(si.DeviceError))
		return C.CKR_OK
	})
}

//export goC_GetOperationState
func goC_GetOperationState(hSession C.CK_SESSION_HANDLE, pOperationState C.CK_BYTE_PTR, pulOperationStateLen C.CK_ULONG_PTR) C.CK_RV {
	return call(func(be backend) uint {
		os, ok := be.(opStater)
		if !ok {
			return C.CKR_FUNCTION_NOT_SUPPORTED
		}
		return output(sess(hSession), opOperationState, nil, pOperationState, pulOperationStateLen, func() ([]byte, []byte, error) {
			st, err := os.GetOperationState(sess(hSession))
			return nil, st, err
		})
	})
}

//export goC_SetOperationState
func goC_SetOperationState(hSession C.CK_SESSION_HANDLE, pOperationState C.CK_BYTE_PTR, ulOperationStateLen C.CK_ULONG, hEncryptionKey C.CK_OBJECT_HANDLE, hAuthenticationKey C.CK_OBJECT_HANDLE) C.CK_RV {
	return call(func(be backend) uint {
		os, ok := be.(opStater)
		if !ok {
			return C.CKR_FUNCTION_NOT_SUPPORTED
		}
		st, rv := data(pOperationState, ulOperationStateLen)
		if rv != C.CKR_OK {
			return rv
		}
		pend.drop(sess(hSession))
		return rvOf(os.SetOperationState(sess(hSession), st, obj(hEncryptionKey), obj(hAuthenticationKey)))
	})
}

//export goC_Login
func goC_Login(hSession C.CK_SESSION_HANDLE, userType C.CK_USER_TYPE, pPin C.CK_UTF8CHAR_PTR, ulPinLen C.CK_ULONG) C.CK_RV {
	return call(func(be backend) uint {
		p, rv := pin(pPin, ulPinLen)
		if rv != C.CKR_OK {
			return rv
		}
		return rvOf(be.Login(sess(hSession), uint(userType), p))
	})
}

//export goC_LoginUser
func goC_LoginUser(hSession C.CK_SESSION_HANDLE, userType C.CK_USER_TYPE, pPin C.CK_UTF8CHAR_PTR, ulPinLen C.CK_ULONG, pUsername C.CK_UTF8CHAR_PTR, ulUsernameLen C.CK_ULONG) C.CK_RV {
	return call(func(be backend) uint {
		// The token has no user names (v3.0 5.6: a token without them
		// treats C_LoginUser as C_Login and ignores the name).
		p, rv := pin(pPin, ulPinLen)
		if rv != C.CKR_OK {
			return rv
		}
		return rvOf(be.Login(sess(hSession), uint(userType), p))
	})
}

//export goC_Logout
func goC_Logout(hSession C.CK_SESSION_HANDLE) C.CK_RV {
	return call(func(be backend) uint { return rvOf(be.Logout(sess(hSession))) })
}

//export goC_CreateObject
func goC_CreateObject(hSession C.CK_SESSION_HANDLE, pTemplate C.CK_ATTRIBUTE_PTR, ulCount C.CK_ULONG, phObject C.CK_OBJECT_HANDLE_PTR) C.CK_RV {
	return call(func(be backend) uint {
		if phObject == nil {
			return C.CKR_ARGUMENTS_BAD
		}
		t, rv := template(pTemplate, ulCount)
		if rv != C.CKR_OK {
			return rv
		}
		h, err := be.CreateObject(sess(hSession), t)
		if err != nil {
			return rvOf(err)
		}
		setHandle((*C.CK_ULONG)(phObject), uint(h))
		return C.CKR_OK
	})
}

//export goC_CopyObject
func goC_CopyObject(hSession C.CK_SESSION_HANDLE, hObject C.CK_OBJECT_HANDLE, pTemplate C.CK_ATTRIBUTE_PTR, ulCount C.CK_ULONG, phNewObject C.CK_OBJECT_HANDLE_PTR) C.CK_RV {
	return call(func(be backend) uint {
		if phNewObject == nil {
			return C.CKR_ARGUMENTS_BAD
		}
		t, rv := template(pTemplate, ulCount)
		if rv != C.CKR_OK {
			return rv
		}
		h, err := be.CopyObject(sess(hSession), obj(hObject), t)
		if err != nil {
			return rvOf(err)
		}
		setHandle((*C.CK_ULONG)(phNewObject), uint(h))
		return C.CKR_OK
	})
}

//export goC_DestroyObject
func goC_DestroyObject(hSession C.CK_SESSION_HANDLE, hObject C.CK_OBJECT_HANDLE) C.CK_RV {
	return call(func(be backend) uint { return rvOf(be.DestroyObject(sess(hSession), obj(hObject))) })
}

//export goC_GetObjectSize
func goC_GetObjectSize(hSession C.CK_SESSION_HANDLE, hObject C.CK_OBJECT_HANDLE, pulSize C.CK_ULONG_PTR) C.CK_RV {
	return call(func(be backend) uint {
		if pulSize == nil {
			return C.CKR_ARGUMENTS_BAD
		}
		n, err := be.GetObjectSize(sess(hSession), obj(hObject))
		if err != nil {
			return rvOf(err)
		}
		*pulSize = C.CK_ULONG(n)
		return C.CKR_OK
	})
}

//export goC_GetAttributeValue
func goC_GetAttributeValue(hSession C.CK_SESSION_HANDLE, hObject C.CK_OBJECT_HANDLE, pTemplate C.CK_ATTRIBUTE_PTR, ulCount C.CK_ULONG) C.CK_RV {
	return call(func(be backend) uint {
		if err := checkCount(pTemplate == nil, uint64(ulCount)); err != nil {
			return rvOf(err)
		}
		if ulCount == 0 {
			return C.CKR_ARGUMENTS_BAD
		}
		tmpl := unsafe.Slice((*C.CK_ATTRIBUTE)(unsafe.Pointer(pTemplate)), int(ulCount))
		types := make([]uint, len(tmpl))
		for i := range tmpl {
			types[i] = uint(tmpl[i]._type)
		}
		res, err := attrsOf(be, sess(hSession), obj(hObject), types)
		if err != nil {
			return rvOf(err)
		}
		if len(res) != len(types) {
			return C.CKR_GENERAL_ERROR
		}
		rvs := make([]uint, len(res))
		for i, r := range res {
			a := &tmpl[i]
			o := attrIdiom(r.Value, r.RV, a.pValue == nil, uint64(a.ulValueLen))
			if o.Copy {
				copy(unsafe.Slice((*byte)(a.pValue), len(r.Value)), r.Value)
			}
			a.ulValueLen = C.CK_ULONG(o.Len)
			rvs[i] = o.RV
		}
		return overallAttrRV(rvs)
	})
}

//export goC_SetAttributeValue
func goC_SetAttributeValue(hSession C.CK_SESSION_HANDLE, hObject C.CK_OBJECT_HANDLE, pTemplate C.CK_ATTRIBUTE_PTR, ulCount C.CK_ULONG) C.CK_RV {
	return call(func(be backend) uint {
		t, rv := template(pTemplate, ulCount)
		if rv != C.CKR_OK {
			return rv
		}
		return rvOf(be.SetAttributeValue(sess(hSession), obj(hObject), t))
	})
}

//export goC_FindObjectsInit
func goC_FindObjectsInit(hSession C.CK_SESSION_HANDLE, pTemplate C.CK_ATTRIBUTE_PTR, ulCount C.CK_ULONG) C.CK_RV {
	return call(func(be backend) uint {
		t, rv := template(pTemplate, ulCount)
		if rv != C.CKR_OK {
			return rv
		}
		return rvOf(be.FindObjectsInit(sess(hSession), t))
	})
}

//export goC_FindObjects
func goC_FindObjects(hSession C.CK_SESSION_HANDLE, phObject C.CK_OBJECT_HANDLE_PTR, ulMaxObjectCount C.CK_ULONG, pulObjectCount C.CK_ULONG_PTR) C.CK_RV {
	return call(func(be backend) uint {
		if pulObjectCount == nil || (phObject == nil && ulMaxObjectCount > 0) {
			return C.CKR_ARGUMENTS_BAD
		}
		max := uint64(ulMaxObjectCount)
		if max > 1<<16 {
			max = 1 << 16
		}
		hs, _, err := be.FindObjects(sess(hSession), int(max))
		if err != nil {
			return rvOf(err)
		}
		if uint64(len(hs)) > max {
			return C.CKR_GENERAL_ERROR
		}
		if len(hs) > 0 {
			dst := unsafe.Slice((*C.CK_ULONG)(phObject), len(hs))
			for i, h := range hs {
				dst[i] = C.CK_ULONG(h)
			}
		}
		*pulObjectCount = C.CK_ULONG(len(hs))
		return C.CKR_OK
	})
}

//export goC_FindObjectsFinal
func goC_FindObjectsFinal(hSession C.CK_SESSION_HANDLE) C.CK_RV {
	return call(func(be backend) uint { return rvOf(be.FindObjectsFinal(sess(hSession))) })
}

// initOp runs an *Init with a mechanism and drops kept outputs of its family.
func initOp(hSession C.CK_SESSION_HANDLE, pMechanism C.CK_MECHANISM_PTR, fam []opKind, f func(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism) error) C.CK_RV {
	return call(func(be backend) uint {
		m, rv := mechanism(pMechanism)
		if rv != C.CKR_OK {
			return rv
		}
		err := f(sess(hSession), m)
		if err == nil {
			pend.drop(sess(hSession), fam...)
		}
		return rvOf(err)
	})
}

// oneShot is the common shape of C_Encrypt/C_Decrypt/C_Sign/C_Digest and
// the *Update calls that return data.
//
// The caller's input is read in place to match a kept output (the second
// call of the two-call idiom copies nothing) and copied only when the
// operation runs: the engine never sees C memory.
func oneShot(hSession C.CK_SESSION_HANDLE, op opKind, pIn C.CK_BYTE_PTR, ulIn C.CK_ULONG, pOut C.CK_BYTE_PTR, pulOut C.CK_ULONG_PTR, f func(be backend, sh pkcs11.SessionHandle, in []byte) ([]byte, error)) C.CK_RV {
	return call(func(be backend) uint {
		view, rv := inputView(pIn, ulIn, maxData, C.CKR_DATA_LEN_RANGE)
		if rv != C.CKR_OK {
			return rv
		}
		sh := sess(hSession)
		return output(sh, op, view, pOut, pulOut, func() ([]byte, []byte, error) {
			var in []byte
			if pooledInput(op) {
				in = inCopy(view)
			} else {
				in = bytes.Clone(view)
			}
			out, err := f(be, sh, in[:len(in):len(in)])
			return in, out, err
		})
	})
}

// pooledInput reports the single-part calls, whose input copy comes from
// inCopy and goes back once the output is handed out (inbuf.go).
func pooledInput(op opKind) bool {
	return op == opEncrypt || op == opDecrypt || op == opDigest || op == opSign
}

// final is the shape of the *Final calls that return data.
func final(hSession C.CK_SESSION_HANDLE, op opKind, pOut C.CK_BYTE_PTR, pulOut C.CK_ULONG_PTR, f func(be backend, sh pkcs11.SessionHandle) ([]byte, error)) C.CK_RV {
	return call(func(be backend) uint {
		sh := sess(hSession)
		return output(sh, op, nil, pOut, pulOut, func() ([]byte, []byte, error) {
			out, err := f(be, sh)
			return nil, out, err
		})
	})
}

// consume is the shape of the *Update calls without output.
func consume(hSession C.CK_SESSION_HANDLE, pIn C.CK_BYTE_PTR, ulIn C.CK_ULONG, f func(be backend, sh pkcs11.SessionHandle, in []byte) error) C.CK_RV {
	return call(func(be backend) uint {
		in, rv := data(pIn, ulIn)
		if rv != C.CKR_OK {
			return rv
		}
		return rvOf(f(be, sess(hSession), in))
	})
}

//export goC_EncryptInit
func goC_EncryptInit(hSession C.CK_SESSION_HANDLE, pMechanism C.CK_MECHANISM_PTR, hKey C.CK_OBJECT_HANDLE) C.CK_RV {
	return initOp(hSession, pMechanism, famEncrypt, func(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism) error {
		return lib.be.EncryptInit(sh, m, obj(hKey))
	})
}

//export goC_Encrypt
func goC_Encrypt(hSession C.CK_SESSION_HANDLE, pData C.CK_BYTE_PTR, ulDataLen C.CK_ULONG, pEncryptedData C.CK_BYTE_PTR, pulEncryptedDataLen C.CK_ULONG_PTR) C.CK_RV {
	return oneShot(hSession, opEncrypt, pData, ulDataLen, pEncryptedData, pulEncryptedDataLen,
		func(be backend, sh pkcs11.SessionHandle, in []byte) ([]byte, error) { return be.Encrypt(sh, in) })
}

//export goC_EncryptUpdate
func goC_EncryptUpdate(hSession C.CK_SESSION_HANDLE, pPart C.CK_BYTE_PTR, ulPartLen C.CK_ULONG, pEncryptedPart C.CK_BYTE_PTR, pulEncryptedPartLen C.CK_ULONG_PTR) C.CK_RV {
	return oneShot(hSession, opEncryptUpdate, pPart, ulPartLen, pEncryptedPart, pulEncryptedPartLen,
		func(be backend, sh pkcs11.SessionHandle, in []byte) ([]byte, error) { return be.EncryptUpdate(sh, in) })
}

//export goC_EncryptFinal
func goC_EncryptFinal(hSession C.CK_SESSION_HANDLE, pLastEncryptedPart C.CK_BYTE_PTR, pulLastEncryptedPartLen C.CK_ULONG_PTR) C.CK_RV {
	return final(hSession, opEncryptFinal, pLastEncryptedPart, pulLastEncryptedPartLen,
		func(be backend, sh pkcs11.SessionHandle) ([]byte, error) { return be.EncryptFinal(sh) })
}

//export goC_DecryptInit
func goC_DecryptInit(hSession C.CK_SESSION_HANDLE, pMechanism C.CK_MECHANISM_PTR, hKey C.CK_OBJECT_HANDLE) C.CK_RV {
	return initOp(hSession, pMechanism, famDecrypt, func(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism) error {
		return lib.be.DecryptInit(sh, m, obj(hKey))
	})
}

//export goC_Decrypt
func goC_Decrypt(hSession C.CK_SESSION_HANDLE, pEncryptedData C.CK_BYTE_PTR, ulEncryptedDataLen C.CK_ULONG, pData C.CK_BYTE_PTR, pulDataLen C.CK_ULONG_PTR) C.CK_RV {
	return oneShot(hSession, opDecrypt, pEncryptedData, ulEncryptedDataLen, pData, pulDataLen,
		func(be backend, sh pkcs11.SessionHandle, in []byte) ([]byte, error) { return be.Decrypt(sh, in) })
}

//export goC_DecryptUpdate
func goC_DecryptUpdate(hSession C.CK_SESSION_HANDLE, pEncryptedPart C.CK_BYTE_PTR, ulEncryptedPartLen C.CK_ULONG, pPart C.CK_BYTE_PTR, pulPartLen C.CK_ULONG_PTR) C.CK_RV {
	return oneShot(hSession, opDecryptUpdate, pEncryptedPart, ulEncryptedPartLen, pPart, pulPartLen,
		func(be backend, sh pkcs11.SessionHandle, in []byte) ([]byte, error) { return be.DecryptUpdate(sh, in) })
}

//export goC_DecryptFinal
func goC_DecryptFinal(hSession C.CK_SESSION_HANDLE, pLastPart C.CK_BYTE_PTR, pulLastPartLen C.CK_ULONG_PTR) C.CK_RV {
	return final(hSession, opDecryptFinal, pLastPart, pulLastPartLen,
		func(be backend, sh pkcs11.SessionHandle) ([]byte, error) { return be.DecryptFinal(sh) })
}

//export goC_DigestInit
func goC_DigestInit(hSession C.CK_SESSION_HANDLE, pMechanism C.CK_MECHANISM_PTR) C.CK_RV {
	return initOp(hSession, pMechanism, famDigest, func(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism) error {
		return lib.be.DigestInit(sh, m)
	})
}

//export goC_Digest
func goC_Digest(hSession C.CK_SESSION_HANDLE, pData C.CK_BYTE_PTR, ulDataLen C.CK_ULONG, pDigest C.CK_BYTE_PTR, pulDigestLen C.CK_ULONG_PTR) C.CK_RV {
	return oneShot(hSession, opDigest, pData, ulDataLen, pDigest, pulDigestLen,
		func(be backend, sh pkcs11.SessionHandle, in []byte) ([]byte, error) { return be.Digest(sh, in) })
}

//export goC_DigestUpdate
func goC_DigestUpdate(hSession C.CK_SESSION_HANDLE, pPart C.CK_BYTE_PTR, ulPartLen C.CK_ULONG) C.CK_RV {
	return consume(hSession, pPart, ulPartLen, func(be backend, sh pkcs11.SessionHandle, in []byte) error { return be.DigestUpdate(sh, in) })
}

//export goC_DigestKey
func goC_DigestKey(hSession C.CK_SESSION_HANDLE, hKey C.CK_OBJECT_HANDLE) C.CK_RV {
	return call(func(be backend) uint {
		dk, ok := be.(digestKeyer)
		if !ok {
			return C.CKR_FUNCTION_NOT_SUPPORTED
		}
		return rvOf(dk.DigestKey(sess(hSession), obj(hKey)))
	})
}

//export goC_DigestFinal
func goC_DigestFinal(hSession C.CK_SESSION_HANDLE, pDigest C.CK_BYTE_PTR, pulDigestLen C.CK_ULONG_PTR) C.CK_RV {
	return final(hSession, opDigestFinal, pDigest, pulDigestLen,
		func(be backend, sh pkcs11.SessionHandle) ([]byte, error) { return be.DigestFinal(sh) })
}

//export goC_SignInit
func goC_SignInit(hSession C.CK_SESSION_HANDLE, pMechanism C.CK_MECHANISM_PTR, hKey C.CK_OBJECT_HANDLE) C.CK_RV {
	return initOp(hSession, pMechanism, famSign, func(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism) error {
		return lib.be.SignInit(sh, m, obj(hKey))
	})
}

//export goC_Sign
func goC_Sign(hSession C.CK_SESSION_HANDLE, pData C.CK_BYTE_PTR, ulDataLen C.CK_ULONG, pSignature C.CK_BYTE_PTR, pulSignatureLen C.CK_ULONG_PTR) C.CK_RV {
	return oneShot(hSession, opSign, pData, ulDataLen, pSignature, pulSignatureLen,
		func(be backend, sh pkcs11.SessionHandle, in []byte) ([]byte, error) { return be.Sign(sh, in) })
}

//export goC_SignUpdate
func goC_SignUpdate(hSession C.CK_SESSION_HANDLE, pPart C.CK_BYTE_PTR, ulPartLen C.CK_ULONG) C.CK_RV {
	return consume(hSession, pPart, ulPartLen, func(be backend, sh pkcs11.SessionHandle, in []byte) error { return be.SignUpdate(sh, in) })
}

//export goC_SignFinal
func goC_SignFinal(hSession C.CK_SESSION_HANDLE, pSignature C.CK_BYTE_PTR, pulSignatureLen C.CK_ULONG_PTR) C.CK_RV {
	return final(hSession, opSignFinal, pSignature, pulSignatureLen,
		func(be backend, sh pkcs11.SessionHandle) ([]byte, error) { return be.SignFinal(sh) })
}

//export goC_VerifyInit
func goC_VerifyInit(hSession C.CK_SESSION_HANDLE, pMechanism C.CK_MECHANISM_PTR, hKey C.CK_OBJECT_HANDLE) C.CK_RV {
	return initOp(hSession, pMechanism, nil, func(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism) error {
		return lib.be.VerifyInit(sh, m, obj(hKey))
	})
}

//export goC_Verify
func goC_Verify(hSession C.CK_SESSION_HANDLE, pData C.CK_BYTE_PTR, ulDataLen C.CK_ULONG, pSignature C.CK_BYTE_PTR, ulSignatureLen C.CK_ULONG) C.CK_RV {
	return call(func(be backend) uint {
		in, rv := data(pData, ulDataLen)
		if rv != C.CKR_OK {
			return rv
		}
		sig, rv := data(pSignature, ulSignatureLen)
		if rv != C.CKR_OK {
			return rv
		}
		return rvOf(be.Verify(sess(hSession), in, sig))
	})
}

//export goC_VerifyUpdate
func goC_VerifyUpdate(hSession C.CK_SESSION_HANDLE, pPart C.CK_BYTE_PTR, ulPartLen C.CK_ULONG) C.CK_RV {
	return consume(hSession, pPart, ulPartLen, func(be backend, sh pkcs11.SessionHandle, in []byte) error { return be.VerifyUpdate(sh, in) })
}

//export goC_VerifyFinal
func goC_VerifyFinal(hSession C.CK_SESSION_HANDLE, pSignature C.CK_BYTE_PTR, ulSignatureLen C.CK_ULONG) C.CK_RV {
	return consume(hSession, pSignature, ulSignatureLen, func(be backend, sh pkcs11.SessionHandle, sig []byte) error { return be.VerifyFinal(sh, sig) })
}

//export goC_GenerateKey
func goC_GenerateKey(hSession C.CK_SESSION_HANDLE, pMechanism C.CK_MECHANISM_PTR, pTemplate C.CK_ATTRIBUTE_PTR, ulCount C.CK_ULONG, phKey C.CK_OBJECT_HANDLE_PTR) C.CK_RV {
	return call(func(be backend) uint {
		if phKey == nil {
			return C.CKR_ARGUMENTS_BAD
		}
		m, rv := mechanism(pMechanism)
		if rv != C.CKR_OK {
			return rv
		}
		t, rv := template(pTemplate, ulCount)
		if rv != C.CKR_OK {
			return rv
		}
		h, err := be.GenerateKey(sess(hSession), m, t)
		if err != nil {
			return rvOf(err)
		}
		setHandle((*C.CK_ULONG)(phKey), uint(h))
		return C.CKR_OK
	})
}

//export goC_GenerateKeyPair
func goC_GenerateKeyPair(hSession C.CK_SESSION_HANDLE, pMechanism C.CK_MECHANISM_PTR, pPublicKeyTemplate C.CK_ATTRIBUTE_PTR, ulPublicKeyAttributeCount C.CK_ULONG, pPrivateKeyTemplate C.CK_ATTRIBUTE_PTR, ulPrivateKeyAttributeCount C.CK_ULONG, phPublicKey C.CK_OBJECT_HANDLE_PTR, phPrivateKey C.CK_OBJECT_HANDLE_PTR) C.CK_RV {
	return call(func(be backend) uint {
		if phPublicKey == nil || phPrivateKey == nil {
			return C.CKR_ARGUMENTS_BAD
		}
		m, rv := mechanism(pMechanism)
		if rv != C.CKR_OK {
			return rv
		}
		pub, rv := template(pPublicKeyTemplate, ulPublicKeyAttributeCount)
		if rv != C.CKR_OK {
			return rv
		}
		priv, rv := template(pPrivateKeyTemplate, ulPrivateKeyAttributeCount)
		if rv != C.CKR_OK {
			return rv
		}
		hp, hq, err := be.GenerateKeyPair(sess(hSession), m, pub, priv)
		if err != nil {
			return rvOf(err)
		}
		setHandle((*C.CK_ULONG)(phPublicKey), uint(hp))
		setHandle((*C.CK_ULONG)(phPrivateKey), uint(hq))
		return C.CKR_OK
	})
}

//export goC_WrapKey
func goC_WrapKey(hSession C.CK_SESSION_HANDLE, pMechanism C.CK_MECHANISM_PTR, hWrappingKey C.CK_OBJECT_HANDLE, hKey C.CK_OBJECT_HANDLE, pWrappedKey C.CK_BYTE_PTR, pulWrappedKeyLen C.CK_ULONG_PTR) C.CK_RV {
	return call(func(be backend) uint {
		if pMechanism == nil {
			return C.CKR_ARGUMENTS_BAD
		}
		m, rv := mechanism(pMechanism)
		if rv != C.CKR_OK {
			return rv
		}
		// The kept output is tied to the exact arguments.
		key := C.GoBytes(unsafe.Pointer(pMechanism), mechSize)
		key = append(key, m[0].Parameter...)
		key = binary.NativeEndian.AppendUint64(key, uint64(hWrappingKey))
		key = binary.NativeEndian.AppendUint64(key, uint64(hKey))
		sh := sess(hSession)
		return output(sh, opWrap, key, pWrappedKey, pulWrappedKeyLen, func() ([]byte, []byte, error) {
			wrapped, err := be.WrapKey(sh, m, obj(hWrappingKey), obj(hKey))
			return key, wrapped, err
		})
	})
}

//export goC_UnwrapKey
func goC_UnwrapKey(hSession C.CK_SESSION_HANDLE, pMechanism C.CK_MECHANISM_PTR, hUnwrappingKey C.CK_OBJECT_HANDLE, pWrappedKey C.CK_BYTE_PTR, ulWrappedKeyLen C.CK_ULONG, pTemplate C.CK_ATTRIBUTE_PTR, ulAttributeCount C.CK_ULONG, phKey C.CK_OBJECT_HANDLE_PTR) C.CK_RV {
	return call(func(be backend) uint {
		if phKey == nil {
			return C.CKR_ARGUMENTS_BAD
		}
		m, rv := mechanism(pMechanism)
		if rv != C.CKR_OK {
			return rv
		}
		blob, rv := data(pWrappedKey, ulWrappedKeyLen)
		if rv != C.CKR_OK {
			return rv
		}
		t, rv := template(pTemplate, ulAttributeCount)
		if rv != C.CKR_OK {
			return rv
		}
		h, err := be.UnwrapKey(sess(hSession), m, obj(hUnwrappingKey), blob, t)
		if err != nil {
			return rvOf(err)
		}
		setHandle((*C.CK_ULONG)(phKey), uint(h))
		return C.CKR_OK
	})
}

//export goC_DeriveKey
func goC_DeriveKey(hSession C.CK_SESSION_HANDLE, pMechanism C.CK_MECHANISM_PTR, hBaseKey C.CK_OBJECT_HANDLE, pTemplate C.CK_ATTRIBUTE_PTR, ulAttributeCount C.CK_ULONG, phKey C.CK_OBJECT_HANDLE_PTR) C.CK_RV {
	return call(func(be backend) uint {
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
		h, err := be.DeriveKey(sess(hSession), m, obj(hBaseKey), t)
		if err != nil {
			return rvOf(err)
		}
		setHandle((*C.CK_ULONG)(phKey), uint(h))
		return C.CKR_OK
	})
}

//export goC_SeedRandom
func goC_SeedRandom(hSession C.CK_SESSION_HANDLE, pSeed C.CK_BYTE_PTR, ulSeedLen C.CK_ULONG) C.CK_RV {
	return call(func(be backend) uint {
		sr, ok := be.(seeder)
		if !ok {
			return C.CKR_RANDOM_SEED_NOT_SUPPORTED
		}
		seed, rv := data(pSeed, ulSeedLen)
		if rv != C.CKR_OK {
			return rv
		}
		return rvOf(sr.SeedRandom(sess(hSession), seed))
	})
}

//export goC_GenerateRandom
func goC_GenerateRandom(hSession C.CK_SESSION_HANDLE, randomData C.CK_BYTE_PTR, ulRandomLen C.CK_ULONG) C.CK_RV {
	return call(func(be backend) uint {
		if randomData == nil && ulRandomLen > 0 {
			return C.CKR_ARGUMENTS_BAD
		}
		if uint64(ulRandomLen) > maxData {
			return C.CKR_DATA_LEN_RANGE
		}
		b, err := be.GenerateRandom(sess(hSession), int(ulRandomLen))
		if err != nil {
			return rvOf(err)
		}
		if len(b) != int(ulRandomLen) {
			return C.CKR_GENERAL_ERROR
		}
		if len(b) > 0 {
			copy(unsafe.Slice((*byte)(unsafe.Pointer(randomData)), len(b)), b)
			wipe(b)
		}
		return C.CKR_OK
	})
}
