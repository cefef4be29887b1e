package wrapmove

import (
	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// Templates reproduce a source object on the target from the attributes
// read on the source, passing the source's bytes through unchanged so that
// CKA_ID and CKA_LABEL arrive byte-exact.
//
// Never in a template: CKA_LOCAL, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE
// and CKA_KEY_GEN_MECHANISM (read-only provenance; the token sets them on
// unwrap, facts §12), CKA_EC_PARAMS for private keys (taken from the PKCS#8
// payload; SoftHSMv2 answers CKR_ATTRIBUTE_READ_ONLY), CKA_DESTROYABLE
// (a false value would stop craton from removing a copy whose proof fails)
// and CKA_TRUSTED (only the SO may set it).

type tmpl []*pkcs11.Attribute

func (t *tmpl) set(typ uint, v any) { *t = append(*t, pkcs11.NewAttribute(typ, v)) }

// copyFrom adds the source's value of each attribute that was read.
func (t *tmpl) copyFrom(a p11.Attrs, types ...uint) {
	for _, typ := range types {
		if a.Has(typ) {
			t.set(typ, a.Bytes(typ))
		}
	}
}

// copyNonEmpty adds attributes only when they carry a value: an empty
// CKA_START_DATE or CKA_ALLOWED_MECHANISMS means "not set".
func (t *tmpl) copyNonEmpty(a p11.Attrs, types ...uint) {
	for _, typ := range types {
		if len(a.Bytes(typ)) > 0 {
			t.set(typ, a.Bytes(typ))
		}
	}
}

// copyIfFalse adds boolean attributes only when false: their default is
// true and a module that does not know them should not be bothered.
func (t *tmpl) copyIfFalse(a p11.Attrs, types ...uint) {
	for _, typ := range types {
		if v, ok := a.Bool(typ); ok && !v {
			t.set(typ, false)
		}
	}
}

// copyIfTrue adds boolean attributes only when true (default false).
func (t *tmpl) copyIfTrue(a p11.Attrs, types ...uint) {
	for _, typ := range types {
		if v, ok := a.Bool(typ); ok && v {
			t.set(typ, true)
		}
	}
}

// Usage flags per class, as PKCS#11 defines them.
var (
	privUsage   = []uint{pkcs11.CKA_SIGN, pkcs11.CKA_SIGN_RECOVER, pkcs11.CKA_DECRYPT, pkcs11.CKA_UNWRAP, pkcs11.CKA_DERIVE}
	pubUsage    = []uint{pkcs11.CKA_VERIFY, pkcs11.CKA_VERIFY_RECOVER, pkcs11.CKA_ENCRYPT, pkcs11.CKA_WRAP, pkcs11.CKA_DERIVE}
	secretUsage = []uint{pkcs11.CKA_ENCRYPT, pkcs11.CKA_DECRYPT, pkcs11.CKA_SIGN, pkcs11.CKA_VERIFY,
		pkcs11.CKA_WRAP, pkcs11.CKA_UNWRAP, pkcs11.CKA_DERIVE}
	storage = []uint{pkcs11.CKA_LABEL, pkcs11.CKA_ID, pkcs11.CKA_TOKEN, pkcs11.CKA_PRIVATE}
	dates   = []uint{pkcs11.CKA_START_DATE, pkcs11.CKA_END_DATE}
)

// unwrapTemplate is the C_UnwrapKey template for a private or secret key.
// harden forces CKA_EXTRACTABLE=false on the target. CKA_VALUE_LEN goes in
// only for targets that honour it (ExactSecretLength): SoftHSMv2 refuses it
// with CKR_ATTRIBUTE_READ_ONLY and leaves a half-made object behind.
func unwrapTemplate(src *object, caps Capabilities, harden bool) []*pkcs11.Attribute {
	a := src.attrs
	var t tmpl
	t.copyFrom(a, pkcs11.CKA_CLASS, pkcs11.CKA_KEY_TYPE)
	t.copyFrom(a, storage...)
	t.copyFrom(a, pkcs11.CKA_SENSITIVE)
	if harden {
		t.set(pkcs11.CKA_EXTRACTABLE, false)
	} else {
		t.copyFrom(a, pkcs11.CKA_EXTRACTABLE)
	}
	if src.Class == ClassPrivateKey {
		t.copyFrom(a, privUsage...)
		t.copyIfTrue(a, pkcs11.CKA_ALWAYS_AUTHENTICATE)
	} else {
		t.copyFrom(a, secretUsage...)
		if caps.ExactSecretLength && src.ValueLen > 0 {
			t.set(pkcs11.CKA_VALUE_LEN, src.ValueLen)
		}
	}
	t.copyIfTrue(a, pkcs11.CKA_WRAP_WITH_TRUSTED)
	t.copyIfFalse(a, pkcs11.CKA_MODIFIABLE, pkcs11.CKA_COPYABLE)
	t.copyNonEmpty(a, dates...)
	t.copyNonEmpty(a, pkcs11.CKA_ALLOWED_MECHANISMS)
	return t
}

// copyTemplate is the C_CreateObject template for a public key, a
// certificate or a data object: every readable attribute that defines it.
func copyTemplate(src *object) []*pkcs11.Attribute {
	a := src.attrs
	var t tmpl
	t.copyFrom(a, pkcs11.CKA_CLASS)
	switch src.Class {
	case ClassPublicKey:
		t.copyFrom(a, pkcs11.CKA_KEY_TYPE)
		t.copyFrom(a, storage...)
		t.copyFrom(a, pubUsage...)
		t.copyFrom(a, publicComponents(src.KeyType)...)
		t.copyNonEmpty(a, pkcs11.CKA_ALLOWED_MECHANISMS)
	case ClassCertificate:
		t.copyFrom(a, pkcs11.CKA_CERTIFICATE_TYPE)
		t.copyFrom(a, storage...)
		t.copyFrom(a, pkcs11.CKA_VALUE, pkcs11.CKA_SUBJECT, pkcs11.CKA_ISSUER, pkcs11.CKA_SERIAL_NUMBER)
	case ClassData:
		t.copyFrom(a, pkcs11.CKA_LABEL, pkcs11.CKA_TOKEN, pkcs11.CKA_PRIVATE, pkcs11.CKA_APPLICATION, pkcs11.CKA_VALUE)
		t.copyNonEmpty(a, pkcs11.CKA_OBJECT_ID, pkcs11.CKA_ID)
	}
	t.copyIfFalse(a, pkcs11.CKA_MODIFIABLE, pkcs11.CKA_COPYABLE)
	t.copyNonEmpty(a, dates...)
	return t
}

func publicComponents(keyType string) []uint {
	if keyType == KeyRSA {
		return []uint{pkcs11.CKA_MODULUS, pkcs11.CKA_PUBLIC_EXPONENT}
	}
	return []uint{pkcs11.CKA_EC_PARAMS, pkcs11.CKA_EC_POINT}
}

// publicFromPrivate builds a public-key object for a migrated private key
// that has none on the target. The components come from pub (the source's
// public key) when given, else from the private key itself (RSA private
// objects expose modulus and exponent). Usage mirrors the private key's.
func publicFromPrivate(priv, pub *object) []*pkcs11.Attribute {
	var t tmpl
	t.set(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY)
	t.copyFrom(priv.attrs, pkcs11.CKA_KEY_TYPE, pkcs11.CKA_LABEL, pkcs11.CKA_ID)
	t.set(pkcs11.CKA_TOKEN, true)
	t.set(pkcs11.CKA_PRIVATE, false)
	for _, pair := range [][2]uint{{pkcs11.CKA_SIGN, pkcs11.CKA_VERIFY}, {pkcs11.CKA_DECRYPT, pkcs11.CKA_ENCRYPT},
		{pkcs11.CKA_UNWRAP, pkcs11.CKA_WRAP}} {
		v, _ := priv.attrs.Bool(pair[0])
		t.set(pair[1], v)
	}
	from := priv
	if pub != nil {
		from = pub
	}
	t.copyFrom(from.attrs, publicComponents(priv.KeyType)...)
	return t
}

// compareSet lists the attributes that must read back equal on the target
// for a moved or copied object: what the template carried plus, for private
// keys, the public parameters the token derives from the payload.
func compareSet(o *object, harden bool) []uint {
	base := append([]uint{pkcs11.CKA_CLASS}, storage...)
	switch o.Class {
	case ClassPrivateKey:
		s := cat(base, []uint{pkcs11.CKA_KEY_TYPE, pkcs11.CKA_SENSITIVE}, privUsage)
		if o.KeyType == KeyRSA {
			s = append(s, pkcs11.CKA_MODULUS, pkcs11.CKA_PUBLIC_EXPONENT)
		} else {
			s = append(s, pkcs11.CKA_EC_PARAMS)
		}
		return withExtractable(s, harden)
	case ClassSecretKey:
		return withExtractable(cat(base, []uint{pkcs11.CKA_KEY_TYPE, pkcs11.CKA_SENSITIVE}, secretUsage), harden)
	case ClassPublicKey:
		return cat(base, []uint{pkcs11.CKA_KEY_TYPE}, pubUsage, publicComponents(o.KeyType))
	case ClassCertificate:
		return cat(base, []uint{pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKA_VALUE, pkcs11.CKA_SUBJECT,
			pkcs11.CKA_ISSUER, pkcs11.CKA_SERIAL_NUMBER})
	case ClassData:
		return []uint{pkcs11.CKA_CLASS, pkcs11.CKA_LABEL, pkcs11.CKA_TOKEN, pkcs11.CKA_PRIVATE,
			pkcs11.CKA_APPLICATION, pkcs11.CKA_VALUE, pkcs11.CKA_OBJECT_ID}
	}
	return base
}

func withExtractable(s []uint, harden bool) []uint {
	if harden {
		return s // the target copy is deliberately different
	}
	return append(s, pkcs11.CKA_EXTRACTABLE)
}
