package hsm

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"testing"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/hsm/store"
	"github.com/miekg/pkcs11"
	bolt "go.etcd.io/bbolt"
)

// Key material of CKA_PRIVATE=false keys is sealed under the OMK
// (hsm/store/doc.go): these tests cover the split records, the loading at
// login, the refusal without a PIN, damaged records and the migration of
// format-1 stores.

var ed25519OID = []byte{0x06, 0x03, 0x2b, 0x65, 0x70}

func public(extra ...*pkcs11.Attribute) []*pkcs11.Attribute {
	return append([]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true), pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, false)}, extra...)
}

func labelID(label string) []*pkcs11.Attribute {
	return []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, label), pkcs11.NewAttribute(pkcs11.CKA_ID, []byte("id-"+label))}
}

// publicAESTemplate is a token AES key with CKA_PRIVATE=false, extractable
// and not sensitive (its CKA_VALUE is readable), as pkcs11-tool --keygen
// makes them on SoftHSMv2.
func publicAESTemplate(label string, value []byte) []*pkcs11.Attribute {
	return aesTemplate(label, "id-"+label, value, true,
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, false),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, false),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, true),
		pkcs11.NewAttribute(pkcs11.CKA_WRAP, true))
}

var cbcIV = bytes.Repeat([]byte{0x42}, 16)

func encryptCBC(t testing.TB, c *Ctx, sh pkcs11.SessionHandle, key pkcs11.ObjectHandle, msg []byte) []byte {
	t.Helper()
	must(t, c.EncryptInit(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_CBC, cbcIV)}, key))
	out, err := c.Encrypt(sh, msg)
	must(t, err)
	return out
}

func sign(t testing.TB, c *Ctx, sh pkcs11.SessionHandle, m uint, key pkcs11.ObjectHandle, msg []byte) []byte {
	t.Helper()
	must(t, c.SignInit(sh, mechs(m), key))
	sig, err := c.Sign(sh, msg)
	must(t, err)
	return sig
}

func verify(t testing.TB, c *Ctx, sh pkcs11.SessionHandle, m uint, key pkcs11.ObjectHandle, msg, sig []byte) {
	t.Helper()
	must(t, c.VerifyInit(sh, mechs(m), key))
	must(t, c.Verify(sh, msg, sig))
}

func one(t testing.TB, c *Ctx, sh pkcs11.SessionHandle, label string, class uint) pkcs11.ObjectHandle {
	t.Helper()
	hs := findAll(t, c, sh, pkcs11.NewAttribute(pkcs11.CKA_LABEL, label), pkcs11.NewAttribute(pkcs11.CKA_CLASS, class))
	if len(hs) != 1 {
		t.Fatalf("%q (class %d): %d objects", label, class, len(hs))
	}
	return hs[0]
}

type publicKeys struct {
	aes, rsaPriv, rsaPub, ecPriv, ecPub, edPriv, edPub, pqPriv, pqPub pkcs11.ObjectHandle
	aesValue                                                          []byte
}

// makePublicKeys creates (logged in) an AES key and RSA, EC, Ed25519 and
// ML-DSA key pairs whose private halves have CKA_PRIVATE=false.
func makePublicKeys(t *testing.T, c *Ctx, sh pkcs11.SessionHandle) publicKeys {
	t.Helper()
	var k publicKeys
	k.aesValue = bytes.Repeat([]byte{0x3C}, 32)
	var err error
	k.aes, err = c.CreateObject(sh, publicAESTemplate("pub-aes", k.aesValue))
	must(t, err)
	pair := func(label string, m uint, pub ...*pkcs11.Attribute) (pkcs11.ObjectHandle, pkcs11.ObjectHandle) {
		hp, hq, err := c.GenerateKeyPair(sh, mechs(m),
			public(append(labelID(label), pub...)...),
			public(append(labelID(label), pkcs11.NewAttribute(pkcs11.CKA_SIGN, true))...))
		must(t, err)
		return hp, hq
	}
	k.rsaPub, k.rsaPriv = pair("pub-rsa", pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, pkcs11.NewAttribute(pkcs11.CKA_MODULUS_BITS, 2048))
	k.ecPub, k.ecPriv = pair("pub-ec", pkcs11.CKM_EC_KEY_PAIR_GEN, pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, p256OID))
	k.edPub, k.edPriv = pair("pub-ed", ck.CKM_EC_EDWARDS_KEY_PAIR_GEN, pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, ed25519OID))
	k.pqPub, k.pqPriv = pair("pub-mldsa", ck.CKM_ML_DSA_KEY_PAIR_GEN, pkcs11.NewAttribute(ck.CKA_PARAMETER_SET, ck.CKP_ML_DSA_44))
	return k
}

func TestPublicKeyMaterialNeedsLoginAfterRestart(t *testing.T) {
	dir := t.TempDir()
	c, sh := ready(t, dir)
	k := makePublicKeys(t, c, sh)
	msg := []byte("material under the OMK")
	block := bytes.Repeat([]byte("0123456789abcdef"), 2)
	wantCT := encryptCBC(t, c, sh, k.aes, block)
	wantRSA := sign(t, c, sh, pkcs11.CKM_SHA256_RSA_PKCS, k.rsaPriv, msg)
	wantEd := sign(t, c, sh, ck.CKM_EDDSA, k.edPriv, msg)
	ecSig := sign(t, c, sh, pkcs11.CKM_ECDSA_SHA256, k.ecPriv, msg)
	verify(t, c, sh, pkcs11.CKM_ECDSA_SHA256, k.ecPub, msg, ecSig)
	// Still usable after logout in the process that created them.
	must(t, c.Logout(sh))
	if got := encryptCBC(t, c, sh, k.aes, block); !bytes.Equal(got, wantCT) {
		t.Fatal("AES result changed after logout")
	}
	must(t, c.Finalize())

	c = openCtx(t, testConfig(dir))
	sh = rwSession(t, c)
	// Before login: visible, public attributes readable.
	for label, class := range map[string]uint{"pub-aes": pkcs11.CKO_SECRET_KEY, "pub-rsa": pkcs11.CKO_PRIVATE_KEY,
		"pub-ec": pkcs11.CKO_PRIVATE_KEY, "pub-ed": pkcs11.CKO_PRIVATE_KEY, "pub-mldsa": pkcs11.CKO_PRIVATE_KEY} {
		h := one(t, c, sh, label, class)
		got, err := c.GetAttributeValue(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, nil),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, nil), pkcs11.NewAttribute(pkcs11.CKA_ID, nil), pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, nil)})
		must(t, err)
		if !bytes.Equal(got[0].Value, encUlong(class)) || string(got[1].Value) != label || string(got[2].Value) != "id-"+label || got[3].Value[0] != 0 {
			t.Errorf("%s: attributes before login %v", label, got)
		}
	}
	if h := one(t, c, sh, "pub-rsa", pkcs11.CKO_PRIVATE_KEY); h != k.rsaPriv {
		t.Fatalf("RSA key has handle %d after restart, was %d", h, k.rsaPriv)
	}
	if got := attr(t, c, sh, k.rsaPriv, pkcs11.CKA_MODULUS); len(got) != 256 {
		t.Fatalf("modulus before login: %d bytes", len(got))
	}
	// The material is not there: operations and a readable CKA_VALUE need
	// a login; sensitive attributes stay sensitive.
	_, err := c.GetAttributeValue(sh, k.aes, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)})
	wantRV(t, err, pkcs11.CKR_USER_NOT_LOGGED_IN)
	_, err = c.GetAttributeValue(sh, k.rsaPriv, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_PRIVATE_EXPONENT, nil)})
	wantRV(t, err, pkcs11.CKR_ATTRIBUTE_SENSITIVE)
	wantRV(t, c.EncryptInit(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_CBC, cbcIV)}, k.aes), pkcs11.CKR_USER_NOT_LOGGED_IN)
	wantRV(t, c.DecryptInit(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_CBC, cbcIV)}, k.aes), pkcs11.CKR_USER_NOT_LOGGED_IN)
	for _, x := range []struct {
		m uint
		h pkcs11.ObjectHandle
	}{{pkcs11.CKM_SHA256_RSA_PKCS, k.rsaPriv}, {pkcs11.CKM_ECDSA_SHA256, k.ecPriv}, {ck.CKM_EDDSA, k.edPriv}, {ck.CKM_ML_DSA, k.pqPriv}} {
		wantRV(t, c.SignInit(sh, mechs(x.m), x.h), pkcs11.CKR_USER_NOT_LOGGED_IN)
	}
	// Public keys need nothing.
	verify(t, c, sh, pkcs11.CKM_SHA256_RSA_PKCS, k.rsaPub, msg, wantRSA)
	verify(t, c, sh, pkcs11.CKM_ECDSA_SHA256, k.ecPub, msg, ecSig)
	// Wrapping (as wrapping key and as wrapped key), copying, changing.
	kek, err := c.CreateObject(sh, aesTemplate("session-kek", "", bytes.Repeat([]byte{7}, 32), false,
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, false), pkcs11.NewAttribute(pkcs11.CKA_WRAP, true), pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true)))
	must(t, err)
	_, err = c.WrapKey(sh, mechs(pkcs11.CKM_AES_KEY_WRAP_PAD), kek, k.aes)
	wantRV(t, err, pkcs11.CKR_USER_NOT_LOGGED_IN)
	_, err = c.WrapKey(sh, mechs(pkcs11.CKM_AES_KEY_WRAP_PAD), k.aes, kek)
	wantRV(t, err, pkcs11.CKR_USER_NOT_LOGGED_IN)
	_, err = c.CopyObject(sh, k.aes, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false)})
	wantRV(t, err, pkcs11.CKR_USER_NOT_LOGGED_IN)
	wantRV(t, c.SetAttributeValue(sh, k.aes, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, "renamed")}), pkcs11.CKR_USER_NOT_LOGGED_IN)

	// After login: the same results as before the restart.
	must(t, c.Login(sh, pkcs11.CKU_USER, userPIN))
	if v := attr(t, c, sh, k.aes, pkcs11.CKA_VALUE); !bytes.Equal(v, k.aesValue) {
		t.Fatalf("CKA_VALUE after login: %x", v)
	}
	if got := encryptCBC(t, c, sh, k.aes, block); !bytes.Equal(got, wantCT) {
		t.Fatal("AES-CBC result differs after restart")
	}
	if got := sign(t, c, sh, pkcs11.CKM_SHA256_RSA_PKCS, k.rsaPriv, msg); !bytes.Equal(got, wantRSA) {
		t.Fatal("RSA signature differs after restart")
	}
	if got := sign(t, c, sh, ck.CKM_EDDSA, k.edPriv, msg); !bytes.Equal(got, wantEd) {
		t.Fatal("Ed25519 signature differs after restart")
	}
	verify(t, c, sh, pkcs11.CKM_ECDSA_SHA256, k.ecPub, msg, sign(t, c, sh, pkcs11.CKM_ECDSA_SHA256, k.ecPriv, msg))
	verify(t, c, sh, ck.CKM_ML_DSA, k.pqPub, msg, sign(t, c, sh, ck.CKM_ML_DSA, k.pqPriv, msg))
	_, err = c.WrapKey(sh, mechs(pkcs11.CKM_AES_KEY_WRAP_PAD), kek, k.aes)
	must(t, err)
	must(t, c.SetAttributeValue(sh, k.aes, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, "renamed")}))
	cp, err := c.CopyObject(sh, k.aes, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, "copy")})
	must(t, err)

	// Logout keeps the loaded material (public objects stay usable).
	must(t, c.Logout(sh))
	if got := encryptCBC(t, c, sh, k.aes, block); !bytes.Equal(got, wantCT) {
		t.Fatal("AES key unusable after logout")
	}
	if got := sign(t, c, sh, pkcs11.CKM_SHA256_RSA_PKCS, k.rsaPriv, msg); !bytes.Equal(got, wantRSA) {
		t.Fatal("RSA key unusable after logout")
	}
	// ... but re-sealing it needs the OMK again.
	wantRV(t, c.SetAttributeValue(sh, k.aes, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, "again")}), pkcs11.CKR_USER_NOT_LOGGED_IN)
	// Destroying a public object needs no login.
	must(t, c.DestroyObject(sh, cp))
	if p := c.StoreProblems(); len(p) != 0 {
		t.Fatalf("store problems: %v", p)
	}
	must(t, c.Finalize())

	// The rename and the copy's removal persisted; the material still loads.
	c = openCtx(t, testConfig(dir))
	sh = rwSession(t, c)
	if h := one(t, c, sh, "renamed", pkcs11.CKO_SECRET_KEY); h != k.aes {
		t.Fatal("renamed key lost")
	}
	if len(byLabel(t, c, sh, "copy")) != 0 {
		t.Fatal("destroyed copy came back")
	}
	must(t, c.Login(sh, pkcs11.CKU_USER, userPIN))
	if got := encryptCBC(t, c, sh, k.aes, block); !bytes.Equal(got, wantCT) {
		t.Fatal("AES-CBC result differs after second restart")
	}
}

func TestPublicTokenKeyNeedsLoginToCreate(t *testing.T) {
	dir := t.TempDir()
	c, sh := ready(t, dir)
	must(t, c.Logout(sh))
	value := bytes.Repeat([]byte{0x11}, 32)
	_, err := c.CreateObject(sh, publicAESTemplate("nologin", value))
	wantRV(t, err, pkcs11.CKR_USER_NOT_LOGGED_IN)
	_, err = c.GenerateKey(sh, mechs(pkcs11.CKM_AES_KEY_GEN), public(pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32), pkcs11.NewAttribute(pkcs11.CKA_LABEL, "nologin")))
	wantRV(t, err, pkcs11.CKR_USER_NOT_LOGGED_IN)
	_, _, err = c.GenerateKeyPair(sh, mechs(pkcs11.CKM_EC_KEY_PAIR_GEN),
		public(pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, p256OID), pkcs11.NewAttribute(pkcs11.CKA_LABEL, "nologin")),
		public(pkcs11.NewAttribute(pkcs11.CKA_LABEL, "nologin")))
	wantRV(t, err, pkcs11.CKR_USER_NOT_LOGGED_IN)
	if got := byLabel(t, c, sh, "nologin"); len(got) != 0 {
		t.Fatalf("refused creations left objects: %v", got)
	}
	// Unaffected: session keys, public token objects without material.
	sk, err := c.CreateObject(sh, aesTemplate("session", "", value, false, pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, false),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true), pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true)))
	must(t, err)
	encryptCBC(t, c, sh, sk, make([]byte, 16))
	_, err = c.CreateObject(sh, dataTemplate("public data", true, false))
	must(t, err)
	// A session key cannot be copied onto the token without the OMK.
	_, err = c.CopyObject(sh, sk, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true)})
	wantRV(t, err, pkcs11.CKR_USER_NOT_LOGGED_IN)

	// The SO unwraps the OMK too: an SO session may create one.
	must(t, c.Login(sh, pkcs11.CKU_SO, soPIN))
	h, err := c.CreateObject(sh, publicAESTemplate("by-so", value))
	must(t, err)
	must(t, c.Finalize())
	c = openCtx(t, testConfig(dir))
	sh = rwSession(t, c)
	wantRV(t, c.EncryptInit(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_CBC, cbcIV)}, h), pkcs11.CKR_USER_NOT_LOGGED_IN)
	must(t, c.Login(sh, pkcs11.CKU_USER, userPIN))
	if v := attr(t, c, sh, h, pkcs11.CKA_VALUE); !bytes.Equal(v, value) {
		t.Fatal("SO-created key unreadable by the user")
	}
}

// TestSOLoginLoadsMaterialAndReinitKeepsIt: the SO's login loads public
// key material too, and after the SO sets a new user PIN the keys work
// under that PIN.
func TestSOLoginLoadsMaterialAndReinitKeepsIt(t *testing.T) {
	dir := t.TempDir()
	c, sh := ready(t, dir)
	value := bytes.Repeat([]byte{0x5E}, 32)
	h, err := c.CreateObject(sh, publicAESTemplate("kept", value))
	must(t, err)
	want := encryptCBC(t, c, sh, h, make([]byte, 32))
	must(t, c.Finalize())

	c = openCtx(t, testConfig(dir))
	sh = rwSession(t, c)
	must(t, c.Login(sh, pkcs11.CKU_SO, soPIN))
	if got := encryptCBC(t, c, sh, h, make([]byte, 32)); !bytes.Equal(got, want) {
		t.Fatal("key unusable after an SO login")
	}
	must(t, c.InitPIN(sh, "Other-user-pin-2"))
	must(t, c.Finalize())

	c = openCtx(t, testConfig(dir))
	sh = rwSession(t, c)
	wantRV(t, c.Login(sh, pkcs11.CKU_USER, userPIN), pkcs11.CKR_PIN_INCORRECT)
	must(t, c.Login(sh, pkcs11.CKU_USER, "Other-user-pin-2"))
	if got := encryptCBC(t, c, sh, h, make([]byte, 32)); !bytes.Equal(got, want) {
		t.Fatal("key unusable under the re-initialised user PIN")
	}
	if p := c.StoreProblems(); len(p) != 0 {
		t.Fatalf("store problems: %v", p)
	}
}

// storeState reads slot 0's token state straight from the database file,
// as anyone with read access to the files can.
func storeState(t *testing.T, db *bolt.DB) store.TokenState {
	t.Helper()
	var st store.TokenState
	must(t, db.View(func(tx *bolt.Tx) error {
		return json.Unmarshal(tx.Bucket(slotName(0)).Get([]byte("state")), &st)
	}))
	return st
}

func slotName(slot uint) []byte { return binary.BigEndian.AppendUint32([]byte("slot"), uint32(slot)) }

// publicPlaintexts decrypts every record of slot 0 sealed under the
// public-object key, with the key read from the token state.
func publicPlaintexts(t *testing.T, dir string) map[uint64][]byte {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, store.FileName), 0o600, &bolt.Options{ReadOnly: true})
	must(t, err)
	defer db.Close()
	pk := storeState(t, db).PublicKey
	if len(pk) != store.KeySize {
		t.Fatalf("public-object key not in the token state (%d bytes)", len(pk))
	}
	out := map[uint64][]byte{}
	must(t, db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(slotName(0)).Bucket([]byte("objects")).ForEach(func(k, v []byte) error {
			if store.Kind(v) != store.SealedPublic {
				return nil
			}
			id := binary.BigEndian.Uint64(k)
			plain, err := store.Unseal(pk, 0, id, v)
			if err != nil {
				return fmt.Errorf("record %d: %w", id, err)
			}
			out[id] = plain
			return nil
		})
	}))
	return out
}

func TestPublicKeyMaterialNotUnderPublicKey(t *testing.T) {
	dir := t.TempDir()
	c, sh := ready(t, dir)
	aesKey := []byte("\xC0\xFF\xEE\x22PUBLIC-AES-KEY-PATTERN-01234\xAB")[:32]
	_, err := c.CreateObject(sh, publicAESTemplate("pub-aes", aesKey))
	must(t, err)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	rk.Precompute()
	_, err = c.CreateObject(sh, public(append(labelID("pub-rsa"),
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA),
		pkcs11.NewAttribute(pkcs11.CKA_MODULUS, rk.N.Bytes()),
		pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, big.NewInt(int64(rk.E)).Bytes()),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE_EXPONENT, rk.D.Bytes()),
		pkcs11.NewAttribute(pkcs11.CKA_PRIME_1, rk.Primes[0].Bytes()),
		pkcs11.NewAttribute(pkcs11.CKA_PRIME_2, rk.Primes[1].Bytes()),
		pkcs11.NewAttribute(pkcs11.CKA_EXPONENT_1, rk.Precomputed.Dp.Bytes()),
		pkcs11.NewAttribute(pkcs11.CKA_EXPONENT_2, rk.Precomputed.Dq.Bytes()),
		pkcs11.NewAttribute(pkcs11.CKA_COEFFICIENT, rk.Precomputed.Qinv.Bytes()))...))
	must(t, err)
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	ecD := ek.D.FillBytes(make([]byte, 32))
	_, err = c.CreateObject(sh, public(append(labelID("pub-ec"),
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC),
		pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, p256OID),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, ecD))...))
	must(t, err)
	_, pq, err := c.GenerateKeyPair(sh, mechs(ck.CKM_ML_DSA_KEY_PAIR_GEN),
		public(append(labelID("pub-mldsa"), pkcs11.NewAttribute(ck.CKA_PARAMETER_SET, ck.CKP_ML_DSA_44))...),
		public(labelID("pub-mldsa")...))
	must(t, err)
	// The ML-DSA private key and seed, as the engine holds them.
	c.mu.RLock()
	pqValue, pqSeed := c.objects[pq].attrs.clone()[pkcs11.CKA_VALUE], c.objects[pq].attrs.clone()[ck.CKA_SEED]
	c.mu.RUnlock()
	if len(pqValue) == 0 {
		t.Fatal("ML-DSA private key has no CKA_VALUE")
	}
	must(t, c.Finalize())

	secrets := map[string][]byte{"AES key": aesKey, "RSA d": rk.D.Bytes(), "RSA p": rk.Primes[0].Bytes(),
		"RSA q": rk.Primes[1].Bytes(), "RSA dp": rk.Precomputed.Dp.Bytes(), "RSA dq": rk.Precomputed.Dq.Bytes(),
		"RSA qinv": rk.Precomputed.Qinv.Bytes(), "EC d": ecD, "ML-DSA key": pqValue[:64]}
	if len(pqSeed) > 0 {
		secrets["ML-DSA seed"] = pqSeed
	}
	plains := publicPlaintexts(t, dir)
	labels := 0
	for id, p := range plains {
		for name, s := range secrets {
			if bytes.Contains(p, s) {
				t.Errorf("%s readable with the public-object key (record %d)", name, id)
			}
		}
		for _, l := range []string{"pub-aes", "pub-rsa", "pub-ec", "pub-mldsa"} {
			if bytes.Contains(p, []byte(l)) {
				labels++
			}
		}
	}
	if labels < 4 {
		t.Fatalf("public views not found under the public-object key (%d of %d records matched a label)", labels, len(plains))
	}
}

func TestCorruptOrMissingMaterialRecord(t *testing.T) {
	dir := t.TempDir()
	c, sh := ready(t, dir)
	var hs []pkcs11.ObjectHandle
	for i := 0; i < 3; i++ {
		h, err := c.CreateObject(sh, publicAESTemplate(fmt.Sprintf("k%d", i), bytes.Repeat([]byte{byte(i + 1)}, 32)))
		must(t, err)
		hs = append(hs, h)
	}
	must(t, c.Finalize())
	path := filepath.Join(dir, store.FileName)
	flipRecordIn(t, path, 0, "material", uint64(hs[1]))
	db, err := bolt.Open(path, 0o600, nil)
	must(t, err)
	must(t, db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(slotName(0)).Bucket([]byte("material")).Delete(binary.BigEndian.AppendUint64(nil, uint64(hs[2])))
	}))
	db.Close()

	c = openCtx(t, testConfig(dir))
	sh = rwSession(t, c)
	must(t, c.Login(sh, pkcs11.CKU_USER, userPIN))
	encryptCBC(t, c, sh, hs[0], make([]byte, 16))
	for _, h := range hs[1:] {
		if l := attr(t, c, sh, h, pkcs11.CKA_LABEL); len(l) == 0 {
			t.Fatal("damaged key not visible")
		}
		wantRV(t, c.EncryptInit(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_CBC, cbcIV)}, h), pkcs11.CKR_GENERAL_ERROR)
		_, err := c.GetAttributeValue(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)})
		wantRV(t, err, pkcs11.CKR_GENERAL_ERROR)
		wantRV(t, c.SetAttributeValue(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, "x")}), pkcs11.CKR_GENERAL_ERROR)
	}
	probs := c.StoreProblems()
	want := []string{
		fmt.Sprintf("object %d (0x%x): record fails authentication (key material record", hs[1], uint64(hs[1])),
		fmt.Sprintf("object %d (0x%x): key material record missing", hs[2], uint64(hs[2])),
	}
	if len(probs) != 2 {
		t.Fatalf("problems = %v", probs)
	}
	for _, w := range want {
		if !strings.Contains(probs[0].Error()+"\n"+probs[1].Error(), w) {
			t.Errorf("problems %v lack %q", probs, w)
		}
	}
	// A damaged key can still be destroyed.
	must(t, c.DestroyObject(sh, hs[1]))
}

// toFormat1 rewrites the objects hs of slot 0 as format-1 records (the
// whole object, material included, under the public-object key; no
// material record), clears the token's SplitMaterial flag and sets the
// format version back to 1: a store as the engine wrote it before key
// material moved under the OMK.
func toFormat1(t *testing.T, dir string, hs ...pkcs11.ObjectHandle) {
	t.Helper()
	s, err := store.Open(dir)
	must(t, err)
	st, err := s.LoadToken(0)
	must(t, err)
	omk := omkOf(t, st)
	material := map[uint64][]byte{}
	must(t, s.ForEachMaterial(0, func(id uint64, sealed []byte) error {
		plain, err := store.Unseal(omk, 0, id, sealed)
		material[id] = plain
		return err
	}))
	var ws []store.ObjectWrite
	must(t, s.ForEachObject(0, func(id uint64, sealed []byte) error {
		for _, h := range hs {
			if uint64(h) != id {
				continue
			}
			pub, err := openRecord(st.PublicKey, 0, id, sealed)
			must(t, err)
			mat, err := decodeRecord(material[id])
			must(t, err)
			for typ, v := range mat {
				pub[typ] = v
			}
			rec, err := store.Seal(st.PublicKey, store.SealedPublic, 0, id, encodeRecord(pub))
			must(t, err)
			ws = append(ws, store.ObjectWrite{ID: id, Record: rec})
		}
		return nil
	}))
	if len(ws) != len(hs) {
		t.Fatalf("found %d of %d records", len(ws), len(hs))
	}
	st.SplitMaterial = false
	must(t, s.PutObjects(0, ws, st))
	must(t, s.Close())
	db, err := bolt.Open(filepath.Join(dir, store.FileName), 0o600, nil)
	must(t, err)
	must(t, db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("meta")).Put([]byte("version"), []byte("1")) }))
	must(t, db.Close())
}

// omkOf unwraps the OMK with the user PIN, as a login does.
func omkOf(t *testing.T, st *store.TokenState) []byte {
	t.Helper()
	kek, err := store.DeriveKEK(userPIN, st.User.Salt, st.User.Iterations)
	must(t, err)
	omk, err := store.UnwrapKey(kek, st.User.WrappedOMK, purposeUser)
	must(t, err)
	return omk
}

// hasMaterialRecord looks into the file read-only (store.Open would
// upgrade the format version).
func hasMaterialRecord(t *testing.T, dir string, id pkcs11.ObjectHandle) bool {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, store.FileName), 0o600, &bolt.Options{ReadOnly: true})
	must(t, err)
	defer db.Close()
	found := false
	db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(slotName(0)).Bucket([]byte("material")); b != nil {
			found = store.Kind(b.Get(binary.BigEndian.AppendUint64(nil, uint64(id)))) == store.SealedMaterial
		}
		return nil
	})
	return found
}

func TestFormat1StoreMigratesAtFirstLogin(t *testing.T) {
	dir := t.TempDir()
	c, sh := ready(t, dir)
	value := bytes.Repeat([]byte{0x6B}, 32)
	aes, err := c.CreateObject(sh, publicAESTemplate("old-aes", value))
	must(t, err)
	_, _, err = c.GenerateKeyPair(sh, mechs(pkcs11.CKM_EC_KEY_PAIR_GEN),
		public(append(labelID("old-ec"), pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, p256OID))...),
		public(append(labelID("old-ec"), pkcs11.NewAttribute(pkcs11.CKA_SIGN, true))...))
	must(t, err)
	ecPriv := one(t, c, sh, "old-ec", pkcs11.CKO_PRIVATE_KEY)
	ecPub := one(t, c, sh, "old-ec", pkcs11.CKO_PUBLIC_KEY)
	want := encryptCBC(t, c, sh, aes, make([]byte, 16))
	must(t, c.Finalize())
	toFormat1(t, dir, aes, ecPriv)
	if hasMaterialRecord(t, dir, aes) {
		t.Fatal("format-1 store still has a material record")
	}
	if p := publicPlaintexts(t, dir)[uint64(aes)]; !bytes.Contains(p, value) {
		t.Fatal("the format-1 record does not hold the key under the public-object key")
	}

	c = openCtx(t, testConfig(dir))
	sh = rwSession(t, c)
	// Before login: as any public key object, visible but not usable.
	if one(t, c, sh, "old-aes", pkcs11.CKO_SECRET_KEY) != aes {
		t.Fatal("format-1 key not visible")
	}
	wantRV(t, c.EncryptInit(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_CBC, cbcIV)}, aes), pkcs11.CKR_USER_NOT_LOGGED_IN)
	wantRV(t, c.SetAttributeValue(sh, aes, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, "x")}), pkcs11.CKR_USER_NOT_LOGGED_IN)
	must(t, c.Login(sh, pkcs11.CKU_USER, userPIN))
	if got := encryptCBC(t, c, sh, aes, make([]byte, 16)); !bytes.Equal(got, want) {
		t.Fatal("migrated AES key gives another result")
	}
	msg := []byte("after migration")
	verify(t, c, sh, pkcs11.CKM_ECDSA_SHA256, ecPub, msg, sign(t, c, sh, pkcs11.CKM_ECDSA_SHA256, ecPriv, msg))
	if p := c.StoreProblems(); len(p) != 0 {
		t.Fatalf("store problems: %v", p)
	}
	must(t, c.Finalize())

	// On disk: split, flagged, format 2.
	plains := publicPlaintexts(t, dir)
	for _, h := range []pkcs11.ObjectHandle{aes, ecPriv} {
		if !hasMaterialRecord(t, dir, h) {
			t.Fatalf("object %d has no material record after migration", h)
		}
		rec, err := decodeRecord(plains[uint64(h)])
		must(t, err)
		if _, mat := splitMaterial(rec); mat != nil {
			t.Fatalf("object %d: public record still holds material after migration", h)
		}
	}
	db, err := bolt.Open(filepath.Join(dir, store.FileName), 0o600, &bolt.Options{ReadOnly: true})
	must(t, err)
	st := storeState(t, db)
	var version string
	db.View(func(tx *bolt.Tx) error {
		version = string(tx.Bucket([]byte("meta")).Get([]byte("version")))
		return nil
	})
	db.Close()
	if !st.SplitMaterial || version != "2" {
		t.Fatalf("after migration: split_material %v, version %q", st.SplitMaterial, version)
	}

	// Restart: the migrated store works as a new one.
	c = openCtx(t, testConfig(dir))
	sh = rwSession(t, c)
	wantRV(t, c.EncryptInit(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_CBC, cbcIV)}, aes), pkcs11.CKR_USER_NOT_LOGGED_IN)
	must(t, c.Login(sh, pkcs11.CKU_USER, userPIN))
	if got := encryptCBC(t, c, sh, aes, make([]byte, 16)); !bytes.Equal(got, want) {
		t.Fatal("migrated AES key gives another result after restart")
	}
	must(t, c.Finalize())

	// A format-1 record written into a migrated token (forged under the
	// public-object key, which the files reveal) is refused.
	s, err := store.Open(dir)
	must(t, err)
	st2, err := s.LoadToken(0)
	must(t, err)
	forged := aesTemplate("forged", "", bytes.Repeat([]byte{0xEE}, 32), true, pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, false))
	fm, err := parseTemplate(forged)
	must(t, err)
	fm[pkcs11.CKA_ENCRYPT] = encBool(true)
	const forgedID = 0x7777
	rec, err := store.Seal(st2.PublicKey, store.SealedPublic, 0, forgedID, encodeRecord(fm))
	must(t, err)
	must(t, s.PutObject(0, forgedID, rec))
	must(t, s.Close())
	c = openCtx(t, testConfig(dir))
	sh = rwSession(t, c)
	if len(byLabel(t, c, sh, "forged")) != 0 {
		t.Fatal("forged format-1 key loaded")
	}
	probs := c.StoreProblems()
	if len(probs) != 1 || !strings.Contains(probs[0].Error(), "public record holds key material") {
		t.Fatalf("problems = %v", probs)
	}
}
