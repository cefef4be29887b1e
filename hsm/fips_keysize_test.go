package hsm

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"math/big"
	"testing"

	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

// readyMode is ready with fips_approved_only set as asked: in FIPS mode
// the token ready made is reopened with the FIPS configuration (which
// needs the audit log).
func readyMode(t *testing.T, fips bool) (*Ctx, pkcs11.SessionHandle) {
	t.Helper()
	dir := t.TempDir()
	c, sh := ready(t, dir)
	if !fips {
		return c, sh
	}
	must(t, c.Finalize())
	cfg := testConfig(dir)
	cfg.Algorithms.FIPSApprovedOnly = true
	cfg.Audit.Enabled, cfg.Audit.LogPath = true, dir+"/audit.jsonl"
	c = openCtx(t, cfg)
	sh = rwSession(t, c)
	must(t, c.Login(sh, pkcs11.CKU_USER, userPIN))
	return c, sh
}

// modeName names a test case's mode.
func modeName(fips bool) string {
	if fips {
		return "fips"
	}
	return "default"
}

// TestFIPSKeyGenSizes: in FIPS mode RSA key pairs below 3072 bits (the
// default 2048 included) and AES-128 keys are not generated
// (CKR_MECHANISM_PARAM_INVALID, reference §1.1); outside FIPS mode they
// are. Sizes unsupported in every mode stay CKR_KEY_SIZE_RANGE.
func TestFIPSKeyGenSizes(t *testing.T) {
	for _, fips := range []bool{false, true} {
		t.Run(modeName(fips), func(t *testing.T) {
			c, sh := readyMode(t, fips)
			refusedInFIPS := uint(0)
			if fips {
				refusedInFIPS = pkcs11.CKR_MECHANISM_PARAM_INVALID
			}
			rsaGen := mechs(pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN)
			for _, tc := range []struct {
				bits any // nil: no CKA_MODULUS_BITS
				want uint
			}{
				{nil, refusedInFIPS}, // default 2048
				{2048, refusedInFIPS},
				{1024, pkcs11.CKR_KEY_SIZE_RANGE},
				{2560, pkcs11.CKR_KEY_SIZE_RANGE},
			} {
				var pub []*pkcs11.Attribute
				if tc.bits != nil {
					pub = []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_MODULUS_BITS, tc.bits)}
				}
				hp, _, err := c.GenerateKeyPair(sh, rsaGen, pub, nil)
				t.Logf("RSA %v bits: %v", tc.bits, err)
				wantRV(t, err, tc.want)
				if err == nil && tc.bits == nil {
					if got := attr(t, c, sh, hp, pkcs11.CKA_MODULUS_BITS); !bytes.Equal(got, encUlong(2048)) {
						t.Errorf("default modulus bits %x", got)
					}
				}
			}
			if fips {
				// The smallest size FIPS mode generates.
				_, _, err := c.GenerateKeyPair(sh, rsaGen, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_MODULUS_BITS, 3072)}, nil)
				must(t, err)
			}
			aesGen := mechs(pkcs11.CKM_AES_KEY_GEN)
			for _, tc := range []struct {
				n    any // nil: no CKA_VALUE_LEN (32)
				want uint
			}{
				{16, refusedInFIPS},
				{24, 0},
				{32, 0},
				{nil, 0},
				{20, pkcs11.CKR_KEY_SIZE_RANGE},
			} {
				var tmpl []*pkcs11.Attribute
				if tc.n != nil {
					tmpl = []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, tc.n)}
				}
				_, err := c.GenerateKey(sh, aesGen, tmpl)
				if err != nil {
					t.Logf("AES %v bytes: %v", tc.n, err)
				}
				wantRV(t, err, tc.want)
			}
		})
	}
}

// importAES creates a session AES key with value v that wraps and unwraps.
func importAES(t *testing.T, c *Ctx, sh pkcs11.SessionHandle, v []byte, extractable bool) pkcs11.ObjectHandle {
	t.Helper()
	h, err := c.CreateObject(sh, aesTemplate("fips", "", v, false,
		pkcs11.NewAttribute(pkcs11.CKA_WRAP, true), pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, extractable)))
	must(t, err)
	return h
}

// TestFIPSWrappingKeySize: in FIPS mode a 16-byte AES key neither wraps
// (CKR_WRAPPING_KEY_SIZE_RANGE) nor unwraps (CKR_UNWRAPPING_KEY_SIZE_RANGE),
// whatever the mechanism (reference §4); 24- and 32-byte keys do. Outside
// FIPS mode the 16-byte key wraps and unwraps.
func TestFIPSWrappingKeySize(t *testing.T) {
	target := bytes.Repeat([]byte{0x5A}, 32)
	unwrapTmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
	}
	iv := bytes.Repeat([]byte{7}, 16)
	for _, m := range []*pkcs11.Mechanism{
		pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_WRAP, nil),
		pkcs11.NewMechanism(ck.CKM_AES_KEY_WRAP_KWP, nil),
		pkcs11.NewMechanism(pkcs11.CKM_AES_CBC_PAD, iv),
	} {
		mm := []*pkcs11.Mechanism{m}
		// Blobs made outside FIPS mode, one per wrapping-key length.
		blobs := map[int][]byte{}
		for _, fips := range []bool{false, true} {
			t.Run(fmt.Sprintf("%#x/%s", m.Mechanism, modeName(fips)), func(t *testing.T) {
				c, sh := readyMode(t, fips)
				ht := importAES(t, c, sh, target, true)
				for _, n := range []int{16, 24, 32} {
					kek := importAES(t, c, sh, bytes.Repeat([]byte{byte(n)}, n), false)
					wantWrap, wantUnwrap := uint(0), uint(0)
					if fips && n == 16 {
						wantWrap, wantUnwrap = pkcs11.CKR_WRAPPING_KEY_SIZE_RANGE, pkcs11.CKR_UNWRAPPING_KEY_SIZE_RANGE
					}
					blob, err := c.WrapKey(sh, mm, kek, ht)
					wantRV(t, err, wantWrap)
					if !fips {
						blobs[n] = blob
					} else if err == nil && !bytes.Equal(blob, blobs[n]) && m.Mechanism != pkcs11.CKM_AES_CBC_PAD {
						t.Errorf("%d-byte key: blob differs between modes", n)
					}
					h, err := c.UnwrapKey(sh, mm, kek, blobs[n], unwrapTmpl)
					wantRV(t, err, wantUnwrap)
					if err == nil {
						if got := attr(t, c, sh, h, pkcs11.CKA_CHECK_VALUE); !bytes.Equal(got, secretCheckValue(pkcs11.CKK_AES, target)) {
							t.Errorf("%d-byte key: unwrapped check value %x", n, got)
						}
					}
				}
			})
		}
	}
}

// TestFIPSRSAUseBelow2048: Craton's second FIPS gate refuses RSA keys
// below 2048 bits for use with CKR_KEY_SIZE_RANGE (reference §1.1
// approved_services::enforce). This engine refuses them in every mode, so
// FIPS mode does too.
func TestFIPSRSAUseBelow2048(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 1024)
	must(t, err)
	for _, fips := range []bool{false, true} {
		t.Run(modeName(fips), func(t *testing.T) {
			c, sh := readyMode(t, fips)
			h, err := c.CreateObject(sh, []*pkcs11.Attribute{
				pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY),
				pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA),
				pkcs11.NewAttribute(pkcs11.CKA_MODULUS, priv.N.Bytes()),
				pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, big.NewInt(int64(priv.E)).Bytes()),
				pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true),
				pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true),
			})
			if err != nil {
				t.Log("refused at import:", err) // the key cannot be used either
				wantRV(t, err, pkcs11.CKR_KEY_SIZE_RANGE)
				return
			}
			wantRV(t, c.VerifyInit(sh, mechs(pkcs11.CKM_SHA256_RSA_PKCS), h), pkcs11.CKR_KEY_SIZE_RANGE)
			wantRV(t, c.EncryptInit(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_OAEP, &pkcs11.OAEPParams{HashAlg: pkcs11.CKM_SHA256, MGF: pkcs11.CKG_MGF1_SHA256, SourceType: pkcs11.CKZ_DATA_SPECIFIED})}, h), pkcs11.CKR_KEY_SIZE_RANGE)
		})
	}
}

// TestFIPSGCMKeySize: in FIPS mode CKM_AES_GCM takes 32-byte AES keys
// only: C_EncryptInit and C_DecryptInit with a 16- or 24-byte key are
// CKR_KEY_SIZE_RANGE, with a CK_GCM_PARAMS or without (Craton's
// generated-nonce mode), and no operation is left active. Outside FIPS mode
// all three sizes encrypt and decrypt. In both modes the shorter keys stay
// usable with CKM_AES_CBC_PAD.
func TestFIPSGCMKeySize(t *testing.T) {
	plain := []byte("sixteen byte msg and some more")
	iv := bytes.Repeat([]byte{9}, 12)
	spec := func() []*pkcs11.Mechanism {
		return []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, pkcs11.NewGCMParams(iv, []byte("aad"), 128))}
	}
	craton := mechs(pkcs11.CKM_AES_GCM)
	cbc := []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_CBC_PAD, bytes.Repeat([]byte{7}, 16))}
	for _, fips := range []bool{false, true} {
		t.Run(modeName(fips), func(t *testing.T) {
			c, sh := readyMode(t, fips)
			for _, n := range []int{16, 24, 32} {
				h, err := c.CreateObject(sh, aesTemplate("gcm", "", bytes.Repeat([]byte{byte(n)}, n), false,
					pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true), pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, true)))
				must(t, err)
				want := uint(0)
				if fips && n != 32 {
					want = pkcs11.CKR_KEY_SIZE_RANGE
				}
				for name, m := range map[string][]*pkcs11.Mechanism{"params": spec(), "no params": craton} {
					err := c.EncryptInit(sh, m, h)
					t.Logf("%d-byte key, %s: EncryptInit: %v", n, name, err)
					wantRV(t, err, want)
					if want != 0 {
						// Nothing was started: the next call finds no operation.
						_, err := c.Encrypt(sh, plain)
						wantRV(t, err, pkcs11.CKR_OPERATION_NOT_INITIALIZED)
						wantRV(t, c.DecryptInit(sh, m, h), want)
						_, err = c.Decrypt(sh, make([]byte, 64))
						wantRV(t, err, pkcs11.CKR_OPERATION_NOT_INITIALIZED)
						continue
					}
					roundTrip(t, c, sh, m, h, plain)
				}
				// The key itself stays usable with other mechanisms.
				must(t, c.EncryptInit(sh, cbc, h))
				roundTrip(t, c, sh, cbc, h, plain)
			}
		})
	}
}

// roundTrip encrypts plain with the operation EncryptInit(m, h) started,
// decrypts the result with m and h, and checks it comes back.
func roundTrip(t *testing.T, c *Ctx, sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, h pkcs11.ObjectHandle, plain []byte) {
	t.Helper()
	ct, err := c.Encrypt(sh, plain)
	must(t, err)
	must(t, c.DecryptInit(sh, m, h))
	got, err := c.Decrypt(sh, ct)
	must(t, err)
	if !bytes.Equal(got, plain) {
		t.Errorf("mechanism %#x: round trip gave %q", m[0].Mechanism, got)
	}
}

// TestFIPSMechanismInfoMinimums: in FIPS mode C_GetMechanismInfo reports
// the smallest key size the FIPS rules leave (RSA key-pair generation 3072
// bits; AES key generation and the AES key-wrap mechanisms 24 bytes); the
// other mechanisms and the default mode report the table's.
func TestFIPSMechanismInfoMinimums(t *testing.T) {
	for _, fips := range []bool{false, true} {
		t.Run(modeName(fips), func(t *testing.T) {
			c, _ := readyMode(t, fips)
			for _, tc := range []struct {
				m, def, fips uint
			}{
				{pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, 2048, 3072},
				{pkcs11.CKM_AES_KEY_GEN, 16, 24},
				{pkcs11.CKM_AES_KEY_WRAP, 16, 24},
				{pkcs11.CKM_AES_KEY_WRAP_PAD, 16, 24},
				{ck.CKM_AES_KEY_WRAP_KWP, 16, 24},
				{pkcs11.CKM_AES_CBC_PAD, 16, 16},
				{pkcs11.CKM_AES_GCM, 16, 32},
				{pkcs11.CKM_SHA256_RSA_PKCS, 2048, 2048},
			} {
				want := tc.def
				if fips {
					want = tc.fips
				}
				mi, err := c.GetMechanismInfo(0, mechs(tc.m))
				must(t, err)
				if mi.MinKeySize != want {
					t.Errorf("%s: min key size %d, want %d", ck.MechName(tc.m), mi.MinKeySize, want)
				}
			}
		})
	}
}
