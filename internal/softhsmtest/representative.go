package softhsmtest

import (
	"encoding/hex"
	"sync"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// KnownKEK is the published test KEK 000102…1f (id f1, label kek-known),
// placed in the source and, with PopulateTarget, in the target token.
var KnownKEK, _ = hex.DecodeString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")

// DataValue is the content of the my-data object.
const DataValue = "hello migration\n"

// RepresentativeCount is the number of objects PopulateRepresentative
// creates: 9 private, 9 public, 8 secret keys, 1 certificate, 1 data object.
const RepresentativeCount = 28

// PopulateRepresentative fills tok with the set of make-softhsm-fixture.sh
// (facts §6, §18): same labels, IDs and the attribute flags pkcs11-tool 0.23
// would set, generated in-token through PKCS#11 (CKA_LOCAL=TRUE) except the
// imported objects. Deviation: ed25519-nx uses the OID encoding of
// CKA_EC_PARAMS (06032b6570) while ed25519-x keeps pkcs11-tool's
// PrintableString "edwards25519", so consumers meet both encodings.
// The certificate for my-signing-key (id 01) is signed by the token key.
func PopulateRepresentative(tok *Token) []Expected {
	tok.f.t.Helper()
	var out []Expected
	tok.Do(func(s *p11.Session) {
		var err error
		out, err = populateRepresentative(s)
		if err != nil {
			tok.f.t.Fatalf("softhsmtest: populate %q: %v", tok.Label, err)
		}
	})
	return out
}

// PopulateTarget puts the known KEK into tok, as the script does for its
// Target-Token.
func PopulateTarget(tok *Token) []Expected {
	tok.f.t.Helper()
	var out []Expected
	tok.Do(func(s *p11.Session) {
		e, err := addKnownKEK(s)
		if err != nil {
			tok.f.t.Fatalf("softhsmtest: populate %q: %v", tok.Label, err)
		}
		out = []Expected{e}
	})
	return out
}

type pairSpec struct {
	id, label string
	keyType   uint
	bits      int    // RSA
	params    []byte // EC
	curve     string
	x         bool
	u         usage
}

func populateRepresentative(s *p11.Session) ([]Expected, error) {
	var out []Expected
	pairs := []pairSpec{
		{id: "01", label: "my-signing-key", keyType: pkcs11.CKK_RSA, bits: 2048, x: true, u: usage{sign: true}},
		{id: "02", label: "rsa3072-nx", keyType: pkcs11.CKK_RSA, bits: 3072, u: usage{sign: true}},
		{id: "03", label: "rsa4096-x", keyType: pkcs11.CKK_RSA, bits: 4096, x: true, u: usage{sign: true, decrypt: true}},
		{id: "04", label: "ec-p256-x", keyType: pkcs11.CKK_EC, params: oidP256, curve: "P-256", bits: 256, x: true, u: usage{sign: true}},
		{id: "05", label: "ec-p384-nx", keyType: pkcs11.CKK_EC, params: oidP384, curve: "P-384", bits: 384, u: usage{sign: true}},
		{id: "f2", label: "wrap-rsa", keyType: pkcs11.CKK_RSA, bits: 2048, u: usage{wrap: true}},
	}
	if err := genPairsConcurrently(s, pairs); err != nil {
		return nil, err
	}
	for _, p := range pairs {
		out = append(out, pairExpected(p)...)
	}
	cert, err := certForSigningKey(s)
	if err != nil {
		return nil, err
	}
	out = append(out, cert)
	for _, p := range []pairSpec{ // after the certificate, as in the script (libp11 pitfall, facts §7)
		{id: "06", label: "ed25519-x", keyType: ck.CKK_EC_EDWARDS, params: paramsEd25519Printable, curve: "Ed25519", bits: 256, x: true, u: usage{sign: true}},
		{id: "07", label: "ed25519-nx", keyType: ck.CKK_EC_EDWARDS, params: paramsEd25519OID, curve: "Ed25519", bits: 256, u: usage{sign: true}},
	} {
		if err := genPairSpec(s, p); err != nil {
			return nil, err
		}
		out = append(out, pairExpected(p)...)
	}
	secrets := []secretSpec{
		{id: "10", label: "aes128-x", keyType: pkcs11.CKK_AES, length: 16, extractable: true},
		{id: "11", label: "aes256-x", keyType: pkcs11.CKK_AES, length: 32, extractable: true, private: true},
		{id: "12", label: "aes256-nx", keyType: pkcs11.CKK_AES, length: 32, sensitive: true, private: true},
		{id: "13", label: "hmac-x", keyType: pkcs11.CKK_GENERIC_SECRET, length: 32, extractable: true, u: usage{sign: true}},
		{id: "14", label: "hmac-nx", keyType: pkcs11.CKK_GENERIC_SECRET, length: 64, sensitive: true, u: usage{sign: true}},
		{id: "16", label: "hmac20-x", keyType: pkcs11.CKK_GENERIC_SECRET, length: 20, extractable: true},
		{id: "f0", label: "wrap-kek", keyType: pkcs11.CKK_AES, length: 32, sensitive: true, u: usage{wrap: true}},
	}
	for _, sp := range secrets {
		if err := genSecret(s, sp); err != nil {
			return nil, err
		}
		out = append(out, secretExpected(sp, false))
	}
	imported, err := addImported(s)
	if err != nil {
		return nil, err
	}
	return append(out, imported...), nil
}

// genPairsConcurrently generates the pairs in parallel sessions: in-token
// RSA-3072/4096 generation takes seconds and dominates the build otherwise.
// SoftHSM is initialised with CKF_OS_LOCKING_OK (miekg), and the login state
// is shared by all sessions of the token, so the extra sessions need no login.
func genPairsConcurrently(s *p11.Session, pairs []pairSpec) error {
	errc := make(chan error, len(pairs))
	var wg sync.WaitGroup
	for _, p := range pairs {
		ps, err := p11.OpenSession(s.M, s.Token, true)
		if err != nil {
			wg.Wait()
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer ps.Close()
			errc <- genPairSpec(ps, p)
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			return err
		}
	}
	return nil
}

func genPairSpec(s *p11.Session, p pairSpec) error {
	if p.keyType == pkcs11.CKK_RSA {
		_, _, err := genRSA(s, p.id, p.label, p.bits, p.x, p.u)
		return err
	}
	return genEC(s, p.id, p.label, p.keyType, p.params, p.x, p.u)
}

// pairExpected is what SoftHSM reports for a generated pair: every usage
// TRUE (SoftHSM's defaults) except DERIVE unless asked for.
func pairExpected(p pairSpec) []Expected {
	priv := Expected{Label: p.label, ID: p.id, Class: pkcs11.CKO_PRIVATE_KEY, KeyType: p.keyType,
		Bits: p.bits, Curve: p.curve, Extractable: p.x, Sensitive: true, Private: true,
		Local: true, AlwaysSensitive: true, NeverExtractable: !p.x,
		Sign: true, Decrypt: true, Unwrap: true, Derive: p.u.derive}
	pub := Expected{Label: p.label, ID: p.id, Class: pkcs11.CKO_PUBLIC_KEY, KeyType: p.keyType,
		Bits: p.bits, Curve: p.curve, Local: true, Verify: true, Encrypt: true, Wrap: true}
	return []Expected{priv, pub}
}

func secretExpected(sp secretSpec, imported bool) Expected {
	return Expected{Label: sp.label, ID: sp.id, Class: pkcs11.CKO_SECRET_KEY, KeyType: sp.keyType,
		Bits: 8 * sp.length, Len: sp.length, Extractable: sp.extractable, Sensitive: sp.sensitive,
		Private: sp.private, Local: !imported, AlwaysSensitive: !imported && sp.sensitive,
		NeverExtractable: !imported && !sp.extractable, Imported: imported,
		Sign: true, Verify: true, Encrypt: true, Decrypt: true, Wrap: true, Unwrap: true}
}

// certForSigningKey signs a certificate with my-signing-key (id 01) in the
// token and stores it under the same CKA_ID.
func certForSigningKey(s *p11.Session) (Expected, error) {
	pub, priv, err := findPair(s, "01")
	if err != nil {
		return Expected{}, err
	}
	cert, err := selfSignedCert(s, pub, priv, "my-signing-key")
	if err != nil {
		return Expected{}, err
	}
	if err := importCert(s, "01", "my-signing-key", cert); err != nil {
		return Expected{}, err
	}
	return Expected{Label: "my-signing-key", ID: "01", Class: pkcs11.CKO_CERTIFICATE, Imported: true, Value: cert.Raw}, nil
}

func findPair(s *p11.Session, id string) (pub, priv pkcs11.ObjectHandle, err error) {
	for _, c := range []struct {
		class uint
		h     *pkcs11.ObjectHandle
	}{{pkcs11.CKO_PUBLIC_KEY, &pub}, {pkcs11.CKO_PRIVATE_KEY, &priv}} {
		hs, err := s.FindAll([]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, c.class), pkcs11.NewAttribute(pkcs11.CKA_ID, idBytes(id))})
		if err != nil {
			return 0, 0, err
		}
		if len(hs) != 1 {
			return 0, 0, errNotOne(ck.ClassName(c.class), id, len(hs))
		}
		*c.h = hs[0]
	}
	return pub, priv, nil
}

// addKnownKEK imports kek-known the way "pkcs11-tool --write-object kek.bin
// --type secrkey --usage-wrap" does: not sensitive, not extractable.
func addKnownKEK(s *p11.Session) (Expected, error) {
	sp := secretSpec{id: "f1", label: "kek-known", keyType: pkcs11.CKK_AES, length: 32, u: usage{wrap: true}}
	if err := importSecret(s, sp, KnownKEK); err != nil {
		return Expected{}, err
	}
	e := secretExpected(sp, true)
	e.Value = KnownKEK
	return e, nil
}

func addImported(s *p11.Session) ([]Expected, error) {
	kek, err := addKnownKEK(s)
	if err != nil {
		return nil, err
	}
	key, err := newP256()
	if err != nil {
		return nil, err
	}
	if err := importECPair(s, "21", "imported-ec-x", "20", "ext-peer-pub", key); err != nil {
		return nil, err
	}
	if err := addData(s); err != nil {
		return nil, err
	}
	return []Expected{
		kek,
		{Label: "imported-ec-x", ID: "21", Class: pkcs11.CKO_PRIVATE_KEY, KeyType: pkcs11.CKK_EC, Bits: 256, Curve: "P-256",
			Extractable: true, Sensitive: true, Private: true, Imported: true, Sign: true, Decrypt: true, Unwrap: true},
		{Label: "ext-peer-pub", ID: "20", Class: pkcs11.CKO_PUBLIC_KEY, KeyType: pkcs11.CKK_EC, Bits: 256, Curve: "P-256",
			Imported: true, Verify: true, Encrypt: true, Wrap: true},
		{Label: "my-data", Class: pkcs11.CKO_DATA, Private: true, Imported: true, Application: "my-app", Value: []byte(DataValue)},
	}, nil
}

// addData mirrors "--write-object data.txt --type data --label my-data
// --application-label my-app --private" (no CKA_ID).
func addData(s *p11.Session) error {
	var t attrs
	t.add(pkcs11.CKA_CLASS, pkcs11.CKO_DATA)
	t.add(pkcs11.CKA_TOKEN, true)
	t.add(pkcs11.CKA_PRIVATE, true)
	t.add(pkcs11.CKA_LABEL, "my-data")
	t.add(pkcs11.CKA_APPLICATION, "my-app")
	t.add(pkcs11.CKA_VALUE, []byte(DataValue))
	return create(s, "my-data", t)
}
