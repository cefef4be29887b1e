package interop

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"math/big"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// The Go harness loads the library into this test process through
// miekg/pkcs11 (p11.OpenLibrary). The library's Go runtime copies the
// environment when it is loaded, so every in-process test shares one store,
// set up once.
var inproc struct {
	once sync.Once
	err  error
	dir  string
}

func openInproc(t *testing.T) *p11.Loaded {
	t.Helper()
	inproc.once.Do(func() {
		dir, err := os.MkdirTemp("", "craton-inproc-*")
		if err != nil {
			inproc.err = err
			return
		}
		inproc.dir = dir
		cfg := fmt.Sprintf("token:\n  label: \"inproc\"\n  storage_path: %q\n  persist_objects: true\n"+
			"security:\n  pbkdf2_iterations: 100000\naudit:\n  log_path: %q\n", dir+"/store", dir+"/audit.jsonl")
		if err := os.WriteFile(dir+"/craton_hsm.yaml", []byte(cfg), 0o600); err != nil {
			inproc.err = err
			return
		}
		os.Setenv("CRATON_HSM_CONFIG", dir+"/craton_hsm.yaml")
		l, err := p11.OpenLibrary(libPath)
		if err != nil {
			inproc.err = err
			return
		}
		defer l.Close()
		if err := l.InitToken(0, soPIN, "inproc"); err != nil {
			inproc.err = fmt.Errorf("InitToken: %w", err)
			return
		}
		sh, err := l.OpenSession(0, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
		if err != nil {
			inproc.err = err
			return
		}
		defer l.CloseSession(sh)
		if err := l.Login(sh, pkcs11.CKU_SO, soPIN); err != nil {
			inproc.err = err
			return
		}
		if err := l.InitPIN(sh, userPIN); err != nil {
			inproc.err = err
			return
		}
		inproc.err = l.Logout(sh)
	})
	if inproc.err != nil {
		t.Fatalf("in-process store: %v", inproc.err)
	}
	l, err := p11.OpenLibrary(libPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

type concKeys struct {
	ecPriv, ecPubObj, aes pkcs11.ObjectHandle
	ecPub                 *ecdsa.PublicKey
}

func makeConcKeys(t *testing.T, m p11.Module, sh pkcs11.SessionHandle, tag string) concKeys {
	t.Helper()
	var k concKeys
	var err error
	p256 := []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}
	k.ecPubObj, k.ecPriv, err = m.GenerateKeyPair(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_EC_KEY_PAIR_GEN, nil)},
		[]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true), pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, p256),
			pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true), pkcs11.NewAttribute(pkcs11.CKA_LABEL, "ec-"+tag)},
		[]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true), pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true), pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, "ec-"+tag)})
	if err != nil {
		t.Fatalf("GenerateKeyPair: %v", err)
	}
	k.aes, err = m.GenerateKey(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)},
		[]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true), pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32),
			pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true), pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, true),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, "aes-"+tag)})
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	a, err := m.GetAttributeValue(sh, k.ecPubObj, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, nil)})
	if err != nil {
		t.Fatal(err)
	}
	pt := a[0].Value
	if len(pt) != 67 || pt[0] != 0x04 || pt[1] != 65 {
		t.Fatalf("CKA_EC_POINT %x is not a DER OCTET STRING of 65 bytes", pt)
	}
	pk, err := ecdh.P256().NewPublicKey(pt[2:])
	if err != nil {
		t.Fatal(err)
	}
	spki, _ := x509.MarshalPKIXPublicKey(pk)
	pub, err := x509.ParsePKIXPublicKey(spki)
	if err != nil {
		t.Fatal(err)
	}
	k.ecPub = pub.(*ecdsa.PublicKey)
	return k
}

// TestConcurrentMixedOperations: 64 goroutines × 1,000 operations (sign,
// verify, digest, encrypt/decrypt with CBC-PAD and GCM parameters, find,
// random), each on its own session: no crash, no wrong result, no deadlock.
func TestConcurrentMixedOperations(t *testing.T) {
	l := openInproc(t)
	const workers = 64
	ops := 1000
	if testing.Short() {
		ops = 100
	}
	admin, err := l.OpenSession(0, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		t.Fatal(err)
	}
	defer l.CloseSession(admin)
	if err := l.Login(admin, pkcs11.CKU_USER, userPIN); err != nil {
		t.Fatal(err)
	}
	defer l.Logout(admin)
	tag := fmt.Sprint(time.Now().UnixNano())
	k := makeConcKeys(t, l, admin, tag)

	var failures atomic.Int64
	var firstErr atomic.Value
	fail := func(format string, args ...any) {
		if failures.Add(1) == 1 {
			firstErr.Store(fmt.Sprintf(format, args...))
		}
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			sh, err := l.OpenSession(0, pkcs11.CKF_SERIAL_SESSION)
			if err != nil {
				fail("worker %d OpenSession: %v", w, err)
				return
			}
			defer l.CloseSession(sh)
			for i := 0; i < ops; i++ {
				msg := []byte(fmt.Sprintf("worker %d op %d", w, i))
				switch (w + i) % 6 {
				case 0: // ECDSA sign (two-call idiom inside miekg), verify in Go and in the token
					d := sha256.Sum256(msg)
					if err := l.SignInit(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_ECDSA, nil)}, k.ecPriv); err != nil {
						fail("SignInit: %v", err)
						continue
					}
					sig, err := l.Sign(sh, d[:])
					if err != nil || len(sig) != 64 {
						fail("Sign: %v (len %d)", err, len(sig))
						continue
					}
					if !ecdsa.Verify(k.ecPub, d[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
						fail("worker %d op %d: ECDSA signature does not verify", w, i)
					}
					if err := l.VerifyInit(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_ECDSA, nil)}, k.ecPubObj); err != nil {
						fail("VerifyInit: %v", err)
						continue
					}
					if err := l.Verify(sh, d[:], sig); err != nil {
						fail("Verify: %v", err)
					}
				case 1: // digest
					if err := l.DigestInit(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_SHA256, nil)}); err != nil {
						fail("DigestInit: %v", err)
						continue
					}
					got, err := l.Digest(sh, msg)
					want := sha256.Sum256(msg)
					if err != nil || !bytes.Equal(got, want[:]) {
						fail("Digest: %v %x", err, got)
					}
				case 2: // AES-CBC-PAD round trip
					iv := make([]byte, 16)
					rand.Read(iv)
					m := []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_CBC_PAD, iv)}
					if err := l.EncryptInit(sh, m, k.aes); err != nil {
						fail("EncryptInit: %v", err)
						continue
					}
					ct, err := l.Encrypt(sh, msg)
					if err != nil {
						fail("Encrypt: %v", err)
						continue
					}
					if err := l.DecryptInit(sh, m, k.aes); err != nil {
						fail("DecryptInit: %v", err)
						continue
					}
					pt, err := l.Decrypt(sh, ct)
					if err != nil || !bytes.Equal(pt, msg) {
						fail("Decrypt: %v %q", err, pt)
					}
				case 3: // AES-GCM with a CK_GCM_PARAMS (pointer-carrying parameter)
					iv := make([]byte, 12)
					rand.Read(iv)
					aad := []byte(fmt.Sprint("aad", w))
					m := []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, pkcs11.NewGCMParams(iv, aad, 128))}
					if err := l.EncryptInit(sh, m, k.aes); err != nil {
						fail("GCM EncryptInit: %v", err)
						continue
					}
					ct, err := l.Encrypt(sh, msg)
					if err != nil || len(ct) != len(msg)+16 {
						fail("GCM Encrypt: %v len %d", err, len(ct))
						continue
					}
					m = []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, pkcs11.NewGCMParams(iv, aad, 128))}
					if err := l.DecryptInit(sh, m, k.aes); err != nil {
						fail("GCM DecryptInit: %v", err)
						continue
					}
					pt, err := l.Decrypt(sh, ct)
					if err != nil || !bytes.Equal(pt, msg) {
						fail("GCM Decrypt: %v %q", err, pt)
					}
				case 4: // find
					if err := l.FindObjectsInit(sh, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, "aes-"+tag)}); err != nil {
						fail("FindObjectsInit: %v", err)
						continue
					}
					hs, _, err := l.FindObjects(sh, 10)
					if err2 := l.FindObjectsFinal(sh); err == nil {
						err = err2
					}
					if err != nil || len(hs) != 1 || hs[0] != k.aes {
						fail("FindObjects: %v %v want [%d]", err, hs, k.aes)
					}
				case 5: // random
					r, err := l.GenerateRandom(sh, 32)
					if err != nil || len(r) != 32 {
						fail("GenerateRandom: %v", err)
					}
				}
			}
		}(w)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(8 * time.Minute):
		buf := make([]byte, 1<<22)
		t.Fatalf("deadlock: workers still running after 8 minutes\n%s", buf[:runtime.Stack(buf, true)])
	}
	if n := failures.Load(); n > 0 {
		t.Fatalf("%d failures; first: %v", n, firstErr.Load())
	}
}

// TestStoreLockedByAnotherProcess: while this process has the store open
// (C_Initialize done through miekg/pkcs11), pkcs11-tool on the same
// storage_path gets CKR_GENERAL_ERROR from C_Initialize and the engine's
// reason on stderr.
func TestStoreLockedByAnotherProcess(t *testing.T) {
	openInproc(t)
	s := &store{t: t, dir: t.TempDir(), cfg: inproc.dir + "/craton_hsm.yaml"}
	out, err := s.tryTool("-L")
	if err == nil {
		t.Fatalf("pkcs11-tool opened a store held by another process:\n%s", out)
	}
	mustContain(t, out, "CKR_GENERAL_ERROR", "is locked by another process")
}
