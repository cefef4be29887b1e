package mech

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"

	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

// Post-quantum and hybrid keys (ML-KEM, ML-DSA, SLH-DSA, X25519+ML-KEM).
//
// Two code families select the same algorithms:
//
//   - Craton's vendor codes (reference §1.1, §1.3): one mechanism per
//     parameter set (CKM_CRATON_ML_KEM_768 ...), key types CKK_CRATON_*.
//     The private CKA_VALUE is Craton's format: the ML-KEM seed d‖z (64
//     bytes), the ML-DSA seed ξ (32 bytes), the SLH-DSA secret key.
//   - PKCS#11 3.2 codes (CKM_ML_KEM_KEY_PAIR_GEN, CKM_ML_KEM, CKK_ML_KEM ...):
//     the parameter set travels in CKA_PARAMETER_SET (CKP_*). The private
//     CKA_VALUE is the expanded FIPS 203 dk / FIPS 204 sk and CKA_SEED the
//     seed, as the 3.2 specification lays out.
//
// Every PQC key object carries CKA_PARAMETER_SET, whichever family made
// it, so that a vendor mechanism of another parameter set is refused
// (CKR_KEY_TYPE_INCONSISTENT) instead of silently reinterpreting the seed
// as Craton does. Either family's mechanisms work on either family's keys.

// pqFamily is the algorithm of a PQC key or mechanism.
type pqFamily uint8

const (
	famMLKEM pqFamily = iota + 1
	famMLDSA
	famSLHDSA
	famHybridKEM // X25519 + ML-KEM (Craton §5.3)
)

// PQKey is the parsed material of a PQC key. Private keys also hold the
// public half.
type PQKey struct {
	family pqFamily
	// Set is the CKP_* parameter set (for the hybrid KEM: the ML-KEM set).
	Set uint
	// Seed is the private seed (ML-KEM d‖z, ML-DSA ξ; hybrid: X25519
	// secret ‖ ML-KEM seed), nil when the key was imported without one.
	Seed []byte
	// Public is the encoded public key (hybrid: X25519 public ‖ ML-KEM ek).
	Public []byte
	// Private is the expanded private key (ML-KEM dk, ML-DSA sk, SLH-DSA
	// sk); nil for public keys and for the hybrid KEM.
	Private []byte

	kem *mlkemKey
	dsa *mldsaKey
	slh *slhdsaKey
	x   *x25519Key

	// ec is the ECDSA P-256 companion of an ML-DSA-65 key used with
	// CKM_CRATON_HYBRID_ML_DSA_ECDSA (reference §1.4); ecPub its public half.
	ec    *ecdsa.PrivateKey
	ecPub *ecdsa.PublicKey
}

// IsPrivate reports whether the key holds private material.
func (p *PQKey) IsPrivate() bool {
	switch p.family {
	case famMLKEM, famHybridKEM:
		return p.kem != nil && p.kem.priv != nil
	case famMLDSA:
		return p.dsa != nil && p.dsa.priv != nil
	case famSLHDSA:
		return p.slh != nil && p.slh.priv != nil
	}
	return false
}

// AuditLen is the key length Craton's audit log records for PQC keys: the
// parameter-set number (512/768/1024, 44/65/87, 128/192/256).
func (p *PQKey) AuditLen() int {
	switch p.family {
	case famMLKEM, famHybridKEM:
		return mlkemSets[p.Set].level
	case famMLDSA:
		return mldsaSets[p.Set].level
	case famSLHDSA:
		return slhSets[p.Set].level
	}
	return 0
}

// HasECCompanion reports whether the key can sign with
// CKM_CRATON_HYBRID_ML_DSA_ECDSA.
func (p *PQKey) HasECCompanion() bool { return p.ec != nil || p.ecPub != nil }

// pqMech describes a PQC mechanism: its family, the parameter set it fixes
// (0: the key's CKA_PARAMETER_SET decides), the key type its key-pair
// generation produces, and whether it generates key pairs / operates.
type pqMech struct {
	family  pqFamily
	set     uint
	keyType uint
	keyGen  bool
	op      bool
	hybrid  bool // CKM_CRATON_HYBRID_ML_DSA_ECDSA
}

var pqMechs = map[uint]pqMech{
	ck.CKM_CRATON_ML_KEM_512:              {famMLKEM, ck.CKP_ML_KEM_512, ck.CKK_CRATON_ML_KEM, true, true, false},
	ck.CKM_CRATON_ML_KEM_768:              {famMLKEM, ck.CKP_ML_KEM_768, ck.CKK_CRATON_ML_KEM, true, true, false},
	ck.CKM_CRATON_ML_KEM_1024:             {famMLKEM, ck.CKP_ML_KEM_1024, ck.CKK_CRATON_ML_KEM, true, true, false},
	ck.CKM_CRATON_ML_DSA_44:               {famMLDSA, ck.CKP_ML_DSA_44, ck.CKK_CRATON_ML_DSA, true, true, false},
	ck.CKM_CRATON_ML_DSA_65:               {famMLDSA, ck.CKP_ML_DSA_65, ck.CKK_CRATON_ML_DSA, true, true, false},
	ck.CKM_CRATON_ML_DSA_87:               {famMLDSA, ck.CKP_ML_DSA_87, ck.CKK_CRATON_ML_DSA, true, true, false},
	ck.CKM_CRATON_SLH_DSA_SHA2_128S:       {famSLHDSA, ck.CKP_SLH_DSA_SHA2_128S, ck.CKK_CRATON_SLH_DSA, true, true, false},
	ck.CKM_CRATON_SLH_DSA_SHA2_256S:       {famSLHDSA, ck.CKP_SLH_DSA_SHA2_256S, ck.CKK_CRATON_SLH_DSA, true, true, false},
	ck.CKM_CRATON_HYBRID_ML_DSA_ECDSA:     {famMLDSA, ck.CKP_ML_DSA_65, ck.CKK_CRATON_ML_DSA, true, true, true},
	ck.CKM_CRATON_HYBRID_X25519_MLKEM768:  {famHybridKEM, ck.CKP_ML_KEM_768, ck.CKK_CRATON_HYBRID_X25519_ML_KEM, true, true, false},
	ck.CKM_CRATON_HYBRID_X25519_MLKEM1024: {famHybridKEM, ck.CKP_ML_KEM_1024, ck.CKK_CRATON_HYBRID_X25519_ML_KEM, true, true, false},
	ck.CKM_ML_KEM_KEY_PAIR_GEN:            {famMLKEM, 0, ck.CKK_ML_KEM, true, false, false},
	ck.CKM_ML_KEM:                         {famMLKEM, 0, ck.CKK_ML_KEM, false, true, false},
	ck.CKM_ML_DSA_KEY_PAIR_GEN:            {famMLDSA, 0, ck.CKK_ML_DSA, true, false, false},
	ck.CKM_ML_DSA:                         {famMLDSA, 0, ck.CKK_ML_DSA, false, true, false},
	ck.CKM_SLH_DSA_KEY_PAIR_GEN:           {famSLHDSA, 0, ck.CKK_SLH_DSA, true, false, false},
	ck.CKM_SLH_DSA:                        {famSLHDSA, 0, ck.CKK_SLH_DSA, false, true, false},
}

// pqKeyTypes maps every PQC key type to its family.
var pqKeyTypes = map[uint]pqFamily{
	ck.CKK_CRATON_ML_KEM: famMLKEM, ck.CKK_ML_KEM: famMLKEM,
	ck.CKK_CRATON_ML_DSA: famMLDSA, ck.CKK_ML_DSA: famMLDSA,
	ck.CKK_CRATON_SLH_DSA: famSLHDSA, ck.CKK_SLH_DSA: famSLHDSA,
	ck.CKK_CRATON_HYBRID_X25519_ML_KEM: famHybridKEM,
}

// IsPQKeyType reports the PQC key types (both code families and the hybrid KEM).
func IsPQKeyType(t uint) bool { _, ok := pqKeyTypes[t]; return ok }

// IsPQKeyGen reports a PQC key-pair generation mechanism and the key type
// it produces.
func IsPQKeyGen(m uint) (keyType uint, ok bool) {
	pm, ok := pqMechs[m]
	if !ok || !pm.keyGen {
		return 0, false
	}
	return pm.keyType, true
}

// IsKEM reports the KEM mechanisms (ML-KEM of both families and the hybrid
// X25519+ML-KEM), which C_DeriveKey, C_EncapsulateKey and C_DecapsulateKey
// accept.
func IsKEM(m uint) bool {
	pm, ok := pqMechs[m]
	return ok && pm.op && (pm.family == famMLKEM || pm.family == famHybridKEM)
}

// KEMDefaultKeyType is the key type of the shared-secret key a KEM
// mechanism creates when the template names none: CKK_AES for Craton's
// vendor codes (reference §5.2), CKK_GENERIC_SECRET for CKM_ML_KEM.
func KEMDefaultKeyType(m uint) uint {
	if m == ck.CKM_ML_KEM {
		return pkcs11.CKK_GENERIC_SECRET
	}
	return pkcs11.CKK_AES
}

// isPQSign reports the PQC signature mechanisms.
func isPQSign(m uint) bool {
	pm, ok := pqMechs[m]
	return ok && pm.op && (pm.family == famMLDSA || pm.family == famSLHDSA)
}

// pqOpKey checks that k suits operation mechanism m (family, parameter
// set, and for the hybrid signature the ECDSA companion) and returns its
// PQC material.
func pqOpKey(m uint, k *Key) (*PQKey, pqMech, error) {
	pm := pqMechs[m]
	if k == nil || k.PQ == nil {
		return nil, pm, errKeyType
	}
	p := k.PQ
	switch {
	case p.family != pm.family:
		return nil, pm, errKeyType
	case pm.set != 0 && p.Set != pm.set:
		return nil, pm, errKeyType
	}
	return p, pm, nil
}

// pqSetFromTemplates reads CKA_PARAMETER_SET from the public and private
// templates of a 3.2 key-pair generation (the specification puts it in the
// public one; either is accepted, both must agree).
func pqSetFromTemplates(pm pqMech, pubTmpl, privTmpl map[uint][]byte) (uint, error) {
	a, ga, err := tmplUlong(pubTmpl, ck.CKA_PARAMETER_SET)
	if err != nil {
		return 0, err
	}
	b, gb, err := tmplUlong(privTmpl, ck.CKA_PARAMETER_SET)
	if err != nil {
		return 0, err
	}
	var set uint
	switch {
	case ga && gb && a != b:
		return 0, errTmplInconsist
	case ga:
		set = uint(a)
	case gb:
		set = uint(b)
	case pm.set != 0:
		return pm.set, nil
	default:
		return 0, errTmplIncomplete
	}
	if pm.set != 0 && set != pm.set {
		return 0, errTmplInconsist
	}
	if !validSet(pm.family, set) {
		return 0, errParamSet
	}
	return set, nil
}

func validSet(f pqFamily, set uint) bool {
	switch f {
	case famMLKEM:
		_, ok := mlkemSets[set]
		return ok
	case famHybridKEM:
		return set == ck.CKP_ML_KEM_768 || set == ck.CKP_ML_KEM_1024
	case famMLDSA:
		_, ok := mldsaSets[set]
		return ok
	case famSLHDSA:
		_, ok := slhSets[set]
		return ok
	}
	return false
}

// generatePQ generates a PQC key pair for mechanism m.
func generatePQ(m uint, pubTmpl, privTmpl map[uint][]byte) (*Key, error) {
	pm := pqMechs[m]
	set, err := pqSetFromTemplates(pm, pubTmpl, privTmpl)
	if err != nil {
		return nil, err
	}
	var p *PQKey
	switch pm.family {
	case famMLKEM:
		p, err = generateMLKEM(set)
	case famMLDSA:
		p, err = generateMLDSA(set)
	case famSLHDSA:
		p, err = generateSLHDSA(set)
	case famHybridKEM:
		p, err = generateHybridKEM(set)
	}
	if err != nil {
		return nil, err
	}
	if pm.hybrid {
		if err := p.addECCompanion(); err != nil {
			return nil, err
		}
	}
	return &Key{Class: pkcs11.CKO_PRIVATE_KEY, KeyType: pm.keyType, PQ: p}, nil
}

// parsePQ builds a PQC key from an object's attributes. The parameter set
// comes from CKA_PARAMETER_SET or, where the encoding's length is unique
// to one set (ML-KEM and ML-DSA public keys, expanded private keys), from
// the length. Private keys: CKA_SEED, or CKA_VALUE holding either the seed
// (Craton's format) or the expanded key; given both, they must agree.
func parsePQ(class, keyType uint, attrs map[uint][]byte) (*Key, error) {
	f := pqKeyTypes[keyType]
	set, given, err := tmplUlong(attrs, ck.CKA_PARAMETER_SET)
	if err != nil {
		return nil, err
	}
	if given && !validSet(f, uint(set)) {
		return nil, errAttrValue
	}
	var p *PQKey
	if class == pkcs11.CKO_PUBLIC_KEY {
		v, err := need(attrs, pkcs11.CKA_VALUE)
		if err != nil {
			return nil, err
		}
		p, err = parsePQPublic(f, uint(set), v)
		if err != nil {
			return nil, err
		}
	} else {
		seed, value := attrs[ck.CKA_SEED], attrs[pkcs11.CKA_VALUE]
		if len(seed) == 0 && len(value) == 0 {
			return nil, errTmplIncomplete
		}
		p, err = parsePQPrivate(f, uint(set), seed, value)
		if err != nil {
			return nil, err
		}
	}
	if err := p.parseECCompanion(class, attrs); err != nil {
		return nil, err
	}
	return &Key{Class: class, KeyType: keyType, PQ: p}, nil
}

func parsePQPublic(f pqFamily, set uint, v []byte) (*PQKey, error) {
	switch f {
	case famMLKEM:
		return mlkemPublic(set, v)
	case famMLDSA:
		return mldsaPublic(set, v)
	case famSLHDSA:
		return slhdsaPublic(set, v)
	case famHybridKEM:
		return hybridKEMPublic(set, v)
	}
	return nil, errKeyType
}

func parsePQPrivate(f pqFamily, set uint, seed, value []byte) (*PQKey, error) {
	switch f {
	case famMLKEM:
		return mlkemPrivate(set, seed, value)
	case famMLDSA:
		return mldsaPrivate(set, seed, value)
	case famSLHDSA:
		if len(seed) != 0 && len(value) != 0 && !bytes.Equal(seed, value) {
			return nil, errAttrValue
		}
		if len(value) == 0 {
			value = seed
		}
		return slhdsaPrivate(set, value)
	case famHybridKEM:
		if len(value) == 0 {
			value = seed
		}
		return hybridKEMPrivate(set, value)
	}
	return nil, errKeyType
}

// pqKeyAttrs returns the attributes of a PQC private key object. Vendor key
// types keep Craton's CKA_VALUE (the seed, or the SLH-DSA secret key); the
// 3.2 key types get the expanded key in CKA_VALUE and the seed in CKA_SEED.
func pqKeyAttrs(k *Key) map[uint][]byte {
	p := k.PQ
	if !p.IsPrivate() {
		return pqPublicAttrs(k)
	}
	m := map[uint][]byte{ck.CKA_PARAMETER_SET: ulongBytes(uint64(p.Set))}
	switch {
	case p.family == famHybridKEM, p.family == famSLHDSA:
		m[pkcs11.CKA_VALUE] = bytes.Clone(p.Private)
		if p.family == famHybridKEM {
			m[pkcs11.CKA_VALUE] = bytes.Clone(p.Seed)
		}
	case isVendorPQType(k.KeyType) && p.Seed != nil:
		m[pkcs11.CKA_VALUE] = bytes.Clone(p.Seed)
	default:
		m[pkcs11.CKA_VALUE] = bytes.Clone(p.Private)
		if p.Seed != nil {
			m[ck.CKA_SEED] = bytes.Clone(p.Seed)
		}
	}
	if p.ec != nil {
		d, _ := p.ec.Bytes()
		m[ck.CKA_CRATON_EC_PRIVATE_VALUE] = d
		for t, v := range p.ecPublicAttrs() {
			m[t] = v
		}
	}
	return m
}

// pqPublicAttrs returns the attributes of the public object of a PQC key:
// CKA_VALUE is the encoded public key (reference "differ" item 16).
func pqPublicAttrs(k *Key) map[uint][]byte {
	p := k.PQ
	m := map[uint][]byte{
		ck.CKA_PARAMETER_SET: ulongBytes(uint64(p.Set)),
		pkcs11.CKA_VALUE:     bytes.Clone(p.Public),
	}
	for t, v := range p.ecPublicAttrs() {
		m[t] = v
	}
	return m
}

func isVendorPQType(t uint) bool { return t&0x80000000 != 0 }

// pqPairwise is the pairwise consistency test of a new PQC key pair:
// sign/verify, or encapsulate/decapsulate.
func pqPairwise(p *PQKey) error {
	msg := []byte("craton pairwise consistency test")
	switch p.family {
	case famMLKEM, famHybridKEM:
		ct, ss, err := p.encapsulate()
		if err != nil {
			return err
		}
		ss2, err := p.decapsulate(ct)
		if err != nil || !bytes.Equal(ss, ss2) {
			return errGeneral
		}
	case famMLDSA:
		sig, err := p.dsa.sign(msg, nil, false)
		if err != nil || !p.dsa.verify(msg, nil, sig) {
			return errGeneral
		}
	case famSLHDSA:
		return p.slh.pairwise()
	}
	if p.ec != nil {
		return pairwiseTest(ecKey(p.ec))
	}
	return nil
}

// setByLen finds the parameter set of sets whose encoding of one kind has
// length n (size returns it for a set); 0 when none has. The PQC key
// formats carry no parameter set, so a bare key's length tells it.
func setByLen[S any](sets map[uint]S, n int, size func(S) int) uint {
	for set, s := range sets {
		if size(s) == n {
			return set
		}
	}
	return 0
}

// fromRandomSeed derives a new key pair from a fresh random seed of n
// bytes (the FIPS 203/204 KeyGen entry from a seed).
func fromRandomSeed(n int, derive func(seed []byte) (*PQKey, error)) (*PQKey, error) {
	seed := make([]byte, n)
	if _, err := rand.Read(seed); err != nil {
		return nil, errGeneral
	}
	return derive(seed)
}
