package wrapmove

import (
	"errors"
	"fmt"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// wrapOne moves one private or secret key: reuse a proven copy already on
// the target, else wrap, unwrap, complete the key pair and prove.
func (m *mover) wrapOne(a Action, so *object, e *JournalEntry) (outcome, error) {
	if st, done, err := m.reuseExisting(so, e, m.proveKey); done || err != nil {
		return st, err
	}
	mech, err := m.wrapMechanism(a, so)
	if err != nil {
		return outcome{}, err
	}
	tr, err := m.transport()
	if err != nil {
		return outcome{}, err
	}
	wm := []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)} // no IV: SoftHSMv2 refuses any (facts §16)
	blob, err := m.src.M.WrapKey(m.src.H, wm, tr.src, so.h)
	if err != nil {
		return outcome{}, p11.Wrap("C_WrapKey("+ck.MechName(mech)+") on the source", err)
	}
	h, err := m.dst.M.UnwrapKey(m.dst.H, wm, tr.dst, blob, unwrapTemplate(so, m.caps, m.opts.Harden))
	clear(blob)
	if err != nil {
		n := m.removeOrphans(so.Class)
		return outcome{}, fmt.Errorf("%w (removed %d half-made object(s) from the target)", p11.Wrap("C_UnwrapKey on the target", err), n)
	}
	m.ix.add(so.Class, so.ID, so.Label, h)
	e.set(StateUnwrapped, "", "")
	if m.opts.crashAfterUnwrap == so.Identity() {
		return outcome{}, errSimulatedCrash
	}
	proof, created, err := m.proveKey(so, h)
	if err != nil && !isUnprovable(err) {
		m.destroyTarget(h, created)
		return outcome{}, fmt.Errorf("proof failed, target copy destroyed: %w", err)
	}
	st := outcome{status: StatusMoved, proof: proof, detail: m.wrapDetail(mech)}
	if isUnprovable(err) {
		st.proof = err.Error()
	}
	return st, nil
}

func isUnprovable(err error) bool {
	var u errUnprovable
	return errors.As(err, &u)
}

// wrapDetail is the detail of a moved key's row; rows share one string
// per mechanism.
func (m *mover) wrapDetail(mech uint) string {
	if d, ok := m.details[mech]; ok {
		return d
	}
	if m.details == nil {
		m.details = map[uint]string{}
	}
	d := ck.MechName(mech)
	if m.opts.Harden {
		d += "; hardened: CKA_EXTRACTABLE=false on the target"
	}
	d += "; provenance reset by unwrap (CKA_LOCAL, ALWAYS_SENSITIVE, NEVER_EXTRACTABLE false)"
	m.details[mech] = d
	return d
}

// wrapMechanism is the plan's mechanism, or a fresh choice for a skip
// action whose object is no longer on the target.
func (m *mover) wrapMechanism(a Action, so *object) (uint, error) {
	if a.Mechanism != "" {
		if mech, ok := ck.MechByName(a.Mechanism); ok {
			return mech, nil
		}
	}
	mech, why := chooseMechanism(so.Class, so.ValueLen, m.caps)
	if mech == 0 {
		return 0, errors.New(why)
	}
	return mech, nil
}

// reuseExisting looks for copies of so already on the target (from an
// earlier, interrupted run) and proves them. One proven copy is kept and
// the action is done; unproven or duplicate copies that craton made are
// destroyed; a copy that was there before craton and does not prove is a
// conflict craton will not touch.
func (m *mover) reuseExisting(so *object, e *JournalEntry, prove func(*object, pkcs11.ObjectHandle) (string, pkcs11.ObjectHandle, error)) (outcome, bool, error) {
	hs, err := m.findTarget(so.Class, so.ID, so.Label)
	if err != nil || len(hs) == 0 {
		return outcome{}, false, err
	}
	var kept string
	var conflict error
	for _, h := range hs {
		proof, created, perr := prove(so, h)
		switch {
		case (perr == nil || isUnprovable(perr)) && kept == "":
			kept = proof
			if perr != nil {
				kept = perr.Error()
			}
		case e.Preexisting:
			if perr != nil {
				conflict = fmt.Errorf("the target already held a different object with this class, CKA_ID and label before the move; craton does not destroy it: %v", perr)
			}
		default:
			m.destroyTarget(h, created) // ours: a duplicate, or a copy that does not prove
		}
	}
	if kept != "" {
		return outcome{status: StatusSkipped, proof: kept, detail: "already on the target; re-proven"}, true, nil
	}
	return outcome{}, conflict != nil, conflict
}

// proveKey proves a target key against its source. For a private key it
// first makes sure the target has the public key (returned in created
// when made here, so that a failed proof can remove it too).
func (m *mover) proveKey(so *object, dh pkcs11.ObjectHandle) (string, pkcs11.ObjectHandle, error) {
	if err := compareSource(m.src, so, m.dst, dh, compareSet(so, m.opts.Harden)); err != nil {
		return "", 0, err
	}
	if so.Class == ClassSecretKey {
		p, err := proveSecret(m.src, m.dst, so, dh)
		return p, 0, err
	}
	srcPub, err := m.sourcePublic(so, dh)
	if err != nil {
		return "", 0, err
	}
	dstPub, created, err := m.targetPublic(so, srcPub)
	if err != nil {
		return "", 0, err
	}
	h := pairHandles{srcPriv: so.h, srcPub: srcPub.h, dstPriv: dh, dstPub: dstPub}
	p, err := proveKeyPair(m.src, m.dst, so, h)
	if err != nil && created != 0 {
		m.destroyTarget(created)
		created = 0
	}
	return p, created, err
}

// sourcePublic finds the source public key of a private key: same CKA_ID;
// for RSA without one, a session object built from the private key's
// modulus and exponent; for EC without one, the source EC public key that
// verifies a signature of the target key (imported keys often carry
// different IDs on their two halves).
func (m *mover) sourcePublic(so *object, dh pkcs11.ObjectHandle) (*object, error) {
	if len(so.ID) > 0 {
		if r, ok := m.sx.pubByID[string(so.ID)]; ok {
			return pubRef(r, so.ID), nil
		}
		if o, ok := m.sx.sessionPubs[string(so.ID)]; ok {
			return o, nil
		}
	}
	if so.KeyType == KeyRSA {
		t := publicFromPrivate(so, nil)
		for i, a := range t {
			if a.Type == pkcs11.CKA_TOKEN {
				t[i] = pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false) // session object: the source stays unchanged
			}
		}
		h, err := m.src.M.CreateObject(m.src.H, t)
		if err != nil {
			return nil, p11.Wrap("C_CreateObject(session public key on the source)", err)
		}
		pub := &object{h: h, attrs: so.attrs, SourceObject: so.SourceObject}
		pub.Class = ClassPublicKey
		if len(so.ID) > 0 {
			m.sx.sessionPubs[string(so.ID)] = pub
		}
		return pub, nil
	}
	return m.publicBySignature(so, dh)
}

// pubRef is a source public key whose attributes are not read yet
// (sourceAttrs reads them when a template needs them).
func pubRef(r srcRef, id []byte) *object {
	o := &object{h: r.h, SourceObject: SourceObject{Class: ClassPublicKey, ID: id}}
	if r.hasKeyType {
		o.KeyType = keyTypeName(r.keyType)
	}
	return o
}

// sourceAttrs returns o's attributes, reading them first when o came from
// the scan without them.
func (m *mover) sourceAttrs(o *object) (*object, error) {
	if o.attrs.Values != nil {
		return o, nil
	}
	kt, ok := keyTypeValue(o.KeyType)
	return loadObject(m.src, srcRef{h: o.h, cls: pkcs11.CKO_PUBLIC_KEY, keyType: kt, hasKeyType: ok})
}

func (m *mover) publicBySignature(so *object, dh pkcs11.ObjectHandle) (*object, error) {
	mech, data, ok := signMech(so.KeyType)
	if !ok || !hasUsage(so.Usage, "sign") {
		return nil, errUnprovable{why: "no public key with the same CKA_ID on the source, and the key cannot sign"}
	}
	sig, err := signOnce(m.dst, dh, mech, data)
	if err != nil {
		return nil, fmt.Errorf("sign on the target: %w", err)
	}
	cands, err := m.signatureCandidates()
	if err != nil {
		return nil, err
	}
	params := string(so.attrs.Bytes(pkcs11.CKA_EC_PARAMS))
	for _, c := range cands {
		if !c.hasKeyType || keyTypeName(c.keyType) != so.KeyType || c.params != params {
			continue
		}
		if verifyOnce(m.src, c.h, mech, data, sig) == nil {
			return pubRef(c.srcRef, nil), nil
		}
	}
	return nil, fmt.Errorf("no source public key verifies the target key's signature: cannot prove it")
}

// signatureCandidates reads CKA_EC_PARAMS of every source public key once,
// on the first private key that needs a search by signature.
func (m *mover) signatureCandidates() ([]sigCand, error) {
	x := m.sx
	if x.sigRead {
		return x.sigCands, nil
	}
	for _, r := range x.pubs {
		c := sigCand{srcRef: r}
		if r.hasKeyType && r.keyType != pkcs11.CKK_RSA {
			a, err := p11.ReadAttrs(m.src.M, m.src.H, r.h, pkcs11.CKA_EC_PARAMS)
			if err != nil {
				return nil, err
			}
			c.params = string(a.Bytes(pkcs11.CKA_EC_PARAMS))
		}
		x.sigCands = append(x.sigCands, c)
	}
	x.sigRead = true
	return x.sigCands, nil
}

// targetPublic finds the target's public key with the private key's
// CKA_ID, or creates one from the source public components.
func (m *mover) targetPublic(so, srcPub *object) (pkcs11.ObjectHandle, pkcs11.ObjectHandle, error) {
	if h, ok := m.ix.pubByID[string(so.ID)]; ok && len(so.ID) > 0 {
		return h, 0, nil
	}
	srcPub, err := m.sourceAttrs(srcPub)
	if err != nil {
		return 0, 0, err
	}
	h, err := m.dst.M.CreateObject(m.dst.H, publicFromPrivate(so, srcPub))
	if err != nil {
		return 0, 0, p11.Wrap("C_CreateObject(public key for "+so.Label+" on the target)", err)
	}
	m.ix.add(ClassPublicKey, so.ID, so.Label, h)
	return h, h, nil
}
