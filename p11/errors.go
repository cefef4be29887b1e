package p11

import (
	"errors"
	"fmt"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/errs"
	"github.com/miekg/pkcs11"
)

// RV extracts the CK_RV from err (a pkcs11.Error or an *errs.Error carrying
// one); 0 when err is nil or not a PKCS#11 failure.
func RV(err error) uint {
	var pe pkcs11.Error
	if errors.As(err, &pe) {
		return uint(pe)
	}
	return errs.RVOf(err)
}

func isRV(err error, rv uint) bool { return err != nil && RV(err) == rv }

// IsRV reports whether err carries the CK_RV rv.
func IsRV(err error, rv uint) bool { return isRV(err, rv) }

// Wrap turns a failed call into an *errs.Error named after op, with the
// CKR_ name and a kind and hint chosen from the return value. nil stays nil.
func Wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *errs.Error
	if errors.As(err, &e) {
		return fmt.Errorf("%s: %w", op, err)
	}
	rv := RV(err)
	if rv == 0 {
		return &errs.Error{Kind: errs.KindInternal, Op: op, Err: err}
	}
	kind, hint := classify(rv)
	return &errs.Error{Kind: kind, Op: op, RV: rv, Msg: ck.RVName(rv), Hint: hint, Err: err}
}

func classify(rv uint) (errs.Kind, string) {
	switch rv {
	case pkcs11.CKR_PIN_INCORRECT:
		return errs.KindAuth, "the PIN is wrong; craton does not retry (each failure counts toward lockout) — check the PIN source"
	case pkcs11.CKR_PIN_LOCKED:
		return errs.KindPINLocked, "the PIN is locked; the SO must re-initialise it (craton token init-pin, or softhsm2-util for SoftHSMv2)"
	case pkcs11.CKR_PIN_LEN_RANGE, pkcs11.CKR_PIN_INVALID, ck.CKR_PIN_TOO_WEAK:
		return errs.KindUsage, "the PIN does not meet the token's length/complexity policy"
	case pkcs11.CKR_USER_PIN_NOT_INITIALIZED:
		return errs.KindState, "the user PIN is not set; run 'craton token init-pin' as SO"
	case pkcs11.CKR_TOKEN_NOT_RECOGNIZED, pkcs11.CKR_TOKEN_NOT_PRESENT, pkcs11.CKR_SLOT_ID_INVALID:
		return errs.KindTokenNotFound, "select the token by --token label; slot IDs change"
	case pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED:
		return errs.KindModule, "the module is not initialised (after fork(), call C_Initialize again)"
	case pkcs11.CKR_USER_NOT_LOGGED_IN:
		return errs.KindAuth, "log in first: give a PIN source (--pin-file or --pin-env)"
	case pkcs11.CKR_KEY_UNEXTRACTABLE:
		return errs.KindInternal, "the key is not extractable: it cannot be wrapped and must be regenerated"
	case pkcs11.CKR_MECHANISM_INVALID:
		return errs.KindInternal, "the module does not support this mechanism"
	}
	return errs.KindInternal, ""
}
