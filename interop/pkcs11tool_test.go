package interop

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestToolInfo(t *testing.T) {
	s := newStore(t)
	out := s.tool("-I")
	mustContain(t, out, "Cryptoki version 3.0", "Manufacturer     Craton HSM Project",
		"Library          Craton HSM Software HSM")
}

func TestToolSlotsTokensMechanisms(t *testing.T) {
	s := newStore(t)
	mustContain(t, s.tool("-L"), "Slot 0 (0x0)", "token state:   uninitialized")
	s.tool("--init-token", "--label", "interop", "--so-pin", soPIN)
	s.tool("--init-pin", "--login", "--so-pin", soPIN, "--pin", userPIN)
	mustContain(t, s.tool("-T"), "token label        : interop", "token manufacturer : Craton HSM Project",
		"token initialized", "PIN initialized")
	mustContain(t, s.tool("-M"), "RSA-PKCS-KEY-PAIR-GEN", "SHA256-RSA-PKCS", "SHA256-RSA-PKCS-PSS",
		"ECDSA", "EDDSA", "AES-CBC-PAD", "AES-GCM", "SHA256-HMAC", "RSA-PKCS-OAEP")
}

func TestToolPINs(t *testing.T) {
	s := newToken(t)
	s.tool("--login", "--pin", userPIN, "--change-pin", "--new-pin", "new-Pin987")
	s.tool("--login", "--pin", "new-Pin987", "--list-objects")
	out, err := s.tryTool("--login", "--pin", userPIN, "--list-objects")
	if err == nil || !strings.Contains(out, "CKR_PIN_INCORRECT") {
		t.Fatalf("old PIN after --change-pin: err=%v\n%s", err, out)
	}
	// Wrong SO PIN at --init-pin.
	out, err = s.tryTool("--init-pin", "--login", "--so-pin", "wrong-Pin1", "--pin", userPIN)
	if err == nil || !strings.Contains(out, "CKR_PIN_INCORRECT") {
		t.Fatalf("wrong SO PIN: err=%v\n%s", err, out)
	}
}

// readPub reads the public key with id from the token as a Go key.
func readPub(t *testing.T, s *store, id string) crypto.PublicKey {
	t.Helper()
	s.tool("--read-object", "--type", "pubkey", "--id", id, "-o", s.file("pub-"+id+".der"))
	k, err := x509.ParsePKIXPublicKey(s.read("pub-" + id + ".der"))
	if err != nil {
		t.Fatalf("public key %s: %v", id, err)
	}
	return k
}

func TestToolSignVerify(t *testing.T) {
	s := newToken(t)
	msg := []byte("craton interop test message\n")
	s.write("msg", msg)
	digest := sha256.Sum256(msg)
	cases := []struct {
		name, keyType, mech, id string
		pair                    bool
		check                   func(t *testing.T, pub crypto.PublicKey, sig []byte)
	}{
		{"rsa-pkcs", "RSA:2048", "SHA256-RSA-PKCS", "10", true, func(t *testing.T, pub crypto.PublicKey, sig []byte) {
			if err := rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), crypto.SHA256, digest[:], sig); err != nil {
				t.Error(err)
			}
		}},
		{"rsa-pss", "RSA:2048", "SHA256-RSA-PKCS-PSS", "11", true, func(t *testing.T, pub crypto.PublicKey, sig []byte) {
			if err := rsa.VerifyPSS(pub.(*rsa.PublicKey), crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: 32}); err != nil {
				t.Error(err)
			}
		}},
		{"ecdsa-p256", "EC:prime256v1", "ECDSA", "12", true, func(t *testing.T, pub crypto.PublicKey, sig []byte) {
			checkRawECDSA(t, pub, digest[:], sig, 64)
		}},
		{"ecdsa-p384", "EC:secp384r1", "ECDSA", "13", true, func(t *testing.T, pub crypto.PublicKey, sig []byte) {
			checkRawECDSA(t, pub, digest[:], sig, 96)
		}},
		{"eddsa", "EC:edwards25519", "EDDSA", "14", true, func(t *testing.T, pub crypto.PublicKey, sig []byte) {
			if k, ok := pub.(ed25519.PublicKey); !ok || !ed25519.Verify(k, msg, sig) {
				t.Errorf("Ed25519 signature does not verify (key %T)", pub)
			}
		}},
		{"hmac", "GENERIC:32", "SHA256-HMAC", "15", false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s.t = t
			if c.pair {
				s.userTool("--keypairgen", "--key-type", c.keyType, "--id", c.id, "--label", c.name)
			} else {
				s.userTool("--keygen", "--key-type", c.keyType, "--id", c.id, "--label", c.name)
			}
			in := msg
			if c.mech == "ECDSA" {
				in = digest[:] // CKM_ECDSA signs the caller's hash
			}
			s.write("in-"+c.id, in)
			s.userTool("--sign", "-m", c.mech, "--id", c.id, "-i", s.file("in-"+c.id), "-o", s.file("sig-"+c.id))
			out := s.userTool("--verify", "-m", c.mech, "--id", c.id, "-i", s.file("in-"+c.id), "--signature-file", s.file("sig-"+c.id))
			mustContain(t, out, "Signature is valid")
			sig := s.read("sig-" + c.id)
			if c.check != nil {
				c.check(t, publicKey(t, s, c.keyType, c.id), sig)
			}
			// A flipped bit must not verify (pkcs11-tool says so, exit 0).
			sig[len(sig)/2] ^= 1
			s.write("bad-"+c.id, sig)
			out, _ = s.tryTool("--login", "--pin", userPIN, "--verify", "-m", c.mech, "--id", c.id,
				"-i", s.file("in-"+c.id), "--signature-file", s.file("bad-"+c.id))
			if !strings.Contains(out, "Invalid signature") {
				t.Errorf("tampered signature accepted:\n%s", out)
			}
		})
	}
}

// publicKey gets the public key of the pair with id: RSA and P-256 through
// --read-object (SubjectPublicKeyInfo); P-384 and Ed25519 from the EC_POINT
// that --list-objects prints (pkcs11-tool 0.23 cannot export those: "cannot
// create EVP_PKEY", with SoftHSM as well).
func publicKey(t *testing.T, s *store, keyType, id string) crypto.PublicKey {
	t.Helper()
	switch keyType {
	case "EC:secp384r1", "EC:edwards25519":
	default:
		return readPub(t, s, id)
	}
	list := s.tool("--list-objects", "--type", "pubkey")
	var block string
	for _, b := range strings.Split(list, "Public Key Object") {
		if strings.Contains(b, "ID:         "+id+"\n") {
			block = b
		}
	}
	i := strings.Index(block, "EC_POINT:   ")
	if i < 0 {
		t.Fatalf("no EC_POINT listed for id %s:\n%s", id, list)
	}
	hexPoint := strings.Fields(block[i+len("EC_POINT:   "):])[0]
	der, err := hex.DecodeString(hexPoint)
	if err != nil || len(der) < 2 || der[0] != 0x04 || int(der[1]) != len(der)-2 {
		t.Fatalf("EC_POINT %q is not a DER OCTET STRING", hexPoint)
	}
	point := der[2:]
	if keyType == "EC:edwards25519" {
		return ed25519.PublicKey(point)
	}
	pk, err := ecdh.P384().NewPublicKey(point)
	if err != nil {
		t.Fatal(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(pk)
	if err != nil {
		t.Fatal(err)
	}
	k, err := x509.ParsePKIXPublicKey(spki)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func checkRawECDSA(t *testing.T, pub crypto.PublicKey, digest, sig []byte, want int) {
	t.Helper()
	if len(sig) != want {
		t.Fatalf("ECDSA signature is %d bytes, want raw r||s of %d", len(sig), want)
	}
	r := new(big.Int).SetBytes(sig[:want/2])
	ss := new(big.Int).SetBytes(sig[want/2:])
	if !ecdsa.Verify(pub.(*ecdsa.PublicKey), digest, r, ss) {
		t.Error("ECDSA signature does not verify")
	}
}

func TestToolEncryptDecrypt(t *testing.T) {
	s := newToken(t)
	msg := bytes.Repeat([]byte("0123456789abcdef-"), 7)
	s.write("msg", msg)

	t.Run("aes-cbc-pad", func(t *testing.T) {
		s.t = t
		iv := "000102030405060708090a0b0c0d0e0f"
		s.userTool("--keygen", "--key-type", "AES:32", "--id", "20", "--label", "aes")
		s.userTool("--encrypt", "-m", "AES-CBC-PAD", "--id", "20", "--iv", iv, "-i", s.file("msg"), "-o", s.file("ct"))
		if ct := s.read("ct"); len(ct) != (len(msg)/16+1)*16 || bytes.Contains(ct, msg[:16]) {
			t.Fatalf("ciphertext of %d bytes looks wrong", len(ct))
		}
		s.userTool("--decrypt", "-m", "AES-CBC-PAD", "--id", "20", "--iv", iv, "-i", s.file("ct"), "-o", s.file("pt"))
		if !bytes.Equal(s.read("pt"), msg) {
			t.Fatal("AES-CBC-PAD round trip differs")
		}
	})
	t.Run("rsa-oaep", func(t *testing.T) {
		s.t = t
		s.userTool("--keypairgen", "--key-type", "RSA:2048", "--id", "21", "--label", "rsa-oaep")
		pub := readPub(t, s, "21").(*rsa.PublicKey)
		ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, msg[:64], nil)
		if err != nil {
			t.Fatal(err)
		}
		s.write("oaep", ct)
		s.userTool("--decrypt", "-m", "RSA-PKCS-OAEP", "--hash-algorithm", "SHA256", "--mgf", "MGF1-SHA256",
			"--id", "21", "-i", s.file("oaep"), "-o", s.file("oaep.pt"))
		if !bytes.Equal(s.read("oaep.pt"), msg[:64]) {
			t.Fatal("RSA-OAEP decryption differs")
		}
	})
}

func TestToolHash(t *testing.T) {
	s := newStore(t)
	msg := bytes.Repeat([]byte{0xA5, 0x5A, 0x00}, 1000)
	s.write("msg", msg)
	s.tool("--hash", "-m", "SHA256", "-i", s.file("msg"), "-o", s.file("h"))
	want := sha256.Sum256(msg)
	if got := s.read("h"); !bytes.Equal(got, want[:]) {
		t.Fatalf("SHA256 = %x, want %x", got, want)
	}
}

func selfSigned(t *testing.T) (*rsa.PrivateKey, []byte) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "craton interop"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return k, der
}

func TestToolObjects(t *testing.T) {
	s := newToken(t)
	k, cert := selfSigned(t)
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	aes := bytes.Repeat([]byte{0x42}, 32)
	data := []byte("some application data")
	s.write("cert.der", cert)
	s.write("pub.der", pub)
	s.write("priv.der", priv)
	s.write("aes.bin", aes)
	s.write("data.bin", data)

	s.userTool("--write-object", s.file("cert.der"), "--type", "cert", "--id", "30", "--label", "cert")
	s.userTool("--write-object", s.file("pub.der"), "--type", "pubkey", "--id", "30", "--label", "pub")
	s.userTool("--write-object", s.file("priv.der"), "--type", "privkey", "--id", "30", "--label", "priv")
	s.userTool("--write-object", s.file("aes.bin"), "--type", "secrkey", "--key-type", "AES:32", "--id", "31", "--label", "aes")
	s.userTool("--write-object", s.file("data.bin"), "--type", "data", "--label", "blob", "--application-label", "craton")

	list := s.userTool("--list-objects")
	mustContain(t, list, "Certificate Object", "label:      cert", "Public Key Object; RSA", "label:      pub",
		"Private Key Object; RSA", "label:      priv", "Secret Key Object; AES", "label:      aes",
		"Data object", "label:          'blob'", "ID:         30", "ID:         31")

	s.tool("--read-object", "--type", "cert", "--id", "30", "-o", s.file("cert.out"))
	if !bytes.Equal(s.read("cert.out"), cert) {
		t.Error("certificate read back differs")
	}
	s.userTool("--read-object", "--type", "data", "--label", "blob", "-o", s.file("data.out"))
	if !bytes.Equal(s.read("data.out"), data) {
		t.Error("data object read back differs")
	}
	if got := readPub(t, s, "30").(*rsa.PublicKey); got.N.Cmp(k.N) != 0 {
		t.Error("public key read back differs")
	}
	// The imported private key signs; Go verifies with the certificate's key.
	msg := []byte("signed by an imported key")
	s.write("msg", msg)
	s.userTool("--sign", "-m", "SHA256-RSA-PKCS", "--id", "30", "-i", s.file("msg"), "-o", s.file("sig"))
	d := sha256.Sum256(msg)
	if err := rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, d[:], s.read("sig")); err != nil {
		t.Errorf("signature by imported key: %v", err)
	}

	s.userTool("--delete-object", "--type", "cert", "--id", "30")
	s.userTool("--delete-object", "--type", "pubkey", "--id", "30")
	s.userTool("--delete-object", "--type", "privkey", "--id", "30")
	s.userTool("--delete-object", "--type", "secrkey", "--id", "31")
	s.userTool("--delete-object", "--type", "data", "--label", "blob")
	list = s.userTool("--list-objects")
	for _, gone := range []string{"cert", "pub", "priv", "aes", "blob"} {
		if strings.Contains(list, "label:      "+gone+"\n") || strings.Contains(list, "'"+gone+"'") {
			t.Errorf("%s still listed after --delete-object:\n%s", gone, list)
		}
	}
}

func TestToolRandom(t *testing.T) {
	s := newToken(t)
	s.tool("--generate-random", "64", "-o", s.file("rnd"))
	if r := s.read("rnd"); len(r) != 64 || bytes.Equal(r, make([]byte, 64)) {
		t.Fatalf("random: %s", hex.EncodeToString(r))
	}
}
