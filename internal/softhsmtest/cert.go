package softhsmtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"
	"time"

	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// tokenSigner is a crypto.Signer whose private key stays in the token:
// RSA PKCS#1 v1.5 over SHA-256 through CKM_RSA_PKCS with the DigestInfo
// prefix added here (the digest is computed by crypto/x509).
type tokenSigner struct {
	s    *p11.Session
	priv pkcs11.ObjectHandle
	pub  *rsa.PublicKey
}

// sha256DigestInfo is the DER prefix of DigestInfo{sha256, OCTET STRING(32)}.
var sha256DigestInfo = []byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}

func (ts tokenSigner) Public() crypto.PublicKey { return ts.pub }

func (ts tokenSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts.HashFunc() != crypto.SHA256 || len(digest) != 32 {
		return nil, fmt.Errorf("tokenSigner: only SHA-256 PKCS#1 v1.5, got %v", opts.HashFunc())
	}
	mech := []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil)}
	if err := ts.s.M.SignInit(ts.s.H, mech, ts.priv); err != nil {
		return nil, p11.Wrap("C_SignInit(CKM_RSA_PKCS)", err)
	}
	sig, err := ts.s.M.Sign(ts.s.H, append(append([]byte{}, sha256DigestInfo...), digest...))
	return sig, p11.Wrap("C_Sign", err)
}

// rsaPublic reads an RSA public key object.
func rsaPublic(s *p11.Session, h pkcs11.ObjectHandle) (*rsa.PublicKey, error) {
	a, err := p11.ReadAttrs(s.M, s.H, h, pkcs11.CKA_MODULUS, pkcs11.CKA_PUBLIC_EXPONENT)
	if err != nil {
		return nil, err
	}
	if !a.Has(pkcs11.CKA_MODULUS) || !a.Has(pkcs11.CKA_PUBLIC_EXPONENT) {
		return nil, fmt.Errorf("RSA public key attributes unavailable: %v", a.Unavailable)
	}
	e := new(big.Int).SetBytes(a.Bytes(pkcs11.CKA_PUBLIC_EXPONENT))
	return &rsa.PublicKey{N: new(big.Int).SetBytes(a.Bytes(pkcs11.CKA_MODULUS)), E: int(e.Int64())}, nil
}

// selfSignedCert makes a self-signed certificate for the token's RSA key.
func selfSignedCert(s *p11.Session, pub, priv pkcs11.ObjectHandle, cn string) (*x509.Certificate, error) {
	pk, err := rsaPublic(s, pub)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:       serial,
		Subject:            pkix.Name{CommonName: cn},
		NotBefore:          now.Add(-time.Hour),
		NotAfter:           now.AddDate(10, 0, 0),
		SignatureAlgorithm: x509.SHA256WithRSA,
		KeyUsage:           x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pk, tokenSigner{s: s, priv: priv, pub: pk})
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

// importCert stores cert as a CKO_CERTIFICATE the way pkcs11-tool
// --write-object --type cert does (public object, same CKA_ID as its key).
func importCert(s *p11.Session, id, label string, cert *x509.Certificate) error {
	serial, err := asn1.Marshal(cert.SerialNumber)
	if err != nil {
		return err
	}
	var t attrs
	t.add(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE)
	t.add(pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKC_X_509)
	t.add(pkcs11.CKA_TOKEN, true)
	t.add(pkcs11.CKA_PRIVATE, false)
	t.add(pkcs11.CKA_LABEL, label)
	t.add(pkcs11.CKA_ID, idBytes(id))
	t.add(pkcs11.CKA_SUBJECT, cert.RawSubject)
	t.add(pkcs11.CKA_ISSUER, cert.RawIssuer)
	t.add(pkcs11.CKA_SERIAL_NUMBER, serial)
	t.add(pkcs11.CKA_VALUE, cert.Raw)
	return create(s, label, t)
}
