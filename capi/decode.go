package main

// Pure-Go decoding of the C argument structures (templates, mechanisms and
// their parameters) and of the two-call length idiom. Everything here works
// on byte slices holding the C layout plus a deref function that copies
// from a C address, so that it can be fuzzed without C memory
// (FuzzDecode). The cgo side (exports.go) copies the C arrays into Go and
// passes craton_copy_from as deref.

import (
	"encoding/binary"
	"strconv"

	"github.com/miekg/pkcs11"
)

// C layout on the LP64 (and ILP32) platforms the library targets: CK_ULONG
// is C unsigned long, as wide as a pointer.
const (
	ulongSize = strconv.IntSize / 8
	ptrSize   = ulongSize

	attrSize = ulongSize + ptrSize + ulongSize // CK_ATTRIBUTE {type, pValue, ulValueLen}
	mechSize = ulongSize + ptrSize + ulongSize // CK_MECHANISM {mechanism, pParameter, ulParameterLen}

	gcmSize      = ptrSize + 2*ulongSize + ptrSize + 2*ulongSize // pIv, ulIvLen, ulIvBits, pAAD, ulAADLen, ulTagBits
	gcmSizeNoIVB = gcmSize - ulongSize                           // headers without ulIvBits
	oaepSize     = 3*ulongSize + ptrSize + ulongSize             // hashAlg, mgf, source, pSourceData, ulSourceDataLen
	ecdh1Size    = 2*ulongSize + ptrSize + ulongSize + ptrSize   // kdf, ulSharedDataLen, pSharedData, ulPublicDataLen, pPublicData
)

// ABI input limits (reference §0).
const (
	maxTemplateLen = 256      // attributes per template (CKR_ARGUMENTS_BAD above)
	maxAttrValue   = 64 << 10 // bytes per attribute value (CKR_ATTRIBUTE_VALUE_INVALID above)
	maxData        = 64 << 20 // bytes of data per call (CKR_DATA_LEN_RANGE above)
	maxParam       = 64 << 20 // bytes of a mechanism parameter or a member it points to
	maxPIN         = 256      // bytes of a PIN (CKR_PIN_LEN_RANGE above)
)

// unavailable is CK_UNAVAILABLE_INFORMATION, (CK_ULONG)-1.
const unavailable = ^uint64(0) >> (64 - 8*ulongSize)

// deref copies n bytes starting at the C address addr. It is only called
// with addr != 0 and 0 < n <= the relevant limit.
type deref func(addr uint64, n int) []byte

// rvError is a CK_RV as a Go error (the same type the engine returns).
func rvError(rv uint) error { return pkcs11.Error(rv) }

func getUlong(b []byte, off int) uint64 {
	if ulongSize == 4 {
		return uint64(binary.NativeEndian.Uint32(b[off:]))
	}
	return binary.NativeEndian.Uint64(b[off:])
}

func getPtr(b []byte, off int) uint64 { return getUlong(b, off) }

// fetch copies n bytes from addr, with NULL and length checks; errRV is
// returned for a NULL address with n > 0 or n above limit.
func fetch(d deref, addr, n uint64, limit int, errRV uint) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	if addr == 0 || n > uint64(limit) {
		return nil, rvError(errRV)
	}
	return d(addr, int(n)), nil
}

// attrRef is one CK_ATTRIBUTE of a template as the caller laid it out.
type attrRef struct {
	Type uint
	Addr uint64 // pValue
	Len  uint64 // ulValueLen
}

// parseTemplate splits the C array raw (count*attrSize bytes) into its
// elements without touching the values.
func parseTemplate(raw []byte) []attrRef {
	refs := make([]attrRef, len(raw)/attrSize)
	for i := range refs {
		off := i * attrSize
		refs[i] = attrRef{
			Type: uint(getUlong(raw, off)),
			Addr: getPtr(raw, off+ulongSize),
			Len:  getUlong(raw, off+ulongSize+ptrSize),
		}
	}
	return refs
}

// checkCount validates a template length given with a pointer: count > 0
// needs a non-NULL array, and at most maxTemplateLen attributes.
func checkCount(isNull bool, count uint64) error {
	if count > maxTemplateLen || (count > 0 && isNull) {
		return rvError(pkcs11.CKR_ARGUMENTS_BAD)
	}
	return nil
}

// decodeTemplate turns an input template into the engine's form: every
// value copied, CK_ULONG values kept as the caller wrote them (native width
// and byte order), CK_BBOOL as one byte. Nested templates
// (CKF_ARRAY_ATTRIBUTE, e.g. CKA_WRAP_TEMPLATE) cannot be expressed as a
// flat value and are refused with CKR_ATTRIBUTE_VALUE_INVALID.
func decodeTemplate(raw []byte, d deref) ([]*pkcs11.Attribute, error) {
	refs := parseTemplate(raw)
	attrs := make([]*pkcs11.Attribute, 0, len(refs))
	for _, r := range refs {
		if r.Type&pkcs11.CKF_ARRAY_ATTRIBUTE != 0 && r.Len != 0 {
			return nil, rvError(pkcs11.CKR_ATTRIBUTE_VALUE_INVALID)
		}
		if r.Len > 0 && r.Addr == 0 {
			return nil, rvError(pkcs11.CKR_ARGUMENTS_BAD)
		}
		v, err := fetch(d, r.Addr, r.Len, maxAttrValue, pkcs11.CKR_ATTRIBUTE_VALUE_INVALID)
		if err != nil {
			return nil, err
		}
		if v == nil {
			v = []byte{}
		}
		attrs = append(attrs, &pkcs11.Attribute{Type: r.Type, Value: v})
	}
	return attrs, nil
}

// Decoded forms of the pointer-carrying parameter structures. They become
// the miekg/pkcs11 parameter objects (pkcs11.NewGCMParams & co.), which is
// the form hsm/mech reads (mech.NewMechanism does the same conversion).
type gcmParams struct {
	IV, AAD []byte
	TagBits int
}

type oaepParams struct {
	Hash, MGF, Source uint
	Label             []byte
}

type ecdh1Params struct {
	KDF            uint
	Shared, Public []byte
}

func decodeGCM(b []byte, d deref) (gcmParams, error) {
	var p gcmParams
	var aadOff int
	switch len(b) {
	case gcmSize:
		aadOff = ptrSize + 2*ulongSize
	case gcmSizeNoIVB:
		aadOff = ptrSize + ulongSize
	default:
		return p, rvError(pkcs11.CKR_MECHANISM_PARAM_INVALID)
	}
	tag := getUlong(b, aadOff+ptrSize+ulongSize)
	if tag > 128 {
		return p, rvError(pkcs11.CKR_MECHANISM_PARAM_INVALID)
	}
	var err error
	if p.IV, err = fetch(d, getPtr(b, 0), getUlong(b, ptrSize), maxParam, pkcs11.CKR_MECHANISM_PARAM_INVALID); err != nil {
		return p, err
	}
	if p.AAD, err = fetch(d, getPtr(b, aadOff), getUlong(b, aadOff+ptrSize), maxParam, pkcs11.CKR_MECHANISM_PARAM_INVALID); err != nil {
		return p, err
	}
	p.TagBits = int(tag)
	return p, nil
}

func decodeOAEP(b []byte, d deref) (oaepParams, error) {
	if len(b) != oaepSize {
		return oaepParams{}, rvError(pkcs11.CKR_MECHANISM_PARAM_INVALID)
	}
	p := oaepParams{Hash: uint(getUlong(b, 0)), MGF: uint(getUlong(b, ulongSize)), Source: uint(getUlong(b, 2*ulongSize))}
	var err error
	p.Label, err = fetch(d, getPtr(b, 3*ulongSize), getUlong(b, 3*ulongSize+ptrSize), maxParam, pkcs11.CKR_MECHANISM_PARAM_INVALID)
	return p, err
}

func decodeECDH1(b []byte, d deref) (ecdh1Params, error) {
	if len(b) != ecdh1Size {
		return ecdh1Params{}, rvError(pkcs11.CKR_MECHANISM_PARAM_INVALID)
	}
	p := ecdh1Params{KDF: uint(getUlong(b, 0))}
	var err error
	if p.Shared, err = fetch(d, getPtr(b, 2*ulongSize), getUlong(b, ulongSize), maxParam, pkcs11.CKR_MECHANISM_PARAM_INVALID); err != nil {
		return p, err
	}
	off := 2*ulongSize + ptrSize
	p.Public, err = fetch(d, getPtr(b, off+ulongSize), getUlong(b, off), maxParam, pkcs11.CKR_MECHANISM_PARAM_INVALID)
	return p, err
}

// Mechanisms whose parameter structure holds pointers.
var (
	gcmMechs   = map[uint]bool{pkcs11.CKM_AES_GCM: true}
	oaepMechs  = map[uint]bool{pkcs11.CKM_RSA_PKCS_OAEP: true}
	ecdh1Mechs = map[uint]bool{pkcs11.CKM_ECDH1_DERIVE: true, pkcs11.CKM_ECDH1_COFACTOR_DERIVE: true}
)

// decodeMechanism turns one CK_MECHANISM (raw holds its mechSize bytes)
// into a *pkcs11.Mechanism. Flat parameters (IVs, CK_RSA_PKCS_PSS_PARAMS,
// CK_AES_CTR_PARAMS, CK_MAC_GENERAL_PARAMS, …) travel as their bytes;
// CK_GCM_PARAMS, CK_RSA_PKCS_OAEP_PARAMS and CK_ECDH1_DERIVE_PARAMS are
// dereferenced here and handed over as miekg/pkcs11 parameter objects, so
// no C pointer outlives the call. An ECDH parameter of any other size is
// Craton's legacy form (the bare peer point) and travels as bytes.
func decodeMechanism(raw []byte, d deref) (*pkcs11.Mechanism, error) {
	if len(raw) != mechSize {
		return nil, rvError(pkcs11.CKR_ARGUMENTS_BAD)
	}
	t := uint(getUlong(raw, 0))
	addr, n := getPtr(raw, ulongSize), getUlong(raw, ulongSize+ptrSize)
	if n > 0 && addr == 0 {
		return nil, rvError(pkcs11.CKR_MECHANISM_PARAM_INVALID)
	}
	b, err := fetch(d, addr, n, maxParam, pkcs11.CKR_MECHANISM_PARAM_INVALID)
	if err != nil {
		return nil, err
	}
	switch {
	case len(b) == 0:
		return pkcs11.NewMechanism(t, nil), nil
	case gcmMechs[t]:
		p, err := decodeGCM(b, d)
		if err != nil {
			return nil, err
		}
		return pkcs11.NewMechanism(t, pkcs11.NewGCMParams(p.IV, p.AAD, p.TagBits)), nil
	case oaepMechs[t]:
		p, err := decodeOAEP(b, d)
		if err != nil {
			return nil, err
		}
		return pkcs11.NewMechanism(t, pkcs11.NewOAEPParams(p.Hash, p.MGF, p.Source, p.Label)), nil
	case ecdh1Mechs[t] && len(b) == ecdh1Size:
		p, err := decodeECDH1(b, d)
		if err != nil {
			return nil, err
		}
		return pkcs11.NewMechanism(t, pkcs11.NewECDH1DeriveParams(p.KDF, p.Shared, p.Public)), nil
	}
	return pkcs11.NewMechanism(t, b), nil
}

// outcome is what the two-call length idiom makes of an output of length
// n for a caller buffer (isNull: pointer NULL; have: *pulLen on entry).
type outcome struct {
	Copy bool   // copy the output into the buffer
	Keep bool   // keep the output for the caller's next call
	Len  uint64 // value to store in *pulLen
	RV   uint
}

func lengthIdiom(n int, isNull bool, have uint64) outcome {
	switch {
	case isNull:
		return outcome{Keep: true, Len: uint64(n), RV: pkcs11.CKR_OK}
	case have < uint64(n):
		return outcome{Keep: true, Len: uint64(n), RV: pkcs11.CKR_BUFFER_TOO_SMALL}
	}
	return outcome{Copy: true, Len: uint64(n), RV: pkcs11.CKR_OK}
}

// attrOut is the C_GetAttributeValue outcome for one attribute.
type attrOut struct {
	Copy bool
	Len  uint64 // new ulValueLen
	RV   uint   // CKR_OK, CKR_ATTRIBUTE_SENSITIVE, CKR_ATTRIBUTE_TYPE_INVALID, CKR_BUFFER_TOO_SMALL
}

// attrIdiom applies the per-attribute rules of C_GetAttributeValue
// (v2.40 5.7): unreadable → CK_UNAVAILABLE_INFORMATION with the engine's
// reason; NULL pValue → the length; too small → CK_UNAVAILABLE_INFORMATION
// and CKR_BUFFER_TOO_SMALL; else copy.
func attrIdiom(value []byte, rv uint, isNull bool, have uint64) attrOut {
	switch {
	case rv != pkcs11.CKR_OK:
		return attrOut{Len: unavailable, RV: rv}
	case isNull:
		return attrOut{Len: uint64(len(value)), RV: pkcs11.CKR_OK}
	case have < uint64(len(value)):
		return attrOut{Len: unavailable, RV: pkcs11.CKR_BUFFER_TOO_SMALL}
	}
	return attrOut{Copy: true, Len: uint64(len(value)), RV: pkcs11.CKR_OK}
}

// overallAttrRV combines the per-attribute results: OK if all are OK,
// otherwise the first of SENSITIVE, TYPE_INVALID, BUFFER_TOO_SMALL found in
// that order of precedence (the spec allows any of them).
func overallAttrRV(rvs []uint) uint {
	best := uint(pkcs11.CKR_OK)
	rank := func(rv uint) int {
		switch rv {
		case pkcs11.CKR_ATTRIBUTE_SENSITIVE:
			return 3
		case pkcs11.CKR_ATTRIBUTE_TYPE_INVALID:
			return 2
		case pkcs11.CKR_BUFFER_TOO_SMALL:
			return 1
		}
		return 0
	}
	for _, rv := range rvs {
		if rank(rv) > rank(best) {
			best = rv
		}
	}
	return best
}
