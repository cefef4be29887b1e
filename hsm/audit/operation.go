package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/craton-co/craton/ck"
)

// Operation is what an audit entry records: a variant name and, for all but
// the unit variants, its arguments in Craton's field order. Build one with
// the constructors below (Sign, Login, SelfTest, ...). The zero Operation is
// invalid and Append refuses it.
//
// In JSON it uses serde's external tagging, as Craton's Rust enum does: a
// unit variant is a string ("Initialize"), any other a one-key object
// ({"Sign":{"mechanism":4164,"fips_approved":true}}).
type Operation struct {
	name string
	args []Arg
	enc  []byte // its JSON, set by Encoded (which checked it); nil otherwise
}

// Encoded returns o with its JSON checked and encoded once, for an
// operation that is appended many times (the engine caches the
// per-mechanism ones): Append then copies the encoding instead of checking
// and encoding o again. It returns o's schema error, if any.
func (o Operation) Encoded() (Operation, error) {
	if err := o.check(); err != nil {
		return o, err
	}
	o.enc = o.appendJSON(nil)
	return o, nil
}

// Arg is one argument of an Operation: Value is a uint64, a bool or a string.
type Arg struct {
	Key   string
	Value any
}

// kind is the JSON type of an argument.
type kind int

const (
	kUint kind = iota
	kBool
	kString
)

type argSpec struct {
	key  string
	kind kind
}

// variants is the schema of every operation craton writes or reads: Craton's
// v0 enum (reference §8) plus our additions CopyObject, SelfTest and POST. A
// nil spec is a unit variant. Argument order is serialization order.
var variants = func() map[string][]argSpec {
	mechFIPS := []argSpec{{"mechanism", kUint}, {"fips_approved", kBool}}
	keyGen := []argSpec{{"mechanism", kUint}, {"key_length", kUint}, {"fips_approved", kBool}}
	m := map[string][]argSpec{
		"OpenSession":     {{"slot_id", kUint}},
		"Login":           {{"user_type", kUint}},
		"InitToken":       {{"slot_id", kUint}},
		"InitPIN":         {{"slot_id", kUint}},
		"GenerateKey":     keyGen,
		"GenerateKeyPair": keyGen,
		"GenerateRandom":  {{"length", kUint}},
		"FindObjects":     {{"result_count", kUint}},
		"Zeroize":         {{"key_length", kUint}},
		"SelfTest":        {{"num", kUint}, {"name", kString}, {"passed", kBool}},
		"POST":            {{"passed", kBool}, {"failed_count", kUint}},
	}
	for _, n := range []string{"Sign", "Verify", "Encrypt", "Decrypt", "Digest", "WrapKey", "UnwrapKey", "DeriveKey"} {
		m[n] = mechFIPS
	}
	for _, n := range []string{"Initialize", "Finalize", "CloseSession", "Logout", "SetPIN",
		"CreateObject", "DestroyObject", "CopyObject", "GetAttributeValue"} {
		m[n] = nil
	}
	return m
}()

// OperationNames lists every operation name, sorted; Filter.Ops takes these.
func OperationNames() []string {
	names := make([]string, 0, len(variants))
	for n := range variants {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func unit(name string) Operation { return Operation{name: name} }

func u(key string, v uint) Arg   { return Arg{key, uint64(v)} }
func b(key string, v bool) Arg   { return Arg{key, v} }
func s(key string, v string) Arg { return Arg{key, v} }
func op(name string, args ...Arg) Operation {
	return Operation{name: name, args: args}
}

// Unit operations (no arguments).
func Initialize() Operation        { return unit("Initialize") }
func Finalize() Operation          { return unit("Finalize") }
func CloseSession() Operation      { return unit("CloseSession") }
func Logout() Operation            { return unit("Logout") }
func SetPIN() Operation            { return unit("SetPIN") }
func CreateObject() Operation      { return unit("CreateObject") }
func DestroyObject() Operation     { return unit("DestroyObject") }
func GetAttributeValue() Operation { return unit("GetAttributeValue") }

// CopyObject records C_CopyObject. Craton has no such variant (it does not
// audit C_CopyObject); it is one of our additions.
func CopyObject() Operation { return unit("CopyObject") }

// OpenSession records C_OpenSession on slot.
func OpenSession(slot uint) Operation { return op("OpenSession", u("slot_id", slot)) }

// Login records C_Login; userType is the CK_USER_TYPE (CKU_SO 0, CKU_USER 1).
func Login(userType uint) Operation { return op("Login", u("user_type", userType)) }

// InitToken records C_InitToken on slot.
func InitToken(slot uint) Operation { return op("InitToken", u("slot_id", slot)) }

// InitPIN records C_InitPIN on slot.
func InitPIN(slot uint) Operation { return op("InitPIN", u("slot_id", slot)) }

// GenerateKey records C_GenerateKey: mechanism, key length (bytes for
// secret keys, as CKA_VALUE_LEN) and whether the mechanism is FIPS-approved.
func GenerateKey(mech, keyLen uint, fips bool) Operation {
	return op("GenerateKey", u("mechanism", mech), u("key_length", keyLen), b("fips_approved", fips))
}

// GenerateKeyPair records C_GenerateKeyPair (key length in bits, e.g.
// CKA_MODULUS_BITS or the curve size).
func GenerateKeyPair(mech, keyLen uint, fips bool) Operation {
	return op("GenerateKeyPair", u("mechanism", mech), u("key_length", keyLen), b("fips_approved", fips))
}

func mechOp(name string, mech uint, fips bool) Operation {
	return op(name, u("mechanism", mech), b("fips_approved", fips))
}

// Sign records C_SignInit/C_Sign with mech.
func Sign(mech uint, fips bool) Operation { return mechOp("Sign", mech, fips) }

// VerifySignature records C_VerifyInit/C_Verify with mech: the variant
// named "Verify" in the log. (The package-level Verify checks a log file.)
func VerifySignature(mech uint, fips bool) Operation { return mechOp("Verify", mech, fips) }

// Encrypt records C_Encrypt with mech.
func Encrypt(mech uint, fips bool) Operation { return mechOp("Encrypt", mech, fips) }

// Decrypt records C_Decrypt with mech.
func Decrypt(mech uint, fips bool) Operation { return mechOp("Decrypt", mech, fips) }

// Digest records C_Digest with mech.
func Digest(mech uint, fips bool) Operation { return mechOp("Digest", mech, fips) }

// WrapKey records C_WrapKey with mech.
func WrapKey(mech uint, fips bool) Operation { return mechOp("WrapKey", mech, fips) }

// UnwrapKey records C_UnwrapKey with mech.
func UnwrapKey(mech uint, fips bool) Operation { return mechOp("UnwrapKey", mech, fips) }

// DeriveKey records C_DeriveKey with mech.
func DeriveKey(mech uint, fips bool) Operation { return mechOp("DeriveKey", mech, fips) }

// GenerateRandom records C_GenerateRandom of length bytes.
func GenerateRandom(length uint) Operation { return op("GenerateRandom", u("length", length)) }

// FindObjects records a completed search that found count objects.
func FindObjects(count uint) Operation { return op("FindObjects", u("result_count", count)) }

// Zeroize records the destruction of key material of keyLen bytes
// (Craton writes one per dropped key buffer; kept so its logs can be read).
func Zeroize(keyLen uint) Operation { return op("Zeroize", u("key_length", keyLen)) }

// SelfTest records one power-on self-test: its number (Craton's POST table
// numbers them 0–16), its name and whether it passed. Our addition
// (reference "How our engine should differ" 10). Session 0; by convention
// the entry's RV is 0 when passed and CKR_GENERAL_ERROR otherwise.
// JSON: {"SelfTest":{"num":1,"name":"SHA-256 KAT","passed":true}}.
func SelfTest(num uint, name string, passed bool) Operation {
	return op("SelfTest", u("num", num), s("name", name), b("passed", passed))
}

// POST records the overall power-on self-test result after the SelfTest
// entries: passed, and how many tests failed. Our addition. Session 0; RV
// 0 when passed, CKR_GENERAL_ERROR otherwise.
// JSON: {"POST":{"passed":false,"failed_count":1}}.
func POST(passed bool, failedCount uint) Operation {
	return op("POST", b("passed", passed), u("failed_count", failedCount))
}

// Name is the variant name, e.g. "Sign" ("" for the zero Operation).
func (o Operation) Name() string { return o.name }

// Args returns a copy of the arguments in serialization order.
func (o Operation) Args() []Arg { return slices.Clone(o.args) }

// Arg returns the argument named key.
func (o Operation) Arg(key string) (any, bool) {
	for _, a := range o.args {
		if a.Key == key {
			return a.Value, true
		}
	}
	return nil, false
}

// Mechanism returns the mechanism argument, if the operation has one.
func (o Operation) Mechanism() (uint, bool) {
	v, ok := o.Arg("mechanism")
	if !ok {
		return 0, false
	}
	return uint(v.(uint64)), true
}

// FIPSApproved returns the fips_approved argument, if the operation has one.
func (o Operation) FIPSApproved() (bool, bool) {
	v, ok := o.Arg("fips_approved")
	if !ok {
		return false, false
	}
	return v.(bool), true
}

// String renders the operation for people, naming mechanisms:
// Sign{mechanism=CKM_SHA256_RSA_PKCS, fips_approved=true}.
func (o Operation) String() string {
	if len(o.args) == 0 {
		return o.name
	}
	parts := make([]string, len(o.args))
	for i, a := range o.args {
		v := fmt.Sprint(a.Value)
		if a.Key == "mechanism" {
			v = ck.MechName(uint(a.Value.(uint64)))
		} else if str, ok := a.Value.(string); ok {
			v = strconv.Quote(str)
		}
		parts[i] = a.Key + "=" + v
	}
	return o.name + "{" + strings.Join(parts, ", ") + "}"
}

// check reports whether o matches its variant's schema.
func (o Operation) check() error {
	spec, ok := variants[o.name]
	if !ok {
		if o.name == "" {
			return fmt.Errorf("no operation")
		}
		return fmt.Errorf("unknown operation %q", o.name)
	}
	if len(o.args) != len(spec) {
		return fmt.Errorf("operation %s has %d arguments, want %d", o.name, len(o.args), len(spec))
	}
	for i, sp := range spec {
		a := o.args[i]
		if a.Key != sp.key {
			return fmt.Errorf("operation %s argument %d is %q, want %q", o.name, i, a.Key, sp.key)
		}
		var typeOK bool
		switch sp.kind {
		case kUint:
			_, typeOK = a.Value.(uint64)
		case kBool:
			_, typeOK = a.Value.(bool)
		case kString:
			var str string
			str, typeOK = a.Value.(string)
			if typeOK && !utf8.ValidString(str) {
				return fmt.Errorf("operation %s argument %s is not valid UTF-8", o.name, a.Key)
			}
		}
		if !typeOK {
			return fmt.Errorf("operation %s argument %s has type %T", o.name, a.Key, a.Value)
		}
	}
	return nil
}

// MarshalJSON writes serde's external tagging with the arguments in schema
// order and strings escaped as serde_json does.
func (o Operation) MarshalJSON() ([]byte, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	return o.appendJSON(nil), nil
}

// appendJSON appends o's JSON (MarshalJSON without the schema check): o
// is one check accepted, so a unit variant is one without arguments.
func (o Operation) appendJSON(buf []byte) []byte {
	if o.enc != nil {
		return append(buf, o.enc...)
	}
	if len(o.args) == 0 {
		return appendJSONString(buf, o.name)
	}
	buf = append(appendJSONString(append(buf, '{'), o.name), ':', '{')
	for i, a := range o.args {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(appendJSONString(buf, a.Key), ':')
		switch v := a.Value.(type) {
		case uint64:
			buf = strconv.AppendUint(buf, v, 10)
		case bool:
			buf = strconv.AppendBool(buf, v)
		case string:
			buf = appendJSONString(buf, v)
		}
	}
	return append(buf, '}', '}')
}

// UnmarshalJSON reads one operation, checking it against the schema:
// unknown variants, missing, extra or mistyped arguments are errors.
// Argument order is not checked here; the canonical-form check of a whole
// line catches it.
func (o *Operation) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '"' {
		var name string
		if err := json.Unmarshal(data, &name); err != nil {
			return err
		}
		spec, ok := variants[name]
		if !ok {
			return fmt.Errorf("unknown operation %q", name)
		}
		if spec != nil {
			return fmt.Errorf("operation %s needs arguments", name)
		}
		*o = Operation{name: name}
		return nil
	}
	var outer map[string]json.RawMessage
	if err := json.Unmarshal(data, &outer); err != nil {
		return fmt.Errorf("operation: %w", err)
	}
	if len(outer) != 1 {
		return fmt.Errorf("operation object has %d keys, want 1", len(outer))
	}
	for name, raw := range outer {
		spec, ok := variants[name]
		if !ok {
			return fmt.Errorf("unknown operation %q", name)
		}
		if spec == nil {
			return fmt.Errorf("operation %s takes no arguments", name)
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err != nil {
			return fmt.Errorf("operation %s: %w", name, err)
		}
		if len(fields) != len(spec) {
			return fmt.Errorf("operation %s has %d arguments, want %d", name, len(fields), len(spec))
		}
		args := make([]Arg, len(spec))
		for i, sp := range spec {
			fv, ok := fields[sp.key]
			if !ok {
				return fmt.Errorf("operation %s lacks argument %s", name, sp.key)
			}
			var err error
			switch sp.kind {
			case kUint:
				var n uint64
				n, err = strconv.ParseUint(string(fv), 10, 64)
				args[i] = Arg{sp.key, n}
			case kBool:
				var v bool
				err = json.Unmarshal(fv, &v)
				args[i] = Arg{sp.key, v}
			case kString:
				var v string
				err = json.Unmarshal(fv, &v)
				args[i] = Arg{sp.key, v}
			}
			if err != nil {
				return fmt.Errorf("operation %s argument %s: %w", name, sp.key, err)
			}
		}
		*o = Operation{name: name, args: args}
	}
	return nil
}

// appendJSONString appends s as a JSON string escaped exactly as serde_json
// escapes it: \" \\ \b \f \n \r \t, other bytes below 0x20 as \u00xx
// (lowercase hex), everything else (including <, >, &, U+2028, U+2029 and
// DEL) as is. encoding/json differs on U+2028/U+2029 (always escaped) and,
// by default, on < > &, which is why strings in the payload go through here.
// s must be valid UTF-8 (Rust strings always are).
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	plain := 0 // s[:plain] needs no escape: appended at once
	for plain < len(s) && s[plain] >= 0x20 && s[plain] != '"' && s[plain] != '\\' {
		plain++
	}
	dst = append(dst, s[:plain]...)
	for i := plain; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\b':
			dst = append(dst, '\\', 'b')
		case c == '\f':
			dst = append(dst, '\\', 'f')
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}
