package mech

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"

	"github.com/cloudflare/circl/kem"
	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/hsm/internal/avxstate"
	"github.com/miekg/pkcs11"
)

// Hybrid mechanisms in Craton's layouts.
//
// X25519 + ML-KEM (CKM_CRATON_HYBRID_X25519_MLKEM768/1024, reference §5.3):
//
//	private CKA_VALUE = X25519 secret (32) ‖ ML-KEM seed d‖z (64)
//	public  CKA_VALUE = X25519 public (32) ‖ ML-KEM ek (1184 / 1568)
//	ciphertext        = ephemeral X25519 public (32) ‖ ML-KEM ciphertext
//	shared secret     = HKDF-SHA256(salt "CratonHSM-HybridKEM-v1",
//	                      IKM = X25519 secret ‖ ML-KEM secret,
//	                      info "hybrid-kem-shared-secret"), 32 bytes
//
// ML-DSA-65 + ECDSA P-256 (CKM_CRATON_HYBRID_ML_DSA_ECDSA, reference §1.4):
//
//	signature = uint32 big-endian len(mldsa) ‖ ML-DSA-65 signature ‖
//	            ECDSA-P256 DER signature over SHA-256(message)
//
// verification checks both halves and accepts only if both hold.

const (
	x25519Size    = 32
	hybridKEMSalt = "CratonHSM-HybridKEM-v1"
	hybridKEMInfo = "hybrid-kem-shared-secret"
	// hybridSigMax bounds a hybrid signature: 4 + ML-DSA-65 (3309) + the
	// longest P-256 DER ECDSA signature (72).
	hybridSigMax = 4 + 3309 + 72
)

// x25519Key is the X25519 half of a hybrid KEM key (priv nil for a public key).
type x25519Key struct {
	priv *ecdh.PrivateKey
	pub  *ecdh.PublicKey
}

func generateHybridKEM(set uint) (*PQKey, error) {
	seed := make([]byte, x25519Size+mlkemSeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, errGeneral
	}
	return hybridKEMPrivate(set, seed)
}

// hybridKEMPrivate parses Craton's 96-byte hybrid private key.
func hybridKEMPrivate(set uint, v []byte) (*PQKey, error) {
	if set == 0 {
		return nil, errTmplIncomplete // both sets have 96-byte private keys
	}
	if !validSet(famHybridKEM, set) {
		return nil, errAttrValue
	}
	if len(v) != x25519Size+mlkemSeedSize {
		return nil, errAttrValue
	}
	xpriv, err := ecdh.X25519().NewPrivateKey(v[:x25519Size])
	if err != nil {
		return nil, errAttrValue
	}
	p, err := mlkemFromSeed(set, v[x25519Size:])
	if err != nil {
		return nil, err
	}
	return hybridPQ(p, xpriv, xpriv.PublicKey(), bytes.Clone(v)), nil
}

func hybridPQ(p *PQKey, xpriv *ecdh.PrivateKey, xpub *ecdh.PublicKey, seed []byte) *PQKey {
	p.family = famHybridKEM
	p.x = &x25519Key{priv: xpriv, pub: xpub}
	p.Public = append(bytes.Clone(xpub.Bytes()), p.Public...)
	p.Seed, p.Private = seed, nil
	return p
}

func hybridKEMPublic(set uint, v []byte) (*PQKey, error) {
	if len(v) <= x25519Size {
		return nil, errAttrValue
	}
	if set == 0 {
		set = mlkemSetByLen(len(v)-x25519Size, kem.Scheme.PublicKeySize)
	}
	if !validSet(famHybridKEM, set) {
		return nil, errAttrValue
	}
	xpub, err := ecdh.X25519().NewPublicKey(v[:x25519Size])
	if err != nil {
		return nil, errAttrValue
	}
	p, err := mlkemPublic(set, v[x25519Size:])
	if err != nil {
		return nil, err
	}
	return hybridPQ(p, nil, xpub, nil), nil
}

func hybridKDF(xss, kss []byte) ([]byte, error) {
	ikm := append(bytes.Clone(xss), kss...)
	defer clear(ikm)
	out, err := hkdf.Key(sha256.New, ikm, []byte(hybridKEMSalt), hybridKEMInfo, 32)
	if err != nil {
		return nil, errGeneral
	}
	return out, nil
}

func (p *PQKey) hybridEncapsulate() (ct, ss []byte, err error) {
	defer avxstate.Clean() // circl AVX2 leaves the upper YMM state dirty
	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, errGeneral
	}
	xss, err := eph.ECDH(p.x.pub)
	if err != nil {
		return nil, nil, errKeyType // low-order public key
	}
	defer clear(xss)
	kct, kss, err := p.kem.scheme.Encapsulate(p.kem.pub)
	if err != nil {
		return nil, nil, errGeneral
	}
	defer clear(kss)
	ss, err = hybridKDF(xss, kss)
	if err != nil {
		return nil, nil, err
	}
	return append(eph.PublicKey().Bytes(), kct...), ss, nil
}

func (p *PQKey) hybridDecapsulate(ct []byte) ([]byte, error) {
	defer avxstate.Clean() // circl AVX2 leaves the upper YMM state dirty
	if len(ct) != x25519Size+p.kem.scheme.CiphertextSize() {
		return nil, errEncData
	}
	eph, err := ecdh.X25519().NewPublicKey(ct[:x25519Size])
	if err != nil {
		return nil, errEncData
	}
	xss, err := p.x.priv.ECDH(eph)
	if err != nil {
		return nil, errEncData
	}
	defer clear(xss)
	kss, err := p.kem.scheme.Decapsulate(p.kem.priv, ct[x25519Size:])
	if err != nil {
		return nil, errEncData
	}
	defer clear(kss)
	return hybridKDF(xss, kss)
}

// addECCompanion gives a new ML-DSA-65 key its ECDSA P-256 half.
func (p *PQKey) addECCompanion() error {
	if p.family != famMLDSA || p.Set != ck.CKP_ML_DSA_65 {
		return errKeyType
	}
	ec, err := ecdsa.GenerateKey(curveP256.ec, rand.Reader)
	if err != nil {
		return errGeneral
	}
	p.ec, p.ecPub = ec, &ec.PublicKey
	return nil
}

// parseECCompanion reads the ECDSA half of an ML-DSA-65 key, if the object
// has one: CKA_CRATON_EC_PRIVATE_VALUE on the private object, CKA_EC_POINT
// (raw or DER OCTET STRING, P-256) on the public one.
func (p *PQKey) parseECCompanion(class uint, attrs map[uint][]byte) error {
	d, pt := attrs[ck.CKA_CRATON_EC_PRIVATE_VALUE], attrs[pkcs11.CKA_EC_POINT]
	if len(d) == 0 && (len(pt) == 0 || class != pkcs11.CKO_PUBLIC_KEY) {
		return nil
	}
	if p.family != famMLDSA || p.Set != ck.CKP_ML_DSA_65 {
		return errTmplInconsist
	}
	if params, ok := attrs[pkcs11.CKA_EC_PARAMS]; ok && len(params) != 0 && !bytes.Equal(params, oidP256) {
		return errCurve
	}
	if len(d) != 0 {
		ec, err := ecdsa.ParseRawPrivateKey(curveP256.ec, fixedScalar(d, curveP256.size))
		if err != nil {
			return errAttrValue
		}
		p.ec, p.ecPub = ec, &ec.PublicKey
		return nil
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(curveP256.ec, unwrapPoint(pt, curveP256.pointLen()))
	if err != nil {
		return errAttrValue
	}
	p.ecPub = pub
	return nil
}

// ecPublicAttrs are the companion's public attributes (none without one).
func (p *PQKey) ecPublicAttrs() map[uint][]byte {
	if p.ecPub == nil {
		return nil
	}
	pt, _ := p.ecPub.Bytes()
	return map[uint][]byte{pkcs11.CKA_EC_PARAMS: bytes.Clone(oidP256), pkcs11.CKA_EC_POINT: derOctetString(pt)}
}

func (p *PQKey) hybridSign(msg []byte, sc SignContext) ([]byte, error) {
	ms, err := p.dsa.sign(msg, sc.Context, sc.Hedge != ck.CKH_DETERMINISTIC_REQUIRED)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(msg)
	es, err := ecdsa.SignASN1(rand.Reader, p.ec, h[:])
	if err != nil {
		return nil, errGeneral
	}
	out := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(ms)+len(es)), uint32(len(ms)))
	return append(append(out, ms...), es...), nil
}

func (p *PQKey) hybridVerify(msg []byte, sc SignContext, sig []byte) error {
	if len(sig) < 4 || len(sig) > hybridSigMax {
		return errSignatureLen
	}
	n := binary.BigEndian.Uint32(sig)
	if uint64(n) > uint64(len(sig)-4) {
		return errSignature
	}
	ms, es := sig[4:4+n], sig[4+n:]
	h := sha256.Sum256(msg)
	okPQ := p.dsa.verify(msg, sc.Context, ms)
	okEC := ecdsa.VerifyASN1(p.ecPub, h[:], es)
	if !okPQ || !okEC {
		return errSignature
	}
	return nil
}
