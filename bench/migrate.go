package main

import (
	"bufio"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/pkcs11"
)

// migrationRun is one `craton migrate move` of n keys.
type migrationRun struct {
	Keys, Objects int
	Elapsed       time.Duration
	MaxRSSKB      int64
	Moved         string // the report's summary line
}

// toolRun is the guide's per-key pkcs11-tool flow on the AES/generic keys.
type toolRun struct {
	TokenKeys int // keys on the source token
	Tried     int // secret keys wrapped+unwrapped (all, or a sample)
	PerKey    []time.Duration
	Total     time.Duration
	Sampled   bool
}

type migrationResult struct {
	Runs  []migrationRun
	Tools []toolRun
	Cmd   string
}

var kekValue = []byte("bench-transport-kek-32-bytes!!!!")

// buildSource creates a SoftHSMv2 token with n extractable keys in a
// fixed mix per 10 keys: 5 AES-256, 2 generic 32-byte secrets, 2 EC P-256
// key pairs (generated in the token), 1 RSA-2048 key pair (imported from
// Go key material, as in-token RSA generation would dominate the build).
// Secret and private keys are sensitive and extractable. A shared AES KEK
// (CKA_ID f1) is added for the pkcs11-tool flow; it is not counted.
func buildSource(ctx *pkcs11.Ctx, slot uint, n int, rsaKeys []*rsa.PrivateKey) (objects int, err error) {
	sh, err := ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return 0, err
	}
	defer ctx.CloseSession(sh)
	if err := ctx.Login(sh, pkcs11.CKU_USER, userPIN); err != nil {
		return 0, err
	}
	if _, err := ctx.CreateObject(sh, kekTemplate()); err != nil {
		return 0, fmt.Errorf("KEK: %w", err)
	}
	for i := 0; i < n; i++ {
		id := []byte{byte(i >> 16), byte(i >> 8), byte(i)}
		label := fmt.Sprintf("mig-%05d", i)
		common := func(t ...*pkcs11.Attribute) []*pkcs11.Attribute {
			return append(t, attr(pkcs11.CKA_TOKEN, true), attr(pkcs11.CKA_LABEL, label), attr(pkcs11.CKA_ID, id))
		}
		priv := func(t ...*pkcs11.Attribute) []*pkcs11.Attribute {
			return common(append(t, attr(pkcs11.CKA_PRIVATE, true), attr(pkcs11.CKA_SENSITIVE, true), attr(pkcs11.CKA_EXTRACTABLE, true))...)
		}
		switch i % 10 {
		case 0, 1, 3, 5, 7:
			_, err = ctx.GenerateKey(sh, mechs(pkcs11.CKM_AES_KEY_GEN, nil), priv(attr(pkcs11.CKA_VALUE_LEN, 32),
				attr(pkcs11.CKA_ENCRYPT, true), attr(pkcs11.CKA_DECRYPT, true)))
			objects++
		case 2, 6:
			_, err = ctx.GenerateKey(sh, mechs(pkcs11.CKM_GENERIC_SECRET_KEY_GEN, nil), priv(attr(pkcs11.CKA_VALUE_LEN, 32),
				attr(pkcs11.CKA_SIGN, true), attr(pkcs11.CKA_VERIFY, true)))
			objects++
		case 4, 8:
			_, _, err = ctx.GenerateKeyPair(sh, mechs(pkcs11.CKM_EC_KEY_PAIR_GEN, nil),
				common(attr(pkcs11.CKA_EC_PARAMS, oidP256), attr(pkcs11.CKA_VERIFY, true)), priv(attr(pkcs11.CKA_SIGN, true)))
			objects += 2
		case 9:
			k := rsaKeys[(i/10)%len(rsaKeys)]
			be := func(b *big.Int) []byte { return b.Bytes() }
			_, err = ctx.CreateObject(sh, common(attr(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY), attr(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA),
				attr(pkcs11.CKA_MODULUS, be(k.N)), attr(pkcs11.CKA_PUBLIC_EXPONENT, be(big.NewInt(int64(k.E)))), attr(pkcs11.CKA_VERIFY, true)))
			if err == nil {
				_, err = ctx.CreateObject(sh, priv(attr(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY), attr(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA),
					attr(pkcs11.CKA_MODULUS, be(k.N)), attr(pkcs11.CKA_PUBLIC_EXPONENT, be(big.NewInt(int64(k.E)))),
					attr(pkcs11.CKA_PRIVATE_EXPONENT, be(k.D)), attr(pkcs11.CKA_PRIME_1, be(k.Primes[0])), attr(pkcs11.CKA_PRIME_2, be(k.Primes[1])),
					attr(pkcs11.CKA_EXPONENT_1, be(k.Precomputed.Dp)), attr(pkcs11.CKA_EXPONENT_2, be(k.Precomputed.Dq)),
					attr(pkcs11.CKA_COEFFICIENT, be(k.Precomputed.Qinv)), attr(pkcs11.CKA_SIGN, true)))
			}
			objects += 2
		}
		if err != nil {
			return objects, fmt.Errorf("key %d: %w", i, err)
		}
	}
	return objects, nil
}

func kekTemplate() []*pkcs11.Attribute {
	return []*pkcs11.Attribute{attr(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY), attr(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		attr(pkcs11.CKA_TOKEN, true), attr(pkcs11.CKA_LABEL, "guide-kek"), attr(pkcs11.CKA_ID, []byte{0xf1}),
		attr(pkcs11.CKA_VALUE, kekValue), attr(pkcs11.CKA_WRAP, true), attr(pkcs11.CKA_UNWRAP, true),
		attr(pkcs11.CKA_PRIVATE, true), attr(pkcs11.CKA_SENSITIVE, true), attr(pkcs11.CKA_EXTRACTABLE, false)}
}

// maxRSS reads /usr/bin/time -v's "Maximum resident set size (kbytes)".
func maxRSS(out string) int64 {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(l, "Maximum resident set size (kbytes): "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

func migrationBench(o options) (*migrationResult, error) {
	sizes := []int{100, 1000}
	if o.large {
		sizes = append(sizes, 10_000)
	}
	craton, err := filepath.Abs(o.craton)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(craton); err != nil {
		return nil, fmt.Errorf("the craton CLI %s: %w (make build)", craton, err)
	}
	base, err := os.MkdirTemp(benchTmp(), "migrate-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(base)
	res := &migrationResult{}
	var rsaKeys []*rsa.PrivateKey
	for range 4 {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		rsaKeys = append(rsaKeys, k)
	}
	for _, n := range sizes {
		label := fmt.Sprintf("Src-%d", n)
		// A token directory per size: SoftHSMv2 loads every token of its
		// directory at C_Initialize, so a shared one would charge the
		// smaller sources' objects to the larger move's memory.
		conf, err := softhsmEnv(filepath.Join(base, fmt.Sprintf("softhsm-%d", n)))
		if err != nil {
			return nil, err
		}
		if err := softhsmInitToken(conf, label); err != nil {
			return nil, err
		}
		if !o.skips("pkcs11tool") {
			if err := softhsmInitToken(conf, fmt.Sprintf("Guide-%d", n)); err != nil {
				return nil, err
			}
		}
		// Build the source in this process (SoftHSMv2 reads SOFTHSM2_CONF
		// at C_Initialize), then release it before craton opens it.
		os.Setenv("SOFTHSM2_CONF", conf)
		m, err := loadModule("SoftHSMv2", o.softhsm)
		if err != nil {
			return nil, err
		}
		slot, err := m.slotByLabel(label)
		if err != nil {
			return nil, err
		}
		t0 := time.Now()
		objects, err := buildSource(m.ctx, slot, n, rsaKeys)
		if err == nil && !o.skips("pkcs11tool") {
			var gslot uint
			if gslot, err = m.slotByLabel(fmt.Sprintf("Guide-%d", n)); err == nil {
				err = addGuideKEK(m.ctx, gslot)
			}
		}
		m.ctx.Finalize()
		m.ctx.Destroy()
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", label, err)
		}
		logf("migrate: source %s: %d keys (%d objects) built in %v", label, n, objects, time.Since(t0).Round(time.Millisecond))

		run, cmdline, err := moveOnce(craton, base, conf, label, n)
		if err != nil {
			return nil, err
		}
		run.Objects = objects
		res.Runs = append(res.Runs, run)
		res.Cmd = cmdline
		logf("migrate: %d keys moved in %v (%.1f keys/s), peak RSS %d MB", n, run.Elapsed.Round(time.Millisecond),
			float64(n)/run.Elapsed.Seconds(), run.MaxRSSKB/1024)

		if !o.skips("pkcs11tool") && n <= 1000 {
			sample := 0 // all secret keys
			if n > 100 {
				sample = 40
			}
			tr, err := guideFlow(conf, label, fmt.Sprintf("Guide-%d", n), n, sample)
			if err != nil {
				return nil, fmt.Errorf("pkcs11-tool flow: %w", err)
			}
			res.Tools = append(res.Tools, tr)
		}
	}
	return res, nil
}

func addGuideKEK(ctx *pkcs11.Ctx, slot uint) error {
	sh, err := ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return err
	}
	defer ctx.CloseSession(sh)
	if err := ctx.Login(sh, pkcs11.CKU_USER, userPIN); err != nil {
		return err
	}
	_, err = ctx.CreateObject(sh, kekTemplate())
	return err
}

// moveOnce runs `craton migrate move` into a fresh embedded engine (audit
// on, persist_objects true) under /usr/bin/time -v.
func moveOnce(craton, base, softConf, label string, n int) (migrationRun, string, error) {
	dir := filepath.Join(base, fmt.Sprintf("engine-%d", n))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return migrationRun{}, "", err
	}
	cfg := filepath.Join(dir, "craton_hsm.yaml")
	if err := engineConfig(cfg, filepath.Join(dir, "store"), filepath.Join(dir, "audit.jsonl"), true, 1); err != nil {
		return migrationRun{}, "", err
	}
	pins := map[string]string{"src.pin": userPIN, "so.pin": soPIN, "user.pin": userPIN}
	for f, p := range pins {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(p+"\n"), 0o600); err != nil {
			return migrationRun{}, "", err
		}
	}
	args := []string{"-v", craton, "migrate", "move", "--from-token", label, "--from-pin-file", "src.pin",
		"--to-config", cfg, "--init-target", "--to-so-pin-file", "so.pin", "--to-pin-file", "user.pin",
		"--output", "json", "--out", "report.json"}
	cmd := exec.Command("/usr/bin/time", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+softConf, "CRATON_HSM_CONFIG="+cfg)
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	el := time.Since(t0)
	if err != nil {
		return migrationRun{}, "", fmt.Errorf("craton migrate move (%d keys): %v\n%s", n, err, tail(string(out), 3000))
	}
	rep, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	line := strings.Join(args[1:], " ")
	return migrationRun{Keys: n, Elapsed: el, MaxRSSKB: maxRSS(string(out)), Moved: summarize(rep)}, "/usr/bin/time -v " + line, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// summarize gives the report's counts (wrapmove.Result's "counts").
func summarize(rep []byte) string {
	var r struct {
		Counts map[string]int `json:"counts"`
	}
	if err := json.Unmarshal(rep, &r); err != nil || r.Counts == nil {
		return "no report"
	}
	var parts []string
	for _, k := range []string{"Moved", "Copied", "Skipped", "Failed", "Unproven", "Regenerate", "Blocked"} {
		if v := r.Counts[k]; v != 0 || k == "Moved" || k == "Failed" {
			parts = append(parts, fmt.Sprintf("%s %d", strings.ToLower(k), v))
		}
	}
	return strings.Join(parts, ", ")
}

// guideFlow runs the migration guide's manual flow (facts Appendix B): one
// pkcs11-tool --wrap process on the source and one --unwrap process on a
// second SoftHSMv2 token per secret key (pkcs11-tool 0.23 wraps secret
// keys only), under the shared KEK f1 with CKM_AES_KEY_WRAP_PAD (0x210A).
// sample > 0 does only that many keys, spread over the token.
func guideFlow(conf, src, dst string, n, sample int) (toolRun, error) {
	var ids []int
	for i := 0; i < n; i++ {
		switch i % 10 {
		case 0, 1, 2, 3, 5, 6, 7:
			ids = append(ids, i)
		}
	}
	tr := toolRun{TokenKeys: n}
	if sample > 0 && sample < len(ids) {
		step := len(ids) / sample
		var s []int
		for i := 0; i < len(ids) && len(s) < sample; i += step {
			s = append(s, ids[i])
		}
		ids, tr.Sampled = s, true
	}
	dir, err := os.MkdirTemp(filepath.Dir(filepath.Dir(conf)), "guide-")
	if err != nil {
		return tr, err
	}
	defer os.RemoveAll(dir)
	env := append(os.Environ(), "SOFTHSM2_CONF="+conf)
	start := time.Now()
	for _, i := range ids {
		hexID := fmt.Sprintf("%06x", i)
		blob := filepath.Join(dir, hexID+".kwp")
		kt := "AES:"
		if i%10 == 2 || i%10 == 6 {
			kt = "GENERIC:"
		}
		t0 := time.Now()
		for _, args := range [][]string{
			{"--token-label", src, "--login", "--pin", userPIN, "--wrap", "-m", "0x210A", "--id", "f1", "--application-id", hexID, "-o", blob},
			{"--token-label", dst, "--login", "--pin", userPIN, "--unwrap", "-m", "0x210A", "--id", "f1", "-i", blob,
				"--key-type", kt, "--application-id", hexID, "--application-label", fmt.Sprintf("mig-%05d", i), "--extractable"},
		} {
			cmd := exec.Command("pkcs11-tool", append([]string{"--module", "/usr/lib/softhsm/libsofthsm2.so"}, args...)...)
			cmd.Env = env
			if out, err := cmd.CombinedOutput(); err != nil {
				return tr, fmt.Errorf("pkcs11-tool %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
		tr.PerKey = append(tr.PerKey, time.Since(t0))
	}
	tr.Total, tr.Tried = time.Since(start), len(ids)
	slices.Sort(tr.PerKey)
	logf("migrate: pkcs11-tool flow on %s: %d keys, median %v per key", src, len(ids), tr.PerKey[len(tr.PerKey)/2].Round(time.Millisecond))
	return tr, nil
}
