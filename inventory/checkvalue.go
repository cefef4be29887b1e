package inventory

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// checkLen is how many bytes of the computed value are kept: 8 bytes (64
// bits) tell keys apart far better than the 3-byte KCV of CKA_CHECK_VALUE,
// and still reveal nothing useful about the key.
const checkLen = 8

// checkMethod is one way to compute a key check value inside the token,
// without exporting the key. The target computes the same to prove that a
// moved key is the same key.
type checkMethod struct {
	name  string // Record.CheckMethod
	mech  uint
	iv    []byte
	sign  bool // C_Sign (MAC) rather than C_Encrypt
	input []byte
}

var (
	zero16 = make([]byte, 16)
	zero8  = make([]byte, 8)
	// checkMethods in order of preference per key type. ECB and CBC with a
	// zero IV give the same first block. HMAC input is a fixed, label-free
	// 16-byte constant (all zero). SHA-1 HMAC is the fallback for generic
	// secrets shorter than 32 bytes: SoftHSM refuses them for SHA256-HMAC.
	checkMethods = map[uint][]checkMethod{
		pkcs11.CKK_AES: {
			{name: "AES-ECB(0^128)[:8]", mech: pkcs11.CKM_AES_ECB, input: zero16},
			{name: "AES-CBC(iv=0,0^128)[:8]", mech: pkcs11.CKM_AES_CBC, iv: zero16, input: zero16},
			{name: "AES-CMAC(0^128)[:8]", mech: pkcs11.CKM_AES_CMAC, sign: true, input: zero16},
		},
		pkcs11.CKK_GENERIC_SECRET: {
			{name: "HMAC-SHA256(0^128)[:8]", mech: pkcs11.CKM_SHA256_HMAC, sign: true, input: zero16},
			{name: "HMAC-SHA1(0^128)[:8]", mech: pkcs11.CKM_SHA_1_HMAC, sign: true, input: zero16},
		},
		pkcs11.CKK_DES3: {{name: "DES3-ECB(0^64)[:8]", mech: pkcs11.CKM_DES3_ECB, input: zero8}},
		pkcs11.CKK_DES2: {{name: "DES3-ECB(0^64)[:8]", mech: pkcs11.CKM_DES3_ECB, input: zero8}},
		pkcs11.CKK_DES:  {{name: "DES-ECB(0^64)[:8]", mech: pkcs11.CKM_DES_ECB, input: zero8}},
	}
)

// checkValue computes a secret key's check value in the token. It returns
// the hex value and the method, or "" and "none: <why>".
func checkValue(s *p11.Session, mechs mechSet, o object, r *Record) (string, string) {
	methods := methodsFor(o.keyType, r.Bytes)
	if len(methods) == 0 {
		return "", "none: no check method for " + ck.KeyTypeName(o.keyType)
	}
	var failed []string
	permitted := false
	for _, m := range methods {
		if (m.sign && !Is(r.Sign)) || (!m.sign && !Is(r.Encrypt)) {
			continue
		}
		permitted = true
		flag := uint(pkcs11.CKF_ENCRYPT)
		if m.sign {
			flag = pkcs11.CKF_SIGN
		}
		if !mechs.has(m.mech, flag) {
			failed = append(failed, ck.MechName(m.mech)+" not offered")
			continue
		}
		out, err := runCheck(s, o.h, m)
		if err == nil && len(out) >= checkLen {
			return hex.EncodeToString(out[:checkLen]), m.name
		}
		failed = append(failed, fmt.Sprintf("%s: %s", m.name, ck.RVName(p11.RV(err))))
	}
	if !permitted {
		return "", "none: key allows no operation (CKA_ENCRYPT and CKA_SIGN not TRUE)"
	}
	return "", "none: " + strings.Join(failed, "; ")
}

// methodsFor orders the check methods so that every module picks the same
// one for the same key: a generic secret shorter than 32 bytes uses
// HMAC-SHA1 first, because SoftHSMv2 refuses it for HMAC-SHA256 while other
// modules accept it — a preference by module would make the same key's
// check values differ between source and target.
func methodsFor(keyType uint, keyBytes int) []checkMethod {
	methods := checkMethods[keyType]
	if keyType == pkcs11.CKK_GENERIC_SECRET && keyBytes > 0 && keyBytes < 32 {
		return []checkMethod{methods[1], methods[0]}
	}
	return methods
}

func runCheck(s *p11.Session, h pkcs11.ObjectHandle, m checkMethod) ([]byte, error) {
	var param any
	if m.iv != nil {
		param = m.iv
	}
	mech := []*pkcs11.Mechanism{pkcs11.NewMechanism(m.mech, param)}
	if m.sign {
		if err := s.M.SignInit(s.H, mech, h); err != nil {
			return nil, err
		}
		return s.M.Sign(s.H, m.input)
	}
	if err := s.M.EncryptInit(s.H, mech, h); err != nil {
		return nil, err
	}
	return s.M.Encrypt(s.H, m.input)
}

// sameFunction groups check methods that compute the same function: one
// zero block under CBC with a zero IV is that block under ECB, so a key
// checked with AES-ECB on one module and AES-CBC on another (the Craton
// engine offers no CKM_AES_ECB) shows the same value.
var sameFunction = map[string]string{
	"AES-ECB(0^128)[:8]":      "AES(0^128)[:8]",
	"AES-CBC(iv=0,0^128)[:8]": "AES(0^128)[:8]",
}

// SameCheckValue reports whether two records show the same secret key by
// their check values: both computed, equal, by the same function.
func SameCheckValue(a, b Record) bool {
	if a.CheckValue == "" || a.CheckValue != b.CheckValue {
		return false
	}
	fa, fb := a.CheckMethod, b.CheckMethod
	if f, ok := sameFunction[fa]; ok {
		fa = f
	}
	if f, ok := sameFunction[fb]; ok {
		fb = f
	}
	return fa == fb
}
