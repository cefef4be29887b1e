package mech

import (
	"crypto"
	_ "crypto/sha1" // registers crypto.SHA1 for CKM_SHA_1 and OAEP/MGF1/KDF SHA-1
	_ "crypto/sha256"
	_ "crypto/sha3"
	_ "crypto/sha512"

	"github.com/miekg/pkcs11"
)

// digestHashes maps the digest mechanisms (also used as hashAlg in the PSS
// and OAEP parameter structures) to Go hashes.
var digestHashes = map[uint]crypto.Hash{
	pkcs11.CKM_SHA_1:    crypto.SHA1,
	pkcs11.CKM_SHA224:   crypto.SHA224,
	pkcs11.CKM_SHA256:   crypto.SHA256,
	pkcs11.CKM_SHA384:   crypto.SHA384,
	pkcs11.CKM_SHA512:   crypto.SHA512,
	pkcs11.CKM_SHA3_256: crypto.SHA3_256,
	pkcs11.CKM_SHA3_384: crypto.SHA3_384,
	pkcs11.CKM_SHA3_512: crypto.SHA3_512,
}

// mgfHashes maps CKG_MGF1_* to the hash MGF1 runs on.
var mgfHashes = map[uint]crypto.Hash{
	pkcs11.CKG_MGF1_SHA1:   crypto.SHA1,
	pkcs11.CKG_MGF1_SHA224: crypto.SHA224,
	pkcs11.CKG_MGF1_SHA256: crypto.SHA256,
	pkcs11.CKG_MGF1_SHA384: crypto.SHA384,
	pkcs11.CKG_MGF1_SHA512: crypto.SHA512,
}

// kdfHashes maps the ANSI X9.63 KDF selectors of CK_ECDH1_DERIVE_PARAMS.
var kdfHashes = map[uint]crypto.Hash{
	pkcs11.CKD_SHA1_KDF:   crypto.SHA1,
	pkcs11.CKD_SHA224_KDF: crypto.SHA224,
	pkcs11.CKD_SHA256_KDF: crypto.SHA256,
	pkcs11.CKD_SHA384_KDF: crypto.SHA384,
	pkcs11.CKD_SHA512_KDF: crypto.SHA512,
}

// paramHashes returns the hash and MGF1 hash the PSS/OAEP parameters name.
// Go's crypto/rsa ties PSS's MGF1 hash to the message hash, so a mixed pair
// is refused for PSS by the caller.
func paramHashes(hashAlg, mgf uint) (h, mgfH crypto.Hash, err error) {
	h, ok := digestHashes[hashAlg]
	if !ok || h == crypto.SHA3_256 || h == crypto.SHA3_384 || h == crypto.SHA3_512 {
		return 0, 0, errParamInvalid
	}
	mgfH, ok = mgfHashes[mgf]
	if !ok {
		return 0, 0, errParamInvalid
	}
	return h, mgfH, nil
}
