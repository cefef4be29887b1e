package inventory

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// column is one CSV column: how to print a field and how to parse and
// check it back.
type column struct {
	name string
	get  func(*Record) string
	set  func(*Record, string) error
}

// columns is the CSV layout. The first sixteen are the guide's list in its
// order; the rest follow. Changing it breaks readers: add at the end.
var columns = []column{
	textCol("label", func(r *Record) *string { return &r.Label }, validText),
	textCol("id", func(r *Record) *string { return &r.ID }, validHex),
	textCol("class", func(r *Record) *string { return &r.Class }, validClass),
	textCol("key_type", func(r *Record) *string { return &r.KeyType }, validName),
	textCol("size", func(r *Record) *string { return &r.Size }, validText),
	boolCol("extractable", func(r *Record) **bool { return &r.Extractable }),
	boolCol("sensitive", func(r *Record) **bool { return &r.Sensitive }),
	boolCol("token", func(r *Record) **bool { return &r.Token }),
	boolCol("private", func(r *Record) **bool { return &r.Private }),
	boolCol("sign", func(r *Record) **bool { return &r.Sign }),
	boolCol("verify", func(r *Record) **bool { return &r.Verify }),
	boolCol("encrypt", func(r *Record) **bool { return &r.Encrypt }),
	boolCol("decrypt", func(r *Record) **bool { return &r.Decrypt }),
	boolCol("wrap", func(r *Record) **bool { return &r.Wrap }),
	boolCol("unwrap", func(r *Record) **bool { return &r.Unwrap }),
	boolCol("derive", func(r *Record) **bool { return &r.Derive }),
	boolCol("local", func(r *Record) **bool { return &r.Local }),
	boolCol("always_sensitive", func(r *Record) **bool { return &r.AlwaysSensitive }),
	boolCol("never_extractable", func(r *Record) **bool { return &r.NeverExtractable }),
	boolCol("modifiable", func(r *Record) **bool { return &r.Modifiable }),
	textCol("fingerprint", func(r *Record) *string { return &r.Fingerprint }, validFingerprint),
	textCol("check_value", func(r *Record) *string { return &r.CheckValue }, validHex),
	textCol("check_method", func(r *Record) *string { return &r.CheckMethod }, validText),
	textCol("subject", func(r *Record) *string { return &r.Subject }, validText),
	textCol("issuer", func(r *Record) *string { return &r.Issuer }, validText),
	textCol("serial", func(r *Record) *string { return &r.Serial }, validSerial),
	textCol("not_after", func(r *Record) *string { return &r.NotAfter }, validTime),
	{name: "links", get: func(r *Record) string { return joinLinks(r.Links) },
		set: func(r *Record, s string) (err error) { r.Links, err = splitLinks(s); return err }},
	{name: "disposition", get: func(r *Record) string { return string(r.Disposition) },
		set: func(r *Record, s string) error { r.Disposition = Disposition(s); return validDisposition(s) }},
	textCol("reason", func(r *Record) *string { return &r.Reason }, validText),
	textCol("identity", func(r *Record) *string { return &r.Identity }, validIdentity),
}

// Columns returns the CSV header, in order.
func Columns() []string {
	out := make([]string, len(columns))
	for i, c := range columns {
		out[i] = c.name
	}
	return out
}

func textCol(name string, field func(*Record) *string, valid func(string) error) column {
	return column{name: name,
		get: func(r *Record) string { return *field(r) },
		set: func(r *Record, s string) error { *field(r) = s; return valid(s) }}
}

func boolCol(name string, field func(*Record) **bool) column {
	return column{name: name,
		get: func(r *Record) string {
			if p := *field(r); p != nil {
				return fmt.Sprint(*p)
			}
			return ""
		},
		set: func(r *Record, s string) error {
			switch s {
			case "":
				*field(r) = nil
			case "true":
				*field(r) = T()
			case "false":
				*field(r) = F()
			default:
				return fmt.Errorf("%q is not true, false or empty", s)
			}
			return nil
		}}
}

func validHex(s string) error {
	if _, err := hex.DecodeString(s); err != nil || strings.ToLower(s) != s {
		return fmt.Errorf("%q is not lowercase hex", s)
	}
	return nil
}

func validFingerprint(s string) error {
	if s != "" && len(s) != 64 {
		return fmt.Errorf("fingerprint %q is not 64 hex digits (SHA-256)", s)
	}
	return validHex(s)
}

func validSerial(s string) error { return validHex(strings.TrimPrefix(s, "-")) }

func validTime(s string) error {
	if s == "" {
		return nil
	}
	if _, err := time.Parse(time.RFC3339, s); err != nil {
		return fmt.Errorf("%q is not an RFC 3339 time", s)
	}
	return nil
}

func validClass(s string) error {
	switch s {
	case ClassPrivateKey, ClassPublicKey, ClassSecretKey, ClassCertificate, ClassData:
		return nil
	}
	if strings.HasPrefix(s, "CKO_") && validName(s) == nil {
		return nil
	}
	return fmt.Errorf("unknown class %q", s)
}

// validName accepts "" or a CK-style name: A-Z, 0-9, '_'.
func validName(s string) error {
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return fmt.Errorf("%q is not a key type name (A-Z, 0-9, _)", s)
		}
	}
	return nil
}

func validDisposition(s string) error {
	switch Disposition(s) {
	case Wrap, Copy, Regenerate, Blocked:
		return nil
	}
	return fmt.Errorf("disposition %q is not wrap, copy, regenerate or blocked", s)
}

func validIdentity(s string) error {
	if s == "" {
		return fmt.Errorf("empty identity")
	}
	if strings.Count(s, ":") < 2 {
		return fmt.Errorf("identity %q is not class:label:id", s)
	}
	for _, r := range s {
		if r < 0x21 || r == 0x7f || r == ';' {
			return fmt.Errorf("identity %q contains %q", s, r)
		}
	}
	return nil
}
