package inventory

import (
	"encoding/hex"
	"fmt"
	"sort"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/errs"
	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// Take reads every object of tok into an Inventory. With opts.PIN it logs
// in once as user (never retrying: a wrong PIN is returned as the
// KindAuth error, a locked PIN as KindPINLocked); without, it lists the
// public objects only and says so in Warnings. It reads the library and
// token info and the slot's mechanism list, makes one C_FindObjects pass,
// reads each object's attributes in two batched calls, and computes secret
// key check values inside the token.
func Take(m p11.Module, tok p11.Token, opts Options) (*Inventory, error) {
	inv := &Inventory{}
	lib, rawLib, err := readLibraryInfo(m)
	if err != nil {
		return nil, err
	}
	inv.Library = lib
	ti, err := m.GetTokenInfo(tok.Slot)
	if err != nil {
		return nil, p11.Wrap(fmt.Sprintf("C_GetTokenInfo(token %q)", tok.Label), err)
	}
	inv.Token = tokenInfoOf(ti)
	if inv.Token.Mechanisms, err = ReadMechanisms(m, tok.Slot); err != nil {
		return nil, err
	}
	s, err := p11.OpenSession(m, tok, false)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	logout, err := login(s, ti, opts.PIN)
	if err != nil {
		return nil, err
	}
	defer logout()
	inv.LoggedIn = alreadyLoggedIn(s)

	objs, err := readObjects(s)
	if err != nil {
		return nil, err
	}
	mechs := newMechSet(inv.Token.Mechanisms)
	prof := newSourceProfile(rawLib, inv.Token, mechs)
	inv.Records, inv.Warnings = build(s, objs, mechs, prof, opts.Target)
	inv.Warnings = append(inv.Warnings, scopeWarnings(inv, ti)...)
	return inv, nil
}

// login logs in unless the PIN is empty or the application is already
// logged in (SoftHSM shares the login between sessions); it returns the
// matching logout so that a login made here is undone, and only that.
func login(s *p11.Session, ti pkcs11.TokenInfo, pin string) (func(), error) {
	noop := func() {}
	if pin == "" || alreadyLoggedIn(s) {
		return noop, nil
	}
	if ti.Flags&pkcs11.CKF_USER_PIN_LOCKED != 0 {
		return noop, &errs.Error{Kind: errs.KindPINLocked, Op: fmt.Sprintf("C_Login as user on token %q", s.Token.Label),
			RV: pkcs11.CKR_PIN_LOCKED, Msg: "the token reports the user PIN locked (CKF_USER_PIN_LOCKED); no login attempted",
			Hint: "the SO must re-initialise the user PIN (softhsm2-util for SoftHSMv2)"}
	}
	if err := s.Login(pkcs11.CKU_USER, pin); err != nil {
		return noop, err
	}
	return func() { _ = s.M.Logout(s.H) }, nil
}

func alreadyLoggedIn(s *p11.Session) bool {
	si, err := s.M.GetSessionInfo(s.H)
	return err == nil && (si.State == pkcs11.CKS_RO_USER_FUNCTIONS || si.State == pkcs11.CKS_RW_USER_FUNCTIONS)
}

func scopeWarnings(inv *Inventory, ti pkcs11.TokenInfo) []string {
	var w []string
	if !inv.LoggedIn && ti.Flags&pkcs11.CKF_LOGIN_REQUIRED != 0 {
		w = append(w, "no PIN given: only public objects are listed; private keys and private objects are not visible")
	}
	if len(inv.Records) == 0 {
		w = append(w, fmt.Sprintf("token %q holds no objects visible to this session: nothing to migrate", inv.Token.Label))
	}
	return w
}

// build turns the objects into sorted records with fingerprints, check
// values, identities, links and dispositions.
func build(s *p11.Session, objs []object, mechs mechSet, prof sourceProfile, target *Capabilities) ([]Record, []string) {
	recs := make([]Record, len(objs))
	var warnings []string
	for i, o := range objs {
		recs[i] = baseRecord(o)
		if o.class == pkcs11.CKO_CERTIFICATE {
			if err := certFields(&recs[i], o.a.Bytes(pkcs11.CKA_VALUE)); err != nil {
				warnings = append(warnings, err.Error())
			}
		}
		if o.class == pkcs11.CKO_SECRET_KEY {
			recs[i].CheckValue, recs[i].CheckMethod = checkValue(s, mechs, o, &recs[i])
		}
	}
	borrowFingerprints(recs)
	assignIdentities(recs, objs)
	warnings = append(warnings, assignLinks(recs)...)
	for i, o := range objs {
		recs[i].Disposition, recs[i].Reason = dispose(&recs[i], o, prof)
	}
	FollowRegenerated(recs)
	for i, o := range objs {
		recs[i].Disposition, recs[i].Reason = applyTarget(&recs[i], o, recs[i].Disposition, recs[i].Reason, target, prof)
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].Identity < recs[j].Identity })
	return recs, warnings
}

// classNames are the short names of Record.Class.
var classNames = map[uint]string{
	pkcs11.CKO_PRIVATE_KEY: ClassPrivateKey, pkcs11.CKO_PUBLIC_KEY: ClassPublicKey,
	pkcs11.CKO_SECRET_KEY: ClassSecretKey, pkcs11.CKO_CERTIFICATE: ClassCertificate, pkcs11.CKO_DATA: ClassData,
}

func className(c uint) string {
	if n, ok := classNames[c]; ok {
		return n
	}
	return ck.ClassName(c)
}

// baseRecord fills what comes straight from the attributes.
func baseRecord(o object) Record {
	a := o.a
	r := Record{
		Label: EncodeText(a.Bytes(pkcs11.CKA_LABEL)),
		ID:    hex.EncodeToString(a.Bytes(pkcs11.CKA_ID)),
		Class: className(o.class),
	}
	if o.isKey {
		r.KeyType = keyTypeName(o.keyType)
		setSize(&r, sizeOf(o))
		r.Fingerprint = fingerprintOf(spkiOf(o))
	}
	for _, b := range boolFields {
		*b.field(&r) = boolPtr(o, b.attr)
	}
	return r
}

// boolFields maps boolean attributes to Record fields.
var boolFields = []struct {
	attr  uint
	field func(*Record) **bool
}{
	{pkcs11.CKA_EXTRACTABLE, func(r *Record) **bool { return &r.Extractable }},
	{pkcs11.CKA_SENSITIVE, func(r *Record) **bool { return &r.Sensitive }},
	{pkcs11.CKA_TOKEN, func(r *Record) **bool { return &r.Token }},
	{pkcs11.CKA_PRIVATE, func(r *Record) **bool { return &r.Private }},
	{pkcs11.CKA_SIGN, func(r *Record) **bool { return &r.Sign }},
	{pkcs11.CKA_VERIFY, func(r *Record) **bool { return &r.Verify }},
	{pkcs11.CKA_ENCRYPT, func(r *Record) **bool { return &r.Encrypt }},
	{pkcs11.CKA_DECRYPT, func(r *Record) **bool { return &r.Decrypt }},
	{pkcs11.CKA_WRAP, func(r *Record) **bool { return &r.Wrap }},
	{pkcs11.CKA_UNWRAP, func(r *Record) **bool { return &r.Unwrap }},
	{pkcs11.CKA_DERIVE, func(r *Record) **bool { return &r.Derive }},
	{pkcs11.CKA_LOCAL, func(r *Record) **bool { return &r.Local }},
	{pkcs11.CKA_ALWAYS_SENSITIVE, func(r *Record) **bool { return &r.AlwaysSensitive }},
	{pkcs11.CKA_NEVER_EXTRACTABLE, func(r *Record) **bool { return &r.NeverExtractable }},
	{pkcs11.CKA_MODIFIABLE, func(r *Record) **bool { return &r.Modifiable }},
}
