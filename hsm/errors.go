package hsm

import (
	"errors"
	"fmt"

	"github.com/craton-co/craton/errs"
	"github.com/miekg/pkcs11"
)

// rvErr is the error a C module would return for rv.
func rvErr(rv uint) error { return pkcs11.Error(rv) }

var (
	errGeneral          = rvErr(pkcs11.CKR_GENERAL_ERROR)
	errNotInitialized   = rvErr(pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED)
	errSessionHandle    = rvErr(pkcs11.CKR_SESSION_HANDLE_INVALID)
	errObjectHandle     = rvErr(pkcs11.CKR_OBJECT_HANDLE_INVALID)
	errKeyHandle        = rvErr(pkcs11.CKR_KEY_HANDLE_INVALID)
	errSlotID           = rvErr(pkcs11.CKR_SLOT_ID_INVALID)
	errArgumentsBad     = rvErr(pkcs11.CKR_ARGUMENTS_BAD)
	errReadOnlySession  = rvErr(pkcs11.CKR_SESSION_READ_ONLY)
	errNotLoggedIn      = rvErr(pkcs11.CKR_USER_NOT_LOGGED_IN)
	errOpActive         = rvErr(pkcs11.CKR_OPERATION_ACTIVE)
	errOpNotInit        = rvErr(pkcs11.CKR_OPERATION_NOT_INITIALIZED)
	errMechInvalid      = rvErr(pkcs11.CKR_MECHANISM_INVALID)
	errAttrReadOnly     = rvErr(pkcs11.CKR_ATTRIBUTE_READ_ONLY)
	errAttrTypeInvalid  = rvErr(pkcs11.CKR_ATTRIBUTE_TYPE_INVALID)
	errAttrValueInvalid = rvErr(pkcs11.CKR_ATTRIBUTE_VALUE_INVALID)
	errTmplIncomplete   = rvErr(pkcs11.CKR_TEMPLATE_INCOMPLETE)
	errTmplInconsistent = rvErr(pkcs11.CKR_TEMPLATE_INCONSISTENT)
	errActionProhibited = rvErr(pkcs11.CKR_ACTION_PROHIBITED)
	errFuncNotPermitted = rvErr(pkcs11.CKR_KEY_FUNCTION_NOT_PERMITTED)
)

// rvOf returns the CK_RV carried by err (CKR_GENERAL_ERROR for foreign
// errors, CKR_OK for nil), for audit records.
func rvOf(err error) uint {
	if err == nil {
		return pkcs11.CKR_OK
	}
	var pe pkcs11.Error
	if errors.As(err, &pe) {
		return uint(pe)
	}
	if rv := errs.RVOf(err); rv != 0 {
		return rv
	}
	return pkcs11.CKR_GENERAL_ERROR
}

// asRV turns any error from a collaborator (mech, store) into the
// pkcs11.Error the caller gets: CK_RV-carrying errors keep their code,
// anything else is CKR_GENERAL_ERROR.
func asRV(err error) error {
	if err == nil {
		return nil
	}
	return rvErr(rvOf(err))
}

// damagedStore is the error of a store that opened but whose token state
// or object index cannot be read: CKR_GENERAL_ERROR with a message naming
// the file (it was a bare CKR_GENERAL_ERROR; found by TestStoreBitFlips).
func damagedStore(path string, err error) error {
	var e *errs.Error
	if errors.As(err, &e) {
		return err // already names the file
	}
	return &errs.Error{Kind: errs.KindState, Op: "open store", RV: pkcs11.CKR_GENERAL_ERROR,
		Msg:  fmt.Sprintf("the database at %s is damaged: %v", path, err),
		Hint: "restore the storage_path directory from a backup", Err: err}
}

// asGeneral maps an internal failure (store I/O, encoding) to
// CKR_GENERAL_ERROR; nil stays nil. what names the step for debugging.
func asGeneral(what string, err error) error {
	if err == nil {
		return nil
	}
	_ = what
	return errGeneral
}
