package mech

import (
	"bytes"
	"crypto/ecdh"
	"crypto/elliptic"
)

// CKA_EC_PARAMS encodings.
var (
	oidP256    = []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}
	oidP384    = []byte{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22}
	oidEd25519 = []byte{0x06, 0x03, 0x2b, 0x65, 0x70}
	// PrintableString "edwards25519", written by SoftHSMv2 and OpenSC.
	nameEd25519 = append([]byte{0x13, 0x0c}, "edwards25519"...)
)

// curve describes a supported Weierstrass curve.
type curve struct {
	oid  []byte
	ec   elliptic.Curve
	ecdh ecdh.Curve
	size int // field/scalar size in bytes
	bits uint
}

var (
	curveP256 = &curve{oid: oidP256, ec: elliptic.P256(), ecdh: ecdh.P256(), size: 32, bits: 256}
	curveP384 = &curve{oid: oidP384, ec: elliptic.P384(), ecdh: ecdh.P384(), size: 48, bits: 384}
)

// pointLen is the length of an uncompressed SEC1 point.
func (c *curve) pointLen() int { return 2*c.size + 1 }

// curveOf returns the supported curve of an ecdsa/elliptic curve, or nil.
func curveOf(ec elliptic.Curve) *curve {
	switch ec {
	case elliptic.P256():
		return curveP256
	case elliptic.P384():
		return curveP384
	}
	return nil
}

// parseECParams decodes a CKA_EC_PARAMS value. It returns the Weierstrass
// curve, or ed == true for Ed25519. An OBJECT IDENTIFIER naming another curve
// gives CKR_CURVE_NOT_SUPPORTED; anything else CKR_ATTRIBUTE_VALUE_INVALID.
func parseECParams(b []byte) (c *curve, ed bool, err error) {
	switch {
	case bytes.Equal(b, oidP256):
		return curveP256, false, nil
	case bytes.Equal(b, oidP384):
		return curveP384, false, nil
	case bytes.Equal(b, oidEd25519), bytes.Equal(b, nameEd25519):
		return nil, true, nil
	case len(b) > 2 && (b[0] == 0x06 || b[0] == 0x13) && int(b[1]) == len(b)-2:
		return nil, false, errCurve
	}
	return nil, false, errAttrValue
}

// derOctetString wraps p in a DER OCTET STRING (p is at most 255 bytes).
func derOctetString(p []byte) []byte {
	if len(p) < 0x80 {
		return append([]byte{0x04, byte(len(p))}, p...)
	}
	return append([]byte{0x04, 0x81, byte(len(p))}, p...)
}

// unwrapPoint returns the n-byte point in b, which is either the raw point
// or a DER OCTET STRING holding it (both occur in CKA_EC_POINT and in ECDH
// public data); nil if it is neither.
func unwrapPoint(b []byte, n int) []byte {
	switch {
	case len(b) == n:
		return b
	case len(b) == n+2 && b[0] == 0x04 && int(b[1]) == n && n < 0x80:
		return b[2:]
	case len(b) == n+3 && b[0] == 0x04 && b[1] == 0x81 && int(b[2]) == n && n >= 0x80:
		return b[3:]
	}
	return nil
}
