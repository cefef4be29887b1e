package mech

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"strconv"
	"unsafe"

	"github.com/miekg/pkcs11"
)

// Decoded forms of the mechanism parameter structures. See the package
// documentation for the three ways a parameter can reach this package.

// GCMParams is a decoded CK_GCM_PARAMS.
type GCMParams struct {
	IV, AAD []byte
	TagBits int
}

// OAEPParams is a decoded CK_RSA_PKCS_OAEP_PARAMS (Source is CKZ_DATA_SPECIFIED
// with Label as the source data).
type OAEPParams struct {
	Hash, MGF, Source uint
	Label             []byte
}

// PSSParams is a decoded CK_RSA_PKCS_PSS_PARAMS.
type PSSParams struct {
	Hash, MGF uint
	SaltLen   int
}

// CTRParams is a decoded CK_AES_CTR_PARAMS.
type CTRParams struct {
	CounterBits int
	CB          [16]byte
}

// ECDH1Params is a decoded CK_ECDH1_DERIVE_PARAMS.
type ECDH1Params struct {
	KDF                    uint
	SharedData, PublicData []byte
}

// C layout of CK_ULONG and pointers on the LP64 and ILP32 platforms this
// engine targets (CK_ULONG is C unsigned long, as wide as a pointer there).
const (
	ulongSize = strconv.IntSize / 8
	ptrSize   = ulongSize
)

// Sizes of the C parameter structures.
const (
	pssSize      = 3 * ulongSize                                 // hashAlg, mgf, sLen
	ctrSize      = ulongSize + 16                                // ulCounterBits, cb[16]
	macGenSize   = ulongSize                                     // CK_MAC_GENERAL_PARAMS
	gcmSize      = ptrSize + 2*ulongSize + ptrSize + 2*ulongSize // pIv, ulIvLen, ulIvBits, pAAD, ulAADLen, ulTagBits
	gcmSizeNoIVB = gcmSize - ulongSize                           // v3.0-draft headers without ulIvBits
	oaepSize     = 3*ulongSize + ptrSize + ulongSize             // hashAlg, mgf, source, pSourceData, ulSourceDataLen
	ecdh1Size    = 2*ulongSize + ptrSize + ulongSize + ptrSize   // kdf, ulSharedDataLen, pSharedData, ulPublicDataLen, pPublicData
)

func getUlong(b []byte, off int) uint64 {
	if ulongSize == 4 {
		return uint64(binary.NativeEndian.Uint32(b[off:]))
	}
	return binary.NativeEndian.Uint64(b[off:])
}

func putUlong(b []byte, off int, v uint64) {
	if ulongSize == 4 {
		binary.NativeEndian.PutUint32(b[off:], uint32(v))
		return
	}
	binary.NativeEndian.PutUint64(b[off:], v)
}

// ulongBytes encodes a CK_ULONG attribute value (native width and order).
func ulongBytes(v uint64) []byte {
	b := make([]byte, ulongSize)
	putUlong(b, 0, v)
	return b
}

// NewMechanism builds a *pkcs11.Mechanism carrying p, which may be nil, a
// []byte, or one of GCMParams, OAEPParams, ECDH1Params (converted to the
// miekg/pkcs11 parameter objects, exactly as an application using
// pkcs11.NewGCMParams & co. would), PSSParams, CTRParams (encoded to their C
// layout). It panics on any other type, like pkcs11.NewMechanism.
func NewMechanism(t uint, p any) *pkcs11.Mechanism {
	switch p := p.(type) {
	case nil:
		return pkcs11.NewMechanism(t, nil)
	case []byte:
		return pkcs11.NewMechanism(t, p)
	case GCMParams:
		return pkcs11.NewMechanism(t, pkcs11.NewGCMParams(p.IV, p.AAD, p.TagBits))
	case OAEPParams:
		return pkcs11.NewMechanism(t, pkcs11.NewOAEPParams(p.Hash, p.MGF, p.Source, p.Label))
	case ECDH1Params:
		return pkcs11.NewMechanism(t, pkcs11.NewECDH1DeriveParams(p.KDF, p.SharedData, p.PublicData))
	case PSSParams:
		return pkcs11.NewMechanism(t, pkcs11.NewPSSParams(p.Hash, p.MGF, uint(p.SaltLen)))
	case SignContext:
		return pkcs11.NewMechanism(t, encodeSignContext(p))
	case CTRParams:
		b := make([]byte, ctrSize)
		putUlong(b, 0, uint64(p.CounterBits))
		copy(b[ulongSize:], p.CB[:])
		return pkcs11.NewMechanism(t, b)
	}
	panic("mech.NewMechanism: unsupported parameter type " + reflect.TypeOf(p).String())
}

// ParsePSSParams decodes the C layout of CK_RSA_PKCS_PSS_PARAMS, which is
// what pkcs11.NewPSSParams returns.
func ParsePSSParams(b []byte) (PSSParams, error) {
	if len(b) != pssSize {
		return PSSParams{}, errParamInvalid
	}
	sLen := getUlong(b, 2*ulongSize)
	if sLen > 1<<16 {
		return PSSParams{}, errParamInvalid
	}
	return PSSParams{Hash: uint(getUlong(b, 0)), MGF: uint(getUlong(b, ulongSize)), SaltLen: int(sLen)}, nil
}

// ParseCTRParams decodes CK_AES_CTR_PARAMS. A bare 16-byte counter block is
// also accepted (Craton's format) and means a 128-bit counter.
func ParseCTRParams(b []byte) (CTRParams, error) {
	var p CTRParams
	switch len(b) {
	case 16:
		p.CounterBits = 128
		copy(p.CB[:], b)
	case ctrSize:
		bits := getUlong(b, 0)
		if bits == 0 || bits > 128 {
			return p, errParamInvalid
		}
		p.CounterBits = int(bits)
		copy(p.CB[:], b[ulongSize:])
	default:
		return p, errParamInvalid
	}
	return p, nil
}

// ParseGCMParams decodes the C layout of CK_GCM_PARAMS (with or without the
// ulIvBits member), dereferencing pIv and pAAD. The pointers must be valid
// for the duration of the call; see the package documentation.
func ParseGCMParams(b []byte) (GCMParams, error) {
	var p GCMParams
	var ivLen, aadOff, aadLen, tagBits uint64
	switch len(b) {
	case gcmSize:
		ivLen = getUlong(b, ptrSize)
		aadOff = ptrSize + 2*ulongSize
	case gcmSizeNoIVB:
		ivLen = getUlong(b, ptrSize)
		aadOff = ptrSize + ulongSize
	default:
		return p, errParamInvalid
	}
	aadLen = getUlong(b, int(aadOff)+ptrSize)
	tagBits = getUlong(b, int(aadOff)+ptrSize+ulongSize)
	if tagBits > 128 {
		return p, errParamInvalid
	}
	var err error
	if p.IV, err = derefC(b, 0, ivLen); err != nil {
		return p, err
	}
	if p.AAD, err = derefC(b, int(aadOff), aadLen); err != nil {
		return p, err
	}
	p.TagBits = int(tagBits)
	return p, nil
}

// ParseOAEPParams decodes the C layout of CK_RSA_PKCS_OAEP_PARAMS,
// dereferencing pSourceData.
func ParseOAEPParams(b []byte) (OAEPParams, error) {
	if len(b) != oaepSize {
		return OAEPParams{}, errParamInvalid
	}
	p := OAEPParams{Hash: uint(getUlong(b, 0)), MGF: uint(getUlong(b, ulongSize)), Source: uint(getUlong(b, 2*ulongSize))}
	label, err := derefC(b, 3*ulongSize, getUlong(b, 3*ulongSize+ptrSize))
	p.Label = label
	return p, err
}

// ParseECDH1Params decodes the C layout of CK_ECDH1_DERIVE_PARAMS,
// dereferencing pSharedData and pPublicData. Any other length is taken as
// Craton's legacy parameter, the bare peer point, with kdf = CKD_NULL.
func ParseECDH1Params(b []byte) (kdf uint, shared, public []byte, err error) {
	if len(b) != ecdh1Size {
		return pkcs11.CKD_NULL, nil, bytes.Clone(b), nil
	}
	kdf = uint(getUlong(b, 0))
	if shared, err = derefC(b, 2*ulongSize, getUlong(b, ulongSize)); err != nil {
		return 0, nil, nil, err
	}
	off := 2*ulongSize + ptrSize
	if public, err = derefC(b, off+ulongSize, getUlong(b, off)); err != nil {
		return 0, nil, nil, err
	}
	return kdf, shared, public, nil
}

// maxParamData bounds a length read from a C parameter structure, so that a
// garbage length cannot trigger a huge allocation.
const maxParamData = 64 << 20

// miekg/pkcs11 keeps the parameter object an in-process Go caller (or the
// C-ABI shim, capi/decode.go) attached with pkcs11.NewMechanism(t,
// *pkcs11.GCMParams / *OAEPParams / *ECDH1DeriveParams) in the unexported
// field Mechanism.generator, and GCMParams keeps IV, AAD and tag size in
// unexported fields too; it only serialises them to C memory inside its
// own C calls. Their offsets are looked up by reflection once, here, with
// their types checked, and read through unsafe on each call (a per-call
// reflect.FieldByName cost ~0.1 µs on every parameterless *Init and
// ~0.5 µs on a GCM one). The fields are read, never written. If the
// dependency's layout ever changes, miekgLayout.ok is false and every
// miekg parameter object is refused with CKR_MECHANISM_PARAM_INVALID
// (TestMiekgLayout fails first).
var miekgLayout = func() (l struct {
	generator, gcmIV, gcmAAD, gcmTag uintptr
	ok                               bool
}) {
	field := func(t reflect.Type, name string, want reflect.Type) (uintptr, bool) {
		f, ok := t.FieldByName(name)
		return f.Offset, ok && f.Type == want && len(f.Index) == 1
	}
	bytesType := reflect.TypeFor[[]byte]()
	var ok [4]bool
	l.generator, ok[0] = field(reflect.TypeFor[pkcs11.Mechanism](), "generator", reflect.TypeFor[any]())
	gcm := reflect.TypeFor[pkcs11.GCMParams]()
	l.gcmIV, ok[1] = field(gcm, "iv", bytesType)
	l.gcmAAD, ok[2] = field(gcm, "aad", bytesType)
	l.gcmTag, ok[3] = field(gcm, "tagSize", reflect.TypeFor[int]())
	l.ok = ok == [4]bool{true, true, true, true}
	return l
}()

// unreadableParam stands for a miekg parameter object whose layout is not
// the one miekgLayout knows.
type unreadableParam struct{}

// miekgParam returns the parameter object attached to m (nil if none).
func miekgParam(m *pkcs11.Mechanism) any {
	if !miekgLayout.ok {
		g := reflect.ValueOf(m).Elem().FieldByName("generator")
		if g.IsValid() && g.Kind() == reflect.Interface && g.IsNil() {
			return nil
		}
		return unreadableParam{}
	}
	return *(*any)(unsafe.Add(unsafe.Pointer(m), miekgLayout.generator))
}

// miekgGCM reads the fields of a *pkcs11.GCMParams; IV and AAD are copied
// (into one allocation), so that the caller may reuse its buffers after
// the *Init.
func miekgGCM(g *pkcs11.GCMParams) GCMParams {
	base := unsafe.Pointer(g)
	iv := *(*[]byte)(unsafe.Add(base, miekgLayout.gcmIV))
	aad := *(*[]byte)(unsafe.Add(base, miekgLayout.gcmAAD))
	p := GCMParams{TagBits: *(*int)(unsafe.Add(base, miekgLayout.gcmTag))}
	if n := len(iv) + len(aad); n > 0 {
		buf := make([]byte, n)
		copy(buf, iv)
		copy(buf[len(iv):], aad)
		if len(iv) > 0 {
			p.IV = buf[:len(iv):len(iv)]
		}
		if len(aad) > 0 {
			p.AAD = buf[len(iv):]
		}
	}
	return p
}

// gcmParams returns the GCM parameter of m; ok is false when m carries none
// (Craton's generated-nonce mode).
func gcmParams(m *pkcs11.Mechanism) (p GCMParams, ok bool, err error) {
	switch g := miekgParam(m).(type) {
	case nil:
	case *pkcs11.GCMParams:
		if g == nil {
			return p, false, errParamInvalid
		}
		return miekgGCM(g), true, nil
	default:
		return p, false, errParamInvalid
	}
	if len(m.Parameter) == 0 {
		return p, false, nil
	}
	p, err = ParseGCMParams(m.Parameter)
	return p, err == nil, err
}

// oaepParams returns the (mandatory) OAEP parameter of m.
func oaepParams(m *pkcs11.Mechanism) (OAEPParams, error) {
	switch g := miekgParam(m).(type) {
	case nil:
	case *pkcs11.OAEPParams:
		if g == nil {
			return OAEPParams{}, errParamInvalid
		}
		return OAEPParams{Hash: g.HashAlg, MGF: g.MGF, Source: g.SourceType, Label: bytes.Clone(g.SourceData)}, nil
	default:
		return OAEPParams{}, errParamInvalid
	}
	return ParseOAEPParams(m.Parameter)
}

// ecdh1Params returns the ECDH parameter of m.
func ecdh1Params(m *pkcs11.Mechanism) (ECDH1Params, error) {
	switch g := miekgParam(m).(type) {
	case nil:
	case *pkcs11.ECDH1DeriveParams:
		if g == nil {
			return ECDH1Params{}, errParamInvalid
		}
		return ECDH1Params{KDF: g.KDF, SharedData: bytes.Clone(g.SharedData), PublicData: bytes.Clone(g.PublicKeyData)}, nil
	default:
		return ECDH1Params{}, errParamInvalid
	}
	kdf, shared, public, err := ParseECDH1Params(m.Parameter)
	return ECDH1Params{KDF: kdf, SharedData: shared, PublicData: public}, err
}

// plainParam returns m's parameter bytes and refuses the pointer-carrying
// miekg objects, which no mechanism taking a flat parameter accepts.
func plainParam(m *pkcs11.Mechanism) ([]byte, error) {
	if miekgParam(m) != nil {
		return nil, errParamInvalid
	}
	return m.Parameter, nil
}

// noParam checks that m carries no parameter.
func noParam(m *pkcs11.Mechanism) error {
	b, err := plainParam(m)
	if err == nil && len(b) != 0 {
		err = errParamInvalid
	}
	return err
}

// macGeneralLen decodes CK_MAC_GENERAL_PARAMS and checks 1 <= len <= max.
func macGeneralLen(m *pkcs11.Mechanism, max int) (int, error) {
	b, err := plainParam(m)
	if err != nil || len(b) != macGenSize {
		return 0, errParamInvalid
	}
	n := getUlong(b, 0)
	if n == 0 || n > uint64(max) {
		return 0, errParamInvalid
	}
	return int(n), nil
}
