package wrapmove

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/errs"
	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// RegenOptions configure Regenerate.
type RegenOptions struct {
	Target      p11.Module
	TargetToken p11.Token
	TargetPIN   string
	// Plan supplies the regenerate actions; Items, when set, is used instead.
	Plan  *Plan
	Items []Action
	// CSRDir receives one PEM CSR per regenerated key pair ("" = no CSRs).
	CSRDir string
	// Source (optional) is read for the old certificates' subjects and SANs.
	Source      p11.Module
	SourceToken p11.Token
	SourcePIN   string
}

// RegenResult is one regenerate item's outcome.
type RegenResult struct {
	Label   string `col:"label" json:"label"`
	ID      string `col:"id" json:"id"`
	Class   string `col:"class" json:"class"`
	KeyType string `col:"key_type" json:"key_type"`
	Size    int    `col:"size" json:"size"`
	Status  string `col:"status" json:"status"` // generated | already regenerated | failed
	CSR     string `col:"csr" json:"csr"`
	Subject string `col:"subject" json:"subject"`
	Detail  string `col:"detail" json:"detail"`
}

// Regenerate statuses.
const (
	RegenGenerated = "generated"
	RegenAlready   = "already regenerated"
	RegenFailed    = "failed"
)

// Regenerate creates, on the target, a new key for every regenerate item
// that is a private or secret key: same type and size, label, CKA_ID and
// permitted operations, as token objects; and for key pairs a CSR whose
// subject and SANs come from the old certificate (found on the source by
// CKA_ID), else CN=<label>. It never touches the old key. It is idempotent:
// a key it generated earlier (CKA_LOCAL=true) is reported as already
// regenerated, and its missing CSR is written.
func Regenerate(opts RegenOptions) ([]RegenResult, error) {
	dst, err := openSide(opts.Target, opts.TargetToken, opts.TargetPIN, true)
	if err != nil {
		return nil, err
	}
	defer dst.Close()
	var src *p11.Session
	if opts.Source != nil {
		if src, err = openSide(opts.Source, opts.SourceToken, opts.SourcePIN, false); err != nil {
			return nil, err
		}
		defer src.Close()
	}
	if opts.CSRDir != "" {
		if err := os.MkdirAll(opts.CSRDir, 0o755); err != nil {
			return nil, &errs.Error{Kind: errs.KindUsage, Op: "regenerate", Msg: "cannot create the CSR directory", Err: err}
		}
	}
	var out []RegenResult
	failed := 0
	for _, a := range regenItems(opts) {
		r := regenOne(dst, src, a, opts.CSRDir)
		if r.Status == RegenFailed {
			failed++
		}
		out = append(out, r)
	}
	if failed > 0 {
		return out, &errs.Error{Kind: errs.KindPartial, Op: "regenerate", Msg: fmt.Sprintf("%d of %d keys failed", failed, len(out)),
			Hint: "see the failed rows; re-running is safe (regenerated keys are not generated twice)"}
	}
	return out, nil
}

func regenItems(opts RegenOptions) []Action {
	items := opts.Items
	if items == nil && opts.Plan != nil {
		items = opts.Plan.Actions
	}
	var out []Action
	for _, a := range items {
		if a.Action == ActRegenerate && (a.Class == ClassPrivateKey || a.Class == ClassSecretKey) {
			out = append(out, a)
		}
	}
	return out
}

func regenOne(dst, src *p11.Session, a Action, csrDir string) RegenResult {
	r := RegenResult{Label: a.Label, ID: a.ID, Class: a.Class, KeyType: a.KeyType, Size: a.Size}
	fail := func(err error) RegenResult { r.Status, r.Detail = RegenFailed, err.Error(); return r }
	priv, already, err := existingRegenerated(dst, a)
	if err != nil {
		return fail(err)
	}
	r.Status = RegenAlready
	if !already {
		if priv, err = generate(dst, a); err != nil {
			return fail(err)
		}
		r.Status = RegenGenerated
	}
	if a.Class != ClassPrivateKey || csrDir == "" {
		return r
	}
	path := filepath.Join(csrDir, csrName(a))
	if _, err := os.Stat(path); err == nil && already {
		r.CSR = path
		r.Detail = "CSR already written"
		return r
	}
	subj, err := writeCSR(dst, src, a, priv, path)
	if err != nil {
		return fail(fmt.Errorf("key is on the target, CSR failed: %w", err))
	}
	r.CSR, r.Subject = path, subj
	return r
}

// existingRegenerated finds a key with the item's identity on the target.
// One that the token generated (CKA_LOCAL=true) is a regenerated key; an
// unwrapped one (CKA_LOCAL=false) means the key was migrated after all,
// and generating a second would make CKA_ID lookups ambiguous.
func existingRegenerated(dst *p11.Session, a Action) (pkcs11.ObjectHandle, bool, error) {
	hs, err := findByIdentity(dst, a.Class, a.IDBytes(), a.Label)
	if err != nil || len(hs) == 0 {
		return 0, false, err
	}
	attrs, err := p11.ReadAttrs(dst.M, dst.H, hs[0], pkcs11.CKA_LOCAL)
	if err != nil {
		return 0, false, err
	}
	if local, _ := attrs.Bool(pkcs11.CKA_LOCAL); !local {
		return 0, false, errors.New("a migrated (unwrapped) key with this label and CKA_ID is already on the target; not generating a second")
	}
	return hs[0], true, nil
}

// generate makes the new key; it returns the private (or secret) handle.
func generate(s *p11.Session, a Action) (pkcs11.ObjectHandle, error) {
	if a.Class == ClassSecretKey {
		return generateSecret(s, a)
	}
	pub, priv := pairTemplates(a)
	switch a.KeyType {
	case KeyRSA:
		pub.set(pkcs11.CKA_MODULUS_BITS, a.Size)
		pub.set(pkcs11.CKA_PUBLIC_EXPONENT, []byte{1, 0, 1})
		return genPair(s, pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, pub, priv)
	case KeyEC, KeyEdwards:
		mech := uint(pkcs11.CKM_EC_KEY_PAIR_GEN)
		if a.KeyType == KeyEdwards {
			mech = ck.CKM_EC_EDWARDS_KEY_PAIR_GEN
		}
		var lastErr error = fmt.Errorf("unknown curve %q", a.Curve)
		// Ed25519 has two CKA_EC_PARAMS encodings; modules accept one or both.
		for _, params := range curveParams(a.Curve) {
			h, err := genPair(s, mech, append(pub[:len(pub):len(pub)], pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, params)), priv)
			if err == nil {
				return h, nil
			}
			lastErr = err
		}
		return 0, lastErr
	}
	return 0, fmt.Errorf("cannot generate key type %q", a.KeyType)
}

// pairTemplates carries label, ID and permitted operations; the new
// private key is sensitive, and extractable only if the old one was.
func pairTemplates(a Action) (tmpl, tmpl) {
	var pub, priv tmpl
	for _, t := range []*tmpl{&pub, &priv} {
		t.set(pkcs11.CKA_TOKEN, true)
		t.set(pkcs11.CKA_LABEL, a.Label)
		t.set(pkcs11.CKA_ID, a.IDBytes())
	}
	pub.set(pkcs11.CKA_PRIVATE, false)
	pub.set(pkcs11.CKA_VERIFY, hasUsage(a.Usage, "sign"))
	priv.set(pkcs11.CKA_PRIVATE, true)
	priv.set(pkcs11.CKA_SENSITIVE, true)
	priv.set(pkcs11.CKA_EXTRACTABLE, a.Extractable)
	priv.set(pkcs11.CKA_SIGN, hasUsage(a.Usage, "sign"))
	if a.KeyType == KeyRSA {
		pub.set(pkcs11.CKA_ENCRYPT, hasUsage(a.Usage, "decrypt"))
		pub.set(pkcs11.CKA_WRAP, hasUsage(a.Usage, "unwrap"))
		priv.set(pkcs11.CKA_DECRYPT, hasUsage(a.Usage, "decrypt"))
		priv.set(pkcs11.CKA_UNWRAP, hasUsage(a.Usage, "unwrap"))
	}
	if a.KeyType == KeyEC {
		priv.set(pkcs11.CKA_DERIVE, hasUsage(a.Usage, "derive"))
	}
	return pub, priv
}

func genPair(s *p11.Session, mech uint, pub, priv tmpl) (pkcs11.ObjectHandle, error) {
	_, h, err := s.M.GenerateKeyPair(s.H, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, pub, priv)
	return h, p11.Wrap("C_GenerateKeyPair("+ck.MechName(mech)+")", err)
}

func generateSecret(s *p11.Session, a Action) (pkcs11.ObjectHandle, error) {
	mech := uint(pkcs11.CKM_AES_KEY_GEN)
	kt := uint(pkcs11.CKK_AES)
	if a.KeyType == KeyGeneric {
		mech, kt = pkcs11.CKM_GENERIC_SECRET_KEY_GEN, pkcs11.CKK_GENERIC_SECRET
	}
	if a.Size <= 0 || a.Size%8 != 0 {
		return 0, fmt.Errorf("secret key size %d bits is not a whole number of bytes", a.Size)
	}
	var t tmpl
	t.set(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY)
	t.set(pkcs11.CKA_KEY_TYPE, kt)
	t.set(pkcs11.CKA_TOKEN, true)
	t.set(pkcs11.CKA_PRIVATE, a.Private)
	t.set(pkcs11.CKA_LABEL, a.Label)
	t.set(pkcs11.CKA_ID, a.IDBytes())
	t.set(pkcs11.CKA_VALUE_LEN, a.Size/8)
	t.set(pkcs11.CKA_SENSITIVE, true)
	t.set(pkcs11.CKA_EXTRACTABLE, a.Extractable)
	for _, u := range usageAttrs[:7] { // sign … derive: the secret-key usages
		t.set(u.attr, hasUsage(a.Usage, u.name))
	}
	h, err := s.M.GenerateKey(s.H, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, t)
	return h, p11.Wrap("C_GenerateKey("+ck.MechName(mech)+")", err)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func csrName(a Action) string {
	n := unsafeName.ReplaceAllString(a.Label, "_")
	if a.ID != "" {
		n += "-" + a.ID
	}
	return n + ".csr"
}

// writeCSR signs a CSR with the new key and writes it as PEM.
func writeCSR(dst, src *p11.Session, a Action, priv pkcs11.ObjectHandle, path string) (string, error) {
	pubH, err := findPublic(dst, a.IDBytes(), a.Label)
	if err != nil {
		return "", err
	}
	pub, err := publicKeyOf(dst, pubH, a.KeyType)
	if err != nil {
		return "", err
	}
	tmplCSR := csrTemplate(src, a)
	if a.KeyType == KeyRSA {
		tmplCSR.SignatureAlgorithm = x509.SHA256WithRSA
	}
	der, err := x509.CreateCertificateRequest(nil, tmplCSR, &p11Signer{s: dst, priv: priv, pub: pub, keyType: a.KeyType})
	if err != nil {
		return "", err
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	if err := writeFileAtomic(path, data, 0o644); err != nil {
		return "", err
	}
	return tmplCSR.Subject.String(), nil
}

func findPublic(s *p11.Session, id []byte, label string) (pkcs11.ObjectHandle, error) {
	hs, err := findByIdentity(s, ClassPublicKey, id, label)
	if err != nil {
		return 0, err
	}
	if len(hs) == 0 {
		return 0, errors.New("the new key pair has no public-key object on the target")
	}
	return hs[0], nil
}

// csrTemplate copies subject and SANs from the old certificate with the
// same CKA_ID on the source, else uses CN=<label>.
func csrTemplate(src *p11.Session, a Action) *x509.CertificateRequest {
	t := &x509.CertificateRequest{Subject: pkix.Name{CommonName: a.Label}}
	old := oldCertificate(src, a.IDBytes())
	if old == nil {
		return t
	}
	t.Subject = old.Subject
	t.RawSubject = old.RawSubject // byte-exact, including attribute order and string types
	t.DNSNames, t.EmailAddresses = old.DNSNames, old.EmailAddresses
	t.IPAddresses, t.URIs = old.IPAddresses, old.URIs
	return t
}

func oldCertificate(src *p11.Session, id []byte) *x509.Certificate {
	if src == nil || len(id) == 0 {
		return nil
	}
	hs, err := src.FindAll([]*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE),
		pkcs11.NewAttribute(pkcs11.CKA_ID, id),
	})
	if err != nil {
		return nil
	}
	for _, h := range hs {
		a, err := p11.ReadAttrs(src.M, src.H, h, pkcs11.CKA_VALUE)
		if err != nil {
			continue
		}
		if c, err := x509.ParseCertificate(a.Bytes(pkcs11.CKA_VALUE)); err == nil {
			return c
		}
	}
	return nil
}
