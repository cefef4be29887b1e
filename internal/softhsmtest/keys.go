package softhsmtest

import (
	"encoding/hex"
	"fmt"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// Curve parameters as CKA_EC_PARAMS DER.
var (
	oidP256 = []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}
	oidP384 = []byte{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22}
	// pkcs11-tool 0.23 "EC:edwards25519" writes this PrintableString, not
	// the OID 1.3.101.112 (facts §5); SoftHSM accepts both.
	paramsEd25519Printable = []byte{0x13, 0x0c, 'e', 'd', 'w', 'a', 'r', 'd', 's', '2', '5', '5', '1', '9'}
	paramsEd25519OID       = []byte{0x06, 0x03, 0x2b, 0x65, 0x70}
)

// usage is what pkcs11-tool's --usage-* flags would add. SoftHSM defaults
// SIGN/VERIFY/ENCRYPT/DECRYPT/WRAP/UNWRAP to TRUE anyway, DERIVE to FALSE.
type usage struct{ sign, decrypt, wrap, derive bool }

type attrs []*pkcs11.Attribute

func (a *attrs) add(t uint, v any) { *a = append(*a, pkcs11.NewAttribute(t, v)) }

func idBytes(id string) []byte {
	b, err := hex.DecodeString(id)
	if err != nil {
		panic("softhsmtest: bad hex id " + id)
	}
	return b
}

// pairTemplates mirrors pkcs11-tool 0.23 --keypairgen: private keys are
// always TOKEN, PRIVATE and SENSITIVE; usage flags only ever add TRUE.
func pairTemplates(id, label string, extractable bool, u usage) (pub, priv attrs) {
	pub.add(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY)
	pub.add(pkcs11.CKA_TOKEN, true)
	pub.add(pkcs11.CKA_PRIVATE, false)
	priv.add(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY)
	priv.add(pkcs11.CKA_TOKEN, true)
	priv.add(pkcs11.CKA_PRIVATE, true)
	priv.add(pkcs11.CKA_SENSITIVE, true)
	for _, t := range []*attrs{&pub, &priv} {
		t.add(pkcs11.CKA_LABEL, label)
		t.add(pkcs11.CKA_ID, idBytes(id))
	}
	if u.sign {
		pub.add(pkcs11.CKA_VERIFY, true)
		priv.add(pkcs11.CKA_SIGN, true)
	}
	if u.decrypt {
		pub.add(pkcs11.CKA_ENCRYPT, true)
		priv.add(pkcs11.CKA_DECRYPT, true)
	}
	if u.wrap {
		pub.add(pkcs11.CKA_WRAP, true)
		priv.add(pkcs11.CKA_UNWRAP, true)
	}
	if u.derive {
		priv.add(pkcs11.CKA_DERIVE, true)
	}
	if extractable {
		priv.add(pkcs11.CKA_EXTRACTABLE, true)
	}
	return pub, priv
}

func genPair(s *p11.Session, mech uint, pub, priv attrs) (pkcs11.ObjectHandle, pkcs11.ObjectHandle, error) {
	ph, kh, err := s.M.GenerateKeyPair(s.H, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, pub, priv)
	if err != nil {
		return 0, 0, p11.Wrap("C_GenerateKeyPair("+ck.MechName(mech)+")", err)
	}
	return ph, kh, nil
}

// genRSA generates an RSA pair on the token (CKA_LOCAL=TRUE).
func genRSA(s *p11.Session, id, label string, bits int, x bool, u usage) (pkcs11.ObjectHandle, pkcs11.ObjectHandle, error) {
	pub, priv := pairTemplates(id, label, x, u)
	pub.add(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA)
	pub.add(pkcs11.CKA_MODULUS_BITS, bits)
	pub.add(pkcs11.CKA_PUBLIC_EXPONENT, []byte{1, 0, 1})
	priv.add(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA)
	return genPair(s, pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, pub, priv)
}

// genEC generates an ECDSA (CKK_EC) or EdDSA (CKK_EC_EDWARDS) pair.
func genEC(s *p11.Session, id, label string, keyType uint, params []byte, x bool, u usage) error {
	pub, priv := pairTemplates(id, label, x, u)
	pub.add(pkcs11.CKA_KEY_TYPE, keyType)
	pub.add(pkcs11.CKA_EC_PARAMS, params)
	priv.add(pkcs11.CKA_KEY_TYPE, keyType)
	mech := uint(pkcs11.CKM_EC_KEY_PAIR_GEN)
	if keyType == ck.CKK_EC_EDWARDS {
		mech = ck.CKM_EC_EDWARDS_KEY_PAIR_GEN
	}
	_, _, err := genPair(s, mech, pub, priv)
	return err
}

// secretSpec mirrors pkcs11-tool 0.23 --keygen: SENSITIVE and PRIVATE are
// explicit (FALSE unless --sensitive / --private), EXTRACTABLE only added.
type secretSpec struct {
	id, label                       string
	keyType                         uint
	length                          int
	extractable, sensitive, private bool
	u                               usage
}

func (sp secretSpec) template() attrs {
	var t attrs
	t.add(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY)
	t.add(pkcs11.CKA_KEY_TYPE, sp.keyType)
	t.add(pkcs11.CKA_TOKEN, true)
	t.add(pkcs11.CKA_LABEL, sp.label)
	t.add(pkcs11.CKA_ID, idBytes(sp.id))
	t.add(pkcs11.CKA_SENSITIVE, sp.sensitive)
	t.add(pkcs11.CKA_PRIVATE, sp.private)
	if sp.extractable {
		t.add(pkcs11.CKA_EXTRACTABLE, true)
	}
	if sp.u.sign {
		t.add(pkcs11.CKA_SIGN, true)
		t.add(pkcs11.CKA_VERIFY, true)
	}
	if sp.u.wrap {
		t.add(pkcs11.CKA_WRAP, true)
		t.add(pkcs11.CKA_UNWRAP, true)
	}
	return t
}

func genSecret(s *p11.Session, sp secretSpec) error {
	mech := uint(pkcs11.CKM_AES_KEY_GEN)
	if sp.keyType == pkcs11.CKK_GENERIC_SECRET {
		mech = pkcs11.CKM_GENERIC_SECRET_KEY_GEN
	}
	t := sp.template()
	t.add(pkcs11.CKA_VALUE_LEN, sp.length)
	if _, err := s.M.GenerateKey(s.H, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, t); err != nil {
		return p11.Wrap(fmt.Sprintf("C_GenerateKey(%s) %q", ck.MechName(mech), sp.label), err)
	}
	return nil
}

// importSecret creates a secret key with a known value (CKA_LOCAL=FALSE).
func importSecret(s *p11.Session, sp secretSpec, value []byte) error {
	t := sp.template()
	t.add(pkcs11.CKA_VALUE, value)
	return create(s, sp.label, t)
}

func create(s *p11.Session, what string, t attrs) error {
	if _, err := s.M.CreateObject(s.H, t); err != nil {
		return p11.Wrap(fmt.Sprintf("C_CreateObject %q", what), err)
	}
	return nil
}
