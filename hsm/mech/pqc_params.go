package mech

import (
	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

// SignContext is a decoded CK_SIGN_ADDITIONAL_CONTEXT (PKCS#11 3.2
// pkcs11t.h: hedgeVariant, pContext, ulContextLen), the optional parameter
// of CKM_ML_DSA and CKM_SLH_DSA. Hedge is a CKH_* value: CKH_HEDGE_PREFERRED
// (the default) and CKH_HEDGE_REQUIRED give hedged (randomized) signatures,
// CKH_DETERMINISTIC_REQUIRED deterministic ones; verification ignores it.
// Context is the FIPS 204/205 context string (at most 255 bytes).
//
// The vendor ML-DSA/SLH-DSA codes and the hybrid signature accept the same
// optional parameter; without one they sign with an empty context, as
// Craton's engine does.
type SignContext struct {
	Hedge   uint
	Context []byte
}

// Layouts of the parameter:
//   - C: the 3.2 struct, 3 CK_ULONG-sized fields (24 bytes on LP64); the
//     context is copied from pContext during the *Init call.
//   - In-process Go (NewMechanism(t, SignContext{...})): signCtxMagic ‖
//     hedge (CK_ULONG) ‖ context bytes, so that no Go pointer has to travel
//     inside a byte slice. It can never be mistaken for the C struct: its
//     first CK_ULONG is not a CKH_* value.
const (
	signCtxSize  = ulongSize + ptrSize + ulongSize
	signCtxMagic = "CRATONSC"
	maxSignCtx   = 255
)

func encodeSignContext(p SignContext) []byte {
	b := make([]byte, len(signCtxMagic)+ulongSize, len(signCtxMagic)+ulongSize+len(p.Context))
	copy(b, signCtxMagic)
	putUlong(b, len(signCtxMagic), uint64(p.Hedge))
	return append(b, p.Context...)
}

// ParseSignContext decodes the C layout of CK_SIGN_ADDITIONAL_CONTEXT (or
// the in-process encoding), dereferencing pContext.
func ParseSignContext(b []byte) (SignContext, error) {
	var p SignContext
	switch {
	case len(b) >= len(signCtxMagic)+ulongSize && string(b[:len(signCtxMagic)]) == signCtxMagic:
		p.Hedge = uint(getUlong(b, len(signCtxMagic)))
		p.Context = append([]byte(nil), b[len(signCtxMagic)+ulongSize:]...)
	case len(b) == signCtxSize:
		p.Hedge = uint(getUlong(b, 0))
		n := getUlong(b, ulongSize+ptrSize)
		if n > maxSignCtx {
			return p, errParamInvalid
		}
		ctx, err := derefC(b, ulongSize, n)
		if err != nil {
			return p, err
		}
		p.Context = ctx
	default:
		return p, errParamInvalid
	}
	if p.Hedge > ck.CKH_DETERMINISTIC_REQUIRED || len(p.Context) > maxSignCtx {
		return p, errParamInvalid
	}
	return p, nil
}

// signContext returns the (optional) sign parameter of m.
func signContext(m *pkcs11.Mechanism) (SignContext, error) {
	b, err := plainParam(m)
	if err != nil || len(b) == 0 {
		return SignContext{}, err
	}
	return ParseSignContext(b)
}
