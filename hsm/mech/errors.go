package mech

import "github.com/miekg/pkcs11"

// CK_RV values returned as errors. They are pkcs11.Error values so that the
// engine can hand them back to the caller unchanged.
var (
	errGeneral        error = pkcs11.Error(pkcs11.CKR_GENERAL_ERROR)
	errMechInvalid    error = pkcs11.Error(pkcs11.CKR_MECHANISM_INVALID)
	errParamInvalid   error = pkcs11.Error(pkcs11.CKR_MECHANISM_PARAM_INVALID)
	errKeyType        error = pkcs11.Error(pkcs11.CKR_KEY_TYPE_INCONSISTENT)
	errKeySize        error = pkcs11.Error(pkcs11.CKR_KEY_SIZE_RANGE)
	errDataLen        error = pkcs11.Error(pkcs11.CKR_DATA_LEN_RANGE)
	errEncData        error = pkcs11.Error(pkcs11.CKR_ENCRYPTED_DATA_INVALID)
	errEncDataLen     error = pkcs11.Error(pkcs11.CKR_ENCRYPTED_DATA_LEN_RANGE)
	errSignature      error = pkcs11.Error(pkcs11.CKR_SIGNATURE_INVALID)
	errSignatureLen   error = pkcs11.Error(pkcs11.CKR_SIGNATURE_LEN_RANGE)
	errWrappedKey     error = pkcs11.Error(pkcs11.CKR_WRAPPED_KEY_INVALID)
	errWrappedKeyLen  error = pkcs11.Error(pkcs11.CKR_WRAPPED_KEY_LEN_RANGE)
	errNotWrappable   error = pkcs11.Error(pkcs11.CKR_KEY_NOT_WRAPPABLE)
	errWrapKeyType    error = pkcs11.Error(pkcs11.CKR_WRAPPING_KEY_TYPE_INCONSISTENT)
	errWrapKeySize    error = pkcs11.Error(pkcs11.CKR_WRAPPING_KEY_SIZE_RANGE)
	errUnwrapKeyType  error = pkcs11.Error(pkcs11.CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT)
	errUnwrapKeySize  error = pkcs11.Error(pkcs11.CKR_UNWRAPPING_KEY_SIZE_RANGE)
	errTmplIncomplete error = pkcs11.Error(pkcs11.CKR_TEMPLATE_INCOMPLETE)
	errTmplInconsist  error = pkcs11.Error(pkcs11.CKR_TEMPLATE_INCONSISTENT)
	errAttrValue      error = pkcs11.Error(pkcs11.CKR_ATTRIBUTE_VALUE_INVALID)
	errCurve          error = pkcs11.Error(pkcs11.CKR_CURVE_NOT_SUPPORTED)
)

// maxBuffered bounds what an operation accumulates before Final (the same
// 64 MiB limit the Craton engine applies to multi-part input).
const maxBuffered = 64 << 20

// appendBounded appends p to buf unless that would exceed maxBuffered.
func appendBounded(buf, p []byte) ([]byte, error) {
	if len(buf)+len(p) > maxBuffered {
		return buf, errDataLen
	}
	return append(buf, p...), nil
}

// errParamSet is CKR_PARAMETER_SET_NOT_SUPPORTED (PKCS#11 3.2).
var errParamSet error = pkcs11.Error(0x00000209)
