package main

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/craton-co/craton/errs"
	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// backend is what the C layer drives: the miekg/pkcs11 method set
// (p11.Module) plus the lifecycle. *hsm.Ctx is one (engine_hsm.go).
type backend interface {
	p11.Module
	Initialize() error
	Finalize() error
}

// Optional extras a backend may have (both *hsm.Ctx and *pkcs11.Ctx do).
type (
	digestKeyer interface {
		DigestKey(sh pkcs11.SessionHandle, key pkcs11.ObjectHandle) error
	}
	seeder interface {
		SeedRandom(sh pkcs11.SessionHandle, seed []byte) error
	}
	opStater interface {
		GetOperationState(sh pkcs11.SessionHandle) ([]byte, error)
		SetOperationState(sh pkcs11.SessionHandle, state []byte, encryptKey, authKey pkcs11.ObjectHandle) error
	}
)

// attrResult is one attribute of C_GetAttributeValue as the engine sees it.
type attrResult struct {
	Value []byte
	RV    uint // CKR_OK, CKR_ATTRIBUTE_SENSITIVE or CKR_ATTRIBUTE_TYPE_INVALID
}

// attrDetailer reports a CK_RV per attribute (engine_hsm.go adapts
// hsm's GetAttributeValueDetailed to it). Without it, attrsOf falls back on
// one call per attribute.
type attrDetailer interface {
	attrsDetailed(sh pkcs11.SessionHandle, oh pkcs11.ObjectHandle, types []uint) ([]attrResult, error)
}

// newBackend builds the engine from the configuration ($CRATON_HSM_CONFIG,
// ./craton_hsm.yaml or defaults); set by engine_hsm.go.
var newBackend func() (backend, error)

// lib is the library state. mu: Initialize/Finalize take it for writing,
// every other call for reading, so that Finalize waits for calls in
// flight and the backend pointer is stable during a call.
var lib struct {
	mu sync.RWMutex
	be backend
}

// current returns the backend with the read lock held; release with
// lib.mu.RUnlock(). A nil backend means not initialised.
func current() backend {
	lib.mu.RLock()
	return lib.be
}

func initialize(forkedChild bool) uint {
	lib.mu.Lock()
	defer lib.mu.Unlock()
	if forkedChild {
		// Opt-in re-initialisation in a child (CRATON_HSM_ALLOW_CHILD_INIT=1):
		// forget the parent's engine without finalising it — its store lock
		// and files belong to the parent.
		lib.be = nil
		pend.reset()
	}
	if lib.be != nil {
		return pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED
	}
	if newBackend == nil {
		reportOnce("libcraton_hsm: no engine compiled into this library")
		return pkcs11.CKR_GENERAL_ERROR
	}
	syncEnv()
	be, err := newBackend()
	if err == nil {
		err = be.Initialize()
	}
	if err != nil {
		// C callers only see the CK_RV; say why once on stderr (e.g.
		// "Database at <path> is locked by another process").
		reportOnce("libcraton_hsm: C_Initialize: " + err.Error())
		rv := rvOf(err)
		if rv == pkcs11.CKR_OK || rv == pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED {
			rv = pkcs11.CKR_GENERAL_ERROR
		}
		return rv
	}
	lib.be = be
	return pkcs11.CKR_OK
}

func finalize() uint {
	lib.mu.Lock()
	defer lib.mu.Unlock()
	if lib.be == nil {
		return pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED
	}
	err := lib.be.Finalize()
	lib.be = nil
	pend.reset()
	return rvOf(err)
}

var reported sync.Map

// reportOnce prints msg to stderr the first time it is seen.
func reportOnce(msg string) {
	if _, dup := reported.LoadOrStore(msg, true); !dup {
		fmt.Fprintln(os.Stderr, msg)
	}
}

// rvOf maps an engine error to its CK_RV: pkcs11.Error as is, *errs.Error by
// the CK_RV it carries (a locked store: CKR_GENERAL_ERROR), anything else
// CKR_GENERAL_ERROR.
func rvOf(err error) uint {
	if err == nil {
		return pkcs11.CKR_OK
	}
	var pe pkcs11.Error
	if errors.As(err, &pe) {
		return uint(pe)
	}
	var ee *errs.Error
	if errors.As(err, &ee) && ee.Kind == errs.KindStoreLocked {
		return pkcs11.CKR_GENERAL_ERROR
	}
	if rv := errs.RVOf(err); rv != 0 {
		return rv
	}
	return pkcs11.CKR_GENERAL_ERROR
}

// attrsOf reads the attributes types of an object with a CK_RV each.
func attrsOf(be backend, sh pkcs11.SessionHandle, oh pkcs11.ObjectHandle, types []uint) ([]attrResult, error) {
	if d, ok := be.(attrDetailer); ok {
		return d.attrsDetailed(sh, oh, types)
	}
	tmpl := make([]*pkcs11.Attribute, len(types))
	for i, t := range types {
		tmpl[i] = pkcs11.NewAttribute(t, nil)
	}
	got, err := be.GetAttributeValue(sh, oh, tmpl)
	out := make([]attrResult, len(types))
	if err == nil && len(got) == len(types) {
		for i := range got {
			out[i] = attrResult{Value: got[i].Value}
		}
		return out, nil
	}
	switch rvOf(err) {
	case pkcs11.CKR_ATTRIBUTE_SENSITIVE, pkcs11.CKR_ATTRIBUTE_TYPE_INVALID:
	default:
		if err == nil {
			err = rvError(pkcs11.CKR_GENERAL_ERROR)
		}
		return nil, err
	}
	// Some attribute is unreadable: ask one at a time to know which.
	for i, t := range types {
		g, err := be.GetAttributeValue(sh, oh, []*pkcs11.Attribute{pkcs11.NewAttribute(t, nil)})
		switch rv := rvOf(err); {
		case rv == pkcs11.CKR_OK && len(g) == 1:
			out[i] = attrResult{Value: g[0].Value}
		case rv == pkcs11.CKR_ATTRIBUTE_SENSITIVE || rv == pkcs11.CKR_ATTRIBUTE_TYPE_INVALID:
			out[i] = attrResult{RV: rv}
		default:
			return nil, err
		}
	}
	return out, nil
}
