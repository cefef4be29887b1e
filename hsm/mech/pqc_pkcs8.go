package mech

import (
	"crypto/x509/pkix"
	"encoding/asn1"

	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

// PKCS#8 PrivateKeyInfo for PQC keys, the payload C_WrapKey produces and
// C_UnwrapKey accepts (docs/pqc.md):
//
//   - ML-DSA (RFC 9881): OIDs 2.16.840.1.101.3.4.3.17/18/19; privateKey
//     holds ML-DSA-PrivateKey, written as the seed choice
//     "[0] IMPLICIT OCTET STRING (32)" when the seed is known, else the
//     expandedKey choice (OCTET STRING); "both" is accepted on import.
//   - ML-KEM (draft-ietf-lamps-kyber-certificates): OIDs
//     2.16.840.1.101.3.4.4.1/2/3, the same three choices with a 64-byte seed.
//   - SLH-DSA (RFC 9909): OIDs 2.16.840.1.101.3.4.3.20-31; privateKey holds
//     the raw FIPS 205 sk. An sk wrapped in a second OCTET STRING (earlier
//     drafts) is accepted on import.
//   - Hybrid X25519+ML-KEM has no standard encoding: the payload is Craton's
//     raw 96-byte private key, and the unwrap template must give
//     CKA_KEY_TYPE CKK_CRATON_HYBRID_X25519_ML_KEM and CKA_PARAMETER_SET.
//
// The key type of the new object (vendor or 3.2 family) comes from the
// unwrap template; the parameter set from the OID, and a CKA_PARAMETER_SET
// in the template must agree with it.

var (
	oidNIST = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4}

	pqOIDs = []struct {
		f   pqFamily
		set uint
		oid asn1.ObjectIdentifier
	}{
		{famMLDSA, ck.CKP_ML_DSA_44, append(oidNIST[:7:7], 3, 17)},
		{famMLDSA, ck.CKP_ML_DSA_65, append(oidNIST[:7:7], 3, 18)},
		{famMLDSA, ck.CKP_ML_DSA_87, append(oidNIST[:7:7], 3, 19)},
		{famSLHDSA, ck.CKP_SLH_DSA_SHA2_128S, append(oidNIST[:7:7], 3, 20)},
		{famSLHDSA, ck.CKP_SLH_DSA_SHA2_128F, append(oidNIST[:7:7], 3, 21)},
		{famSLHDSA, ck.CKP_SLH_DSA_SHA2_192S, append(oidNIST[:7:7], 3, 22)},
		{famSLHDSA, ck.CKP_SLH_DSA_SHA2_192F, append(oidNIST[:7:7], 3, 23)},
		{famSLHDSA, ck.CKP_SLH_DSA_SHA2_256S, append(oidNIST[:7:7], 3, 24)},
		{famSLHDSA, ck.CKP_SLH_DSA_SHA2_256F, append(oidNIST[:7:7], 3, 25)},
		{famSLHDSA, ck.CKP_SLH_DSA_SHAKE_128S, append(oidNIST[:7:7], 3, 26)},
		{famSLHDSA, ck.CKP_SLH_DSA_SHAKE_128F, append(oidNIST[:7:7], 3, 27)},
		{famSLHDSA, ck.CKP_SLH_DSA_SHAKE_192S, append(oidNIST[:7:7], 3, 28)},
		{famSLHDSA, ck.CKP_SLH_DSA_SHAKE_192F, append(oidNIST[:7:7], 3, 29)},
		{famSLHDSA, ck.CKP_SLH_DSA_SHAKE_256S, append(oidNIST[:7:7], 3, 30)},
		{famSLHDSA, ck.CKP_SLH_DSA_SHAKE_256F, append(oidNIST[:7:7], 3, 31)},
		{famMLKEM, ck.CKP_ML_KEM_512, append(oidNIST[:7:7], 4, 1)},
		{famMLKEM, ck.CKP_ML_KEM_768, append(oidNIST[:7:7], 4, 2)},
		{famMLKEM, ck.CKP_ML_KEM_1024, append(oidNIST[:7:7], 4, 3)},
	}
)

type pkcs8Info struct {
	Version    int
	Algorithm  pkix.AlgorithmIdentifier
	PrivateKey []byte
}

func pqOID(f pqFamily, set uint) asn1.ObjectIdentifier {
	for _, o := range pqOIDs {
		if o.f == f && o.set == set {
			return o.oid
		}
	}
	return nil
}

// marshalPQPKCS8 encodes a PQC private key as PKCS#8 (hybrid KEM: raw).
func marshalPQPKCS8(p *PQKey) ([]byte, error) {
	if !p.IsPrivate() {
		return nil, errNotWrappable
	}
	var inner []byte
	var err error
	switch p.family {
	case famHybridKEM:
		return append([]byte(nil), p.Seed...), nil
	case famSLHDSA:
		inner = append([]byte(nil), p.Private...)
	default:
		if p.Seed != nil {
			inner, err = asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: p.Seed})
		} else {
			inner, err = asn1.Marshal(p.Private)
		}
	}
	if err != nil {
		return nil, errGeneral
	}
	if p.ec != nil {
		return nil, errNotWrappable // the ECDSA half has no place in the payload
	}
	der, err := asn1.Marshal(pkcs8Info{Algorithm: pkix.AlgorithmIdentifier{Algorithm: pqOID(p.family, p.Set)}, PrivateKey: inner})
	if err != nil {
		return nil, errGeneral
	}
	return der, nil
}

// parsePQPKCS8 decodes an unwrapped PQC payload for a key of keyType;
// set is the template's CKA_PARAMETER_SET (0 if absent).
func parsePQPKCS8(b []byte, keyType, set uint) (*Key, error) {
	f := pqKeyTypes[keyType]
	if f == famHybridKEM {
		p, err := hybridKEMPrivate(set, b)
		if err != nil {
			return nil, errWrappedKey
		}
		return &Key{Class: pkcs11.CKO_PRIVATE_KEY, KeyType: keyType, PQ: p}, nil
	}
	n := derLen(b)
	if n < 0 || len(b)-n > 7 {
		return nil, errWrappedKey
	}
	for _, z := range b[n:] { // KW zero padding (see parsePKCS8)
		if z != 0 {
			return nil, errWrappedKey
		}
	}
	var info pkcs8Info
	if rest, err := asn1.Unmarshal(b[:n], &info); err != nil || len(rest) != 0 || info.Version != 0 {
		return nil, errWrappedKey
	}
	var of pqFamily
	var oset uint
	for _, o := range pqOIDs {
		if o.oid.Equal(info.Algorithm.Algorithm) {
			of, oset = o.f, o.set
		}
	}
	switch {
	case of == 0:
		return nil, errWrappedKey
	case of != f, set != 0 && set != oset:
		return nil, errTmplInconsist
	}
	var p *PQKey
	var err error
	switch f {
	case famSLHDSA:
		raw := info.PrivateKey
		want := slhSets[oset].id.Scheme().PrivateKeySize()
		var inner []byte
		if rest, e := asn1.Unmarshal(raw, &inner); len(raw) != want && e == nil && len(rest) == 0 && len(inner) == want {
			raw = inner
		}
		p, err = slhdsaPrivate(oset, raw)
	default:
		seed, expanded, e := pqPrivateChoice(info.PrivateKey)
		if e != nil {
			return nil, e
		}
		if f == famMLKEM {
			p, err = mlkemPrivate(oset, seed, expanded)
		} else {
			p, err = mldsaPrivate(oset, seed, expanded)
		}
	}
	if err != nil {
		return nil, errWrappedKey
	}
	return &Key{Class: pkcs11.CKO_PRIVATE_KEY, KeyType: keyType, PQ: p}, nil
}

// pqPrivateChoice decodes the ML-DSA/ML-KEM PrivateKey CHOICE: seed [0],
// expandedKey OCTET STRING, or both SEQUENCE {seed, expandedKey}.
func pqPrivateChoice(b []byte) (seed, expanded []byte, err error) {
	var rv asn1.RawValue
	rest, e := asn1.Unmarshal(b, &rv)
	if e != nil || len(rest) != 0 {
		return nil, nil, errWrappedKey
	}
	switch {
	case rv.Class == asn1.ClassContextSpecific && rv.Tag == 0 && !rv.IsCompound:
		return rv.Bytes, nil, nil
	case rv.Class == asn1.ClassUniversal && rv.Tag == asn1.TagOctetString:
		return nil, rv.Bytes, nil
	case rv.Class == asn1.ClassUniversal && rv.Tag == asn1.TagSequence:
		var both struct{ Seed, Expanded []byte }
		if rest, e := asn1.Unmarshal(b, &both); e != nil || len(rest) != 0 {
			return nil, nil, errWrappedKey
		}
		return both.Seed, both.Expanded, nil
	}
	return nil, nil, errWrappedKey
}

// UnwrapPQ is Unwrap for a PQC private key: set is the unwrap template's
// CKA_PARAMETER_SET (0 if absent), which the hybrid KEM's raw payload needs
// and which must agree with a PKCS#8 payload's OID.
func UnwrapPQ(m *pkcs11.Mechanism, unwrapping *Key, blob []byte, keyType, set uint) (*Key, error) {
	if !IsPQKeyType(keyType) {
		return nil, errTmplInconsist
	}
	plain, err := unwrapPayload(m, unwrapping, blob)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	return parsePQPKCS8(plain, keyType, set)
}
