package interop

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// keyedToken is a token with an RSA and an EC key pair.
func keyedToken(t *testing.T) *store {
	t.Helper()
	s := newToken(t)
	s.userTool("--keypairgen", "--key-type", "RSA:2048", "--id", "01", "--label", "rsa")
	s.userTool("--keypairgen", "--key-type", "EC:prime256v1", "--id", "02", "--label", "ec")
	return s
}

func TestToolSelfTest(t *testing.T) {
	s := keyedToken(t)
	out := s.userTool("--test")
	mustContain(t, out, "No errors")
	if strings.Contains(out, "ERR") || strings.Contains(out, "failed") {
		t.Errorf("pkcs11-tool --test reports failures:\n%s", out)
	}
}

func TestGnuTLSp11tool(t *testing.T) {
	p11tool := needTool(t, "p11tool")
	s := keyedToken(t)
	out, err := s.run(time.Minute, nil, p11tool, "--provider", libPath, "--list-all")
	if err != nil {
		t.Fatalf("p11tool --list-all: %v\n%s", err, out)
	}
	mustContain(t, out, "token=interop", "Public key (RSA-2048)", "Public key (EC/ECDSA-SECP256R1)", "manufacturer=Craton%20HSM%20Project")
	out, err = s.run(time.Minute, nil, p11tool, "--provider", libPath, "--login", "--set-pin="+userPIN, "--list-all-privkeys")
	if err != nil {
		t.Fatalf("p11tool --list-all-privkeys: %v\n%s", err, out)
	}
	mustContain(t, out, "Private key (RSA-2048)", "Private key (EC/ECDSA-SECP256R1)", "CKA_SENSITIVE")
	out, err = s.run(2*time.Minute, nil, p11tool, "--provider", libPath, "--login", "--set-pin="+userPIN,
		"--test-sign", "pkcs11:token=interop;object=ec;type=private")
	if err != nil || !strings.Contains(out, "Verifying against public key") {
		t.Fatalf("p11tool --test-sign: %v\n%s", err, out)
	}
}

// openSSLEngine writes an OpenSSL config loading libp11's engine with the
// library as MODULE_PATH and returns the environment variable for it.
func openSSLEngine(t *testing.T, s *store) string {
	t.Helper()
	needTool(t, "openssl")
	var engine string
	for _, p := range []string{"/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so", "/usr/lib/aarch64-linux-gnu/engines-3/pkcs11.so",
		"/usr/lib64/engines-3/pkcs11.so"} {
		if _, err := os.Stat(p); err == nil {
			engine = p
		}
	}
	if engine == "" {
		t.Fatal("libp11 engine not installed: apt-get install libengine-pkcs11-openssl (scripts/deps.sh does)")
	}
	cnf := fmt.Sprintf(`openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = %s
MODULE_PATH = %s
init = 0
`, engine, libPath)
	return "OPENSSL_CONF=" + s.write("openssl.cnf", []byte(cnf))
}

func TestOpenSSLEngine(t *testing.T) {
	s := keyedToken(t)
	conf := openSSLEngine(t, s)
	openssl := func(args ...string) string {
		t.Helper()
		out, err := s.run(2*time.Minute, nil, "env", append([]string{conf, "openssl"}, args...)...)
		if err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	uri := func(obj string) string {
		return "pkcs11:token=interop;object=" + obj + ";type=private;pin-value=" + userPIN
	}
	s.write("msg", []byte("signed through the OpenSSL engine"))
	// RSA: openssl dgst -sign through the engine, verified by plain OpenSSL
	// with the public key exported by pkcs11-tool.
	openssl("dgst", "-engine", "pkcs11", "-keyform", "engine", "-sha256", "-sign", uri("rsa"),
		"-out", s.file("rsa.sig"), s.file("msg"))
	s.tool("--read-object", "--type", "pubkey", "--id", "01", "-o", s.file("rsa.pub.der"))
	out, err := s.run(time.Minute, nil, "openssl", "dgst", "-sha256", "-verify", s.file("rsa.pub.der"), "-keyform", "DER",
		"-signature", s.file("rsa.sig"), s.file("msg"))
	if err != nil || !strings.Contains(out, "Verified OK") {
		t.Fatalf("RSA signature from the engine: %v\n%s", err, out)
	}
	// EC: a self-signed certificate made with openssl req through the
	// engine verifies, and its public key is the token's.
	openssl("req", "-engine", "pkcs11", "-keyform", "engine", "-new", "-x509", "-key", uri("ec"),
		"-subj", "/CN=craton interop", "-days", "1", "-out", s.file("ec.crt"))
	out, err = s.run(time.Minute, nil, "openssl", "verify", "-CAfile", s.file("ec.crt"), s.file("ec.crt"))
	if err != nil || !strings.Contains(out, "OK") {
		t.Fatalf("EC self-signed certificate: %v\n%s", err, out)
	}
	blk, _ := pem.Decode(s.read("ec.crt"))
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := cert.CheckSignatureFrom(cert); err != nil {
		t.Fatalf("Go rejects the engine's ECDSA certificate signature: %v", err)
	}
}

// TestP11KitRegistration registers the library with p11-kit through a
// module file and lists it with p11-kit list-modules. As root p11-kit reads
// only the system configuration, so the file goes to /etc/pkcs11/modules
// and is removed afterwards.
func TestP11KitRegistration(t *testing.T) {
	p11kit := needTool(t, "p11-kit")
	dir := "/etc/pkcs11/modules"
	created := false
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("cannot create %s (the p11-kit test runs as root): %v", dir, err)
		}
		created = true
	}
	name := fmt.Sprintf("craton-interop-%d", os.Getpid())
	file := filepath.Join(dir, name+".module")
	if err := os.WriteFile(file, []byte("module: "+libPath+"\n"), 0o644); err != nil {
		t.Fatalf("cannot write %s (the p11-kit test runs as root): %v", file, err)
	}
	t.Cleanup(func() {
		os.Remove(file)
		if created {
			os.Remove(dir)
		}
	})
	s := keyedToken(t)
	out, err := s.run(time.Minute, nil, p11kit, "list-modules")
	if err != nil {
		t.Fatalf("p11-kit list-modules: %v\n%s", err, out)
	}
	i := strings.Index(out, name+": "+libPath)
	if i < 0 {
		t.Fatalf("module %s not listed:\n%s", name, out)
	}
	mustContain(t, out[i:], "library-description: Craton HSM Software HSM", "library-manufacturer: Craton HSM Project",
		"token: interop")
	// Through the p11-kit proxy module, as applications using it see it.
	proxy := "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so"
	if _, err := os.Stat(proxy); err == nil {
		out, err := s.run(time.Minute, nil, "pkcs11-tool", "--module", proxy, "-L")
		if err != nil {
			t.Fatalf("pkcs11-tool through p11-kit-proxy: %v\n%s", err, out)
		}
		mustContain(t, out, "token label        : interop", "token manufacturer : Craton HSM Project")
	}
}

func TestJavaSunPKCS11(t *testing.T) {
	keytool := needTool(t, "keytool")
	s := keyedToken(t)
	cfg := s.write("pkcs11.cfg", []byte(fmt.Sprintf("name = Craton\nlibrary = %s\nslot = 0\n", libPath)))
	base := []string{"-storetype", "PKCS11", "-providerClass", "sun.security.pkcs11.SunPKCS11", "-providerArg", cfg,
		"-storepass", userPIN}
	kt := func(args ...string) string {
		t.Helper()
		out, err := s.run(3*time.Minute, nil, keytool, append(args, base...)...)
		if err != nil {
			t.Fatalf("keytool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	// Java generates an EC key pair in the token, signs a self-signed
	// certificate with it and stores the certificate there.
	kt("-genkeypair", "-alias", "javakey", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=java interop", "-validity", "1")
	out := kt("-list")
	mustContain(t, out, "Keystore provider: SunPKCS11-Craton", "javakey, PrivateKeyEntry")
	out = kt("-list", "-v", "-alias", "javakey")
	mustContain(t, out, "Owner: CN=java interop", "Signature algorithm name: SHA256withECDSA")
}

func TestNSSModutil(t *testing.T) {
	modutil := needTool(t, "modutil")
	certutil := needTool(t, "certutil")
	s := keyedToken(t)
	db := "sql:" + s.file("nssdb")
	os.MkdirAll(s.file("nssdb"), 0o700)
	if out, err := s.run(time.Minute, nil, certutil, "-N", "-d", db, "--empty-password"); err != nil {
		t.Fatalf("certutil -N: %v\n%s", err, out)
	}
	if out, err := s.run(time.Minute, []byte("\n"), modutil, "-force", "-dbdir", db, "-add", "craton", "-libfile", libPath); err != nil {
		t.Fatalf("modutil -add: %v\n%s", err, out)
	}
	out, err := s.run(time.Minute, nil, modutil, "-dbdir", db, "-list", "craton")
	if err != nil {
		t.Fatalf("modutil -list: %v\n%s", err, out)
	}
	mustContain(t, out, "Craton HSM Software HSM", "interop")
	s.write("pin.txt", []byte(userPIN+"\n"))
	out, err = s.run(time.Minute, nil, certutil, "-K", "-d", db, "-h", "interop", "-f", s.file("pin.txt"))
	if err != nil {
		t.Fatalf("certutil -K: %v\n%s", err, out)
	}
	mustContain(t, out, "rsa", "ec")
}
