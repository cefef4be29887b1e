package main

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/hsm/mech"
	"github.com/miekg/pkcs11"
)

// opFn runs one measured operation; after (may be nil) runs untimed
// afterwards (e.g. destroying a generated key).
type opFn func() (after func(), err error)

// side is one module as a row sees it: a logged-in session (and one per
// thread for the multi-threaded rows) and the bench keys.
type side struct {
	ctx  *pkcs11.Ctx
	sh   pkcs11.SessionHandle
	find pkcs11.SessionHandle // session on the 10,000-object token
	k    keySet
}

// row is one line of the table.
type row struct {
	id, name string
	threads  int  // 0/1: single session; 8: throughput over 8 sessions
	slow     bool // seconds per op: fewer iterations
	p11      func(s *side, sh pkcs11.SessionHandle) (opFn, error)
	floor    func() (opFn, error) // nil: no Go primitive (find)
	floorIs  string               // what the floor calls
	want2    bool                 // target ratio ≥ 2 (GCM, HMAC, EC/AES keygen, Ed25519)
	rsaPriv  bool                 // RSA private-key operation (OpenSSL backend variant)
}

var (
	msg32  = bytes.Repeat([]byte{0x5a}, 32)
	data1K = bytes.Repeat([]byte{0xa5}, 1024)
	data4K = bytes.Repeat([]byte{0x3c}, 4096)
)

func mechs(m uint, p any) []*pkcs11.Mechanism { return []*pkcs11.Mechanism{pkcs11.NewMechanism(m, p)} }

func signOp(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle, m uint, key pkcs11.ObjectHandle, in []byte) opFn {
	mm := mechs(m, nil)
	return func() (func(), error) {
		if err := ctx.SignInit(sh, mm, key); err != nil {
			return nil, err
		}
		_, err := ctx.Sign(sh, in)
		return nil, err
	}
}

func verifyOp(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle, m uint, priv, pub pkcs11.ObjectHandle, in []byte) (opFn, error) {
	mm := mechs(m, nil)
	if err := ctx.SignInit(sh, mm, priv); err != nil {
		return nil, err
	}
	sig, err := ctx.Sign(sh, in)
	if err != nil {
		return nil, err
	}
	return func() (func(), error) {
		if err := ctx.VerifyInit(sh, mm, pub); err != nil {
			return nil, err
		}
		return nil, ctx.Verify(sh, in, sig)
	}, nil
}

// gcmIV is a per-call IV (a counter), so no IV is ever reused under the key.
type gcmIV struct{ n uint64 }

func (g *gcmIV) next() []byte {
	g.n++
	iv := make([]byte, 12)
	binary.BigEndian.PutUint64(iv[4:], g.n)
	return iv
}

func gcmEncOp(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle, key pkcs11.ObjectHandle) opFn {
	ivs := &gcmIV{n: uint64(sh) << 32}
	return func() (func(), error) {
		p := pkcs11.NewGCMParams(ivs.next(), nil, 128)
		defer p.Free()
		if err := ctx.EncryptInit(sh, mechs(pkcs11.CKM_AES_GCM, p), key); err != nil {
			return nil, err
		}
		_, err := ctx.Encrypt(sh, data4K)
		return nil, err
	}
}

func gcmDecOp(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle, key pkcs11.ObjectHandle) (opFn, error) {
	iv := bytes.Repeat([]byte{0x77}, 12)
	p := pkcs11.NewGCMParams(iv, nil, 128)
	if err := ctx.EncryptInit(sh, mechs(pkcs11.CKM_AES_GCM, p), key); err != nil {
		return nil, err
	}
	ct, err := ctx.Encrypt(sh, data4K)
	p.Free()
	if err != nil {
		return nil, err
	}
	return func() (func(), error) {
		p := pkcs11.NewGCMParams(iv, nil, 128)
		defer p.Free()
		if err := ctx.DecryptInit(sh, mechs(pkcs11.CKM_AES_GCM, p), key); err != nil {
			return nil, err
		}
		out, err := ctx.Decrypt(sh, ct)
		if err == nil && len(out) != len(data4K) {
			err = errors.New("GCM decrypt: wrong length")
		}
		return nil, err
	}, nil
}

func destroy(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle, hs ...pkcs11.ObjectHandle) func() {
	return func() {
		for _, h := range hs {
			ctx.DestroyObject(sh, h)
		}
	}
}

func keyPairOp(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle, m uint, pub []*pkcs11.Attribute) opFn {
	mm := mechs(m, nil)
	pubT := append(pub, attr(pkcs11.CKA_TOKEN, false), attr(pkcs11.CKA_VERIFY, true))
	privT := []*pkcs11.Attribute{attr(pkcs11.CKA_TOKEN, false), attr(pkcs11.CKA_PRIVATE, true), attr(pkcs11.CKA_SENSITIVE, true), attr(pkcs11.CKA_SIGN, true)}
	return func() (func(), error) {
		a, b, err := ctx.GenerateKeyPair(sh, mm, pubT, privT)
		if err != nil {
			return nil, err
		}
		return destroy(ctx, sh, a, b), nil
	}
}

// Go primitives: the floor under each row.

func goRSA() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) }

func goAESGCM() (cipher.AEAD, error) {
	b, err := aes.NewCipher(bytes.Repeat([]byte{0x11}, 32))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func rsaMechKey(k *rsa.PrivateKey) (*mech.Key, error) {
	be := func(i *big.Int) []byte { return i.Bytes() }
	k.Precompute()
	return mech.ParseKey(pkcs11.CKO_PRIVATE_KEY, pkcs11.CKK_RSA, map[uint][]byte{
		pkcs11.CKA_MODULUS: be(k.N), pkcs11.CKA_PUBLIC_EXPONENT: be(big.NewInt(int64(k.E))),
		pkcs11.CKA_PRIVATE_EXPONENT: be(k.D), pkcs11.CKA_PRIME_1: be(k.Primes[0]), pkcs11.CKA_PRIME_2: be(k.Primes[1]),
		pkcs11.CKA_EXPONENT_1: be(k.Precomputed.Dp), pkcs11.CKA_EXPONENT_2: be(k.Precomputed.Dq), pkcs11.CKA_COEFFICIENT: be(k.Precomputed.Qinv),
	})
}

func kwpKEK() (*mech.Key, error) {
	return mech.ParseKey(pkcs11.CKO_SECRET_KEY, pkcs11.CKK_AES, map[uint][]byte{pkcs11.CKA_VALUE: bytes.Repeat([]byte{0x33}, 32)})
}

var rows = []row{
	{id: "rsa-sign", name: "RSA-2048 sign (CKM_SHA256_RSA_PKCS, 32 B)", rsaPriv: true,
		p11: func(s *side, sh pkcs11.SessionHandle) (opFn, error) {
			return signOp(s.ctx, sh, pkcs11.CKM_SHA256_RSA_PKCS, s.k.rsaPriv, msg32), nil
		},
		floorIs: "rsa.SignPKCS1v15(SHA-256)",
		floor: func() (opFn, error) {
			k, err := goRSA()
			return func() (func(), error) {
				d := sha256.Sum256(msg32)
				_, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, d[:])
				return nil, err
			}, err
		}},
	{id: "rsa-verify", name: "RSA-2048 verify (CKM_SHA256_RSA_PKCS, 32 B)",
		p11: func(s *side, sh pkcs11.SessionHandle) (opFn, error) {
			return verifyOp(s.ctx, sh, pkcs11.CKM_SHA256_RSA_PKCS, s.k.rsaPriv, s.k.rsaPub, msg32)
		},
		floorIs: "rsa.VerifyPKCS1v15",
		floor: func() (opFn, error) {
			k, err := goRSA()
			if err != nil {
				return nil, err
			}
			d := sha256.Sum256(msg32)
			sig, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, d[:])
			return func() (func(), error) {
				d := sha256.Sum256(msg32)
				return nil, rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, d[:], sig)
			}, err
		}},
	{id: "ec-sign", name: "ECDSA P-256 sign (CKM_ECDSA, 32 B hash)",
		p11: func(s *side, sh pkcs11.SessionHandle) (opFn, error) {
			return signOp(s.ctx, sh, pkcs11.CKM_ECDSA, s.k.ecPriv, msg32), nil
		},
		floorIs: "ecdsa.Sign",
		floor: func() (opFn, error) {
			k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			return func() (func(), error) { _, _, err := ecdsa.Sign(rand.Reader, k, msg32); return nil, err }, err
		}},
	{id: "ec-verify", name: "ECDSA P-256 verify (CKM_ECDSA, 32 B hash)",
		p11: func(s *side, sh pkcs11.SessionHandle) (opFn, error) {
			return verifyOp(s.ctx, sh, pkcs11.CKM_ECDSA, s.k.ecPriv, s.k.ecPub, msg32)
		},
		floorIs: "ecdsa.Verify",
		floor: func() (opFn, error) {
			k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				return nil, err
			}
			r, ss, err := ecdsa.Sign(rand.Reader, k, msg32)
			return func() (func(), error) {
				if !ecdsa.Verify(&k.PublicKey, msg32, r, ss) {
					return nil, errors.New("verify failed")
				}
				return nil, nil
			}, err
		}},
	{id: "ed-sign", name: "Ed25519 sign (CKM_EDDSA, 32 B)", want2: true,
		p11: func(s *side, sh pkcs11.SessionHandle) (opFn, error) {
			return signOp(s.ctx, sh, ck.CKM_EDDSA, s.k.edPriv, msg32), nil
		},
		floorIs: "ed25519.Sign",
		floor: func() (opFn, error) {
			_, k, err := ed25519.GenerateKey(rand.Reader)
			return func() (func(), error) { ed25519.Sign(k, msg32); return nil, nil }, err
		}},
	{id: "ed-verify", name: "Ed25519 verify (CKM_EDDSA, 32 B)", want2: true,
		p11: func(s *side, sh pkcs11.SessionHandle) (opFn, error) {
			return verifyOp(s.ctx, sh, ck.CKM_EDDSA, s.k.edPriv, s.k.edPub, msg32)
		},
		floorIs: "ed25519.Verify",
		floor: func() (opFn, error) {
			pub, k, err := ed25519.GenerateKey(rand.Reader)
			sig := ed25519.Sign(k, msg32)
			return func() (func(), error) {
				if !ed25519.Verify(pub, msg32, sig) {
					return nil, errors.New("verify failed")
				}
				return nil, nil
			}, err
		}},
	{id: "sha256", name: "SHA-256 digest 4 KB",
		p11: func(s *side, sh pkcs11.SessionHandle) (opFn, error) {
			mm := mechs(pkcs11.CKM_SHA256, nil)
			return func() (func(), error) {
				if err := s.ctx.DigestInit(sh, mm); err != nil {
					return nil, err
				}
				_, err := s.ctx.Digest(sh, data4K)
				return nil, err
			}, nil
		},
		floorIs: "sha256.Sum256",
		floor: func() (opFn, error) {
			return func() (func(), error) { sha256.Sum256(data4K); return nil, nil }, nil
		}},
	{id: "hmac", name: "HMAC-SHA256 1 KB (CKM_SHA256_HMAC)", want2: true,
		p11: func(s *side, sh pkcs11.SessionHandle) (opFn, error) {
			return signOp(s.ctx, sh, pkcs11.CKM_SHA256_HMAC, s.k.hmac, data1K), nil
		},
		floorIs: "hmac.New(sha256)",
		floor: func() (opFn, error) {
			key := bytes.Repeat([]byte{0x22}, 32)
			return func() (func(), error) {
				h := hmac.New(sha256.New, key)
				h.Write(data1K)
				h.Sum(nil)
				return nil, nil
			}, nil
		}},
	{id: "gcm-enc", name: "AES-256-GCM encrypt 4 KB (CK_GCM_PARAMS)", want2: true,
		p11:     func(s *side, sh pkcs11.SessionHandle) (opFn, error) { return gcmEncOp(s.ctx, sh, s.k.aes), nil },
		floorIs: "cipher.AEAD.Seal",
		floor: func() (opFn, error) {
			g, err := goAESGCM()
			ivs := &gcmIV{}
			return func() (func(), error) { g.Seal(nil, ivs.next(), data4K, nil); return nil, nil }, err
		}},
	{id: "gcm-dec", name: "AES-256-GCM decrypt 4 KB (CK_GCM_PARAMS)", want2: true,
		p11:     func(s *side, sh pkcs11.SessionHandle) (opFn, error) { return gcmDecOp(s.ctx, sh, s.k.aes) },
		floorIs: "cipher.AEAD.Open",
		floor: func() (opFn, error) {
			g, err := goAESGCM()
			if err != nil {
				return nil, err
			}
			iv := make([]byte, 12)
			ct := g.Seal(nil, iv, data4K, nil)
			return func() (func(), error) { _, err := g.Open(nil, iv, ct, nil); return nil, err }, nil
		}},
	{id: "keygen-rsa", name: "RSA-2048 key pair generation", slow: true,
		p11: func(s *side, sh pkcs11.SessionHandle) (opFn, error) {
			return keyPairOp(s.ctx, sh, pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN,
				[]*pkcs11.Attribute{attr(pkcs11.CKA_MODULUS_BITS, 2048), attr(pkcs11.CKA_PUBLIC_EXPONENT, []byte{1, 0, 1})}), nil
		},
		floorIs: "rsa.GenerateKey",
		floor: func() (opFn, error) {
			return func() (func(), error) { _, err := goRSA(); return nil, err }, nil
		}},
	{id: "keygen-ec", name: "EC P-256 key pair generation", want2: true,
		p11: func(s *side, sh pkcs11.SessionHandle) (opFn, error) {
			return keyPairOp(s.ctx, sh, pkcs11.CKM_EC_KEY_PAIR_GEN, []*pkcs11.Attribute{attr(pkcs11.CKA_EC_PARAMS, oidP256)}), nil
		},
		floorIs: "ecdsa.GenerateKey",
		floor: func() (opFn, error) {
			return func() (func(), error) { _, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader); return nil, err }, nil
		}},
	{id: "keygen-aes", name: "AES-256 key generation", want2: true,
		p11: func(s *side, sh pkcs11.SessionHandle) (opFn, error) {
			mm := mechs(pkcs11.CKM_AES_KEY_GEN, nil)
			t := []*pkcs11.Attribute{attr(pkcs11.CKA_TOKEN, false), attr(pkcs11.CKA_VALUE_LEN, 32), attr(pkcs11.CKA_ENCRYPT, true), attr(pkcs11.CKA_SENSITIVE, true)}
			return func() (func(), error) {
				h, err := s.ctx.GenerateKey(sh, mm, t)
				if err != nil {
					return nil, err
				}
				return destroy(s.ctx, sh, h), nil
			}, nil
		},
		floorIs: "crypto/rand 32 B",
		floor: func() (opFn, error) {
			return func() (func(), error) { _, err := rand.Read(make([]byte, 32)); return nil, err }, nil
		}},
	{id: "kwp-wrap", name: "KWP wrap of an RSA-2048 private key (CKM_AES_KEY_WRAP_PAD)",
		p11: func(s *side, sh pkcs11.SessionHandle) (opFn, error) {
			mm := mechs(pkcs11.CKM_AES_KEY_WRAP_PAD, nil)
			return func() (func(), error) { _, err := s.ctx.WrapKey(sh, mm, s.k.kek, s.k.rsaPriv); return nil, err }, nil
		},
		floorIs: "mech.Wrap (PKCS#8 + KWP)",
		floor: func() (opFn, error) {
			g, err := goRSA()
			if err != nil {
				return nil, err
			}
			k, err := rsaMechKey(g)
			if err != nil {
				return nil, err
			}
			kek, err := kwpKEK()
			m := pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_WRAP_PAD, nil)
			return func() (func(), error) { _, err := mech.Wrap(m, kek, k); return nil, err }, err
		}},
	{id: "kwp-unwrap", name: "KWP unwrap of an RSA-2048 private key (CKM_AES_KEY_WRAP_PAD)",
		p11: func(s *side, sh pkcs11.SessionHandle) (opFn, error) {
			mm := mechs(pkcs11.CKM_AES_KEY_WRAP_PAD, nil)
			blob, err := s.ctx.WrapKey(sh, mm, s.k.kek, s.k.rsaPriv)
			if err != nil {
				return nil, err
			}
			t := []*pkcs11.Attribute{attr(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY), attr(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA),
				attr(pkcs11.CKA_TOKEN, false), attr(pkcs11.CKA_PRIVATE, true), attr(pkcs11.CKA_SENSITIVE, true),
				attr(pkcs11.CKA_EXTRACTABLE, true), attr(pkcs11.CKA_SIGN, true)}
			return func() (func(), error) {
				h, err := s.ctx.UnwrapKey(sh, mm, s.k.kek, blob, t)
				if err != nil {
					return nil, err
				}
				return destroy(s.ctx, sh, h), nil
			}, nil
		},
		floorIs: "mech.Unwrap (KWP + PKCS#8)",
		floor: func() (opFn, error) {
			g, err := goRSA()
			if err != nil {
				return nil, err
			}
			k, err := rsaMechKey(g)
			if err != nil {
				return nil, err
			}
			kek, err := kwpKEK()
			if err != nil {
				return nil, err
			}
			m := pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_WRAP_PAD, nil)
			blob, err := mech.Wrap(m, kek, k)
			return func() (func(), error) {
				_, err := mech.Unwrap(m, kek, blob, pkcs11.CKO_PRIVATE_KEY, pkcs11.CKK_RSA, 0)
				return nil, err
			}, err
		}},
	{id: "find", name: "C_FindObjects, 1 match among 10,000 objects",
		p11: func(s *side, _ pkcs11.SessionHandle) (opFn, error) {
			t := []*pkcs11.Attribute{attr(pkcs11.CKA_CLASS, pkcs11.CKO_DATA), attr(pkcs11.CKA_LABEL, fmt.Sprintf("obj-%05d", findN/2))}
			sh := s.find
			return func() (func(), error) {
				if err := s.ctx.FindObjectsInit(sh, t); err != nil {
					return nil, err
				}
				hs, _, err := s.ctx.FindObjects(sh, 16)
				if err == nil && len(hs) != 1 {
					err = fmt.Errorf("find: %d objects", len(hs))
				}
				if ferr := s.ctx.FindObjectsFinal(sh); err == nil {
					err = ferr
				}
				return nil, err
			}, nil
		}},
	{id: "mt-rsa-sign", name: "8 threads: RSA-2048 sign", threads: 8, rsaPriv: true},
	{id: "mt-ec-sign", name: "8 threads: ECDSA P-256 sign", threads: 8},
	{id: "mt-gcm-enc", name: "8 threads: AES-256-GCM encrypt 4 KB", threads: 8, want2: true},
}

// findN is the number of objects on the find token (-find).
var findN = 10_000

func rowByID(id string) *row {
	for i := range rows {
		if rows[i].id == id {
			return &rows[i]
		}
	}
	return nil
}

func init() {
	// The multi-threaded rows run their single-threaded row's operation in
	// each of 8 sessions (and the floor in 8 goroutines).
	for i, base := range map[string]string{"mt-rsa-sign": "rsa-sign", "mt-ec-sign": "ec-sign", "mt-gcm-enc": "gcm-enc"} {
		r, b := rowByID(i), rowByID(base)
		r.p11, r.floor, r.floorIs = b.p11, b.floor, b.floorIs
	}
}
