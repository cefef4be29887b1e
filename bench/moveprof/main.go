// Command moveprof profiles `craton migrate move` of N keys from a SoftHSMv2
// token into a fresh embedded engine, the workload of the bench harness's
// migration rows (same key mix, same engine configuration). It is a bench
// tool, not part of the product.
//
//	go run ./bench/moveprof -n 10000 -mode inproc -prof /tmp/prof   # CPU, heap (at peak), allocs
//	go run ./bench/moveprof -n 10000 -mode cli -craton ./craton     # /usr/bin/time -v, like the harness
//	go run ./bench/moveprof -n 10000 -mode softhsm                  # RSS of SoftHSMv2 alone
//
// The source token is built once per N under -dir and reused: a move never
// modifies its source.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"flag"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/craton-co/craton/cmd"
	"github.com/craton-co/craton/internal/iostreams"
	"github.com/miekg/pkcs11"
)

const (
	soPIN   = "so-Pin1234"
	userPIN = "user-Pin12"
	softLib = "/usr/lib/softhsm/libsofthsm2.so"
)

var wrap string

var oidP256 = []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}

func main() {
	n := flag.Int("n", 10000, "keys on the source token")
	dir := flag.String("dir", filepath.Join(os.TempDir(), "moveprof"), "cache of source tokens and scratch engines")
	mode := flag.String("mode", "inproc", "inproc | cli | softhsm | build")
	prof := flag.String("prof", "", "inproc: directory for cpu.pprof, heap.pprof (at the heap peak), allocs.pprof")
	craton := flag.String("craton", "./craton", "cli: the craton CLI")
	flag.StringVar(&wrap, "wrap", "", "cli: command prefix run under /usr/bin/time before craton, e.g. \"strace -f -c -w -o /tmp/st\"")
	flag.Parse()
	if err := run(*n, *dir, *mode, *prof, *craton); err != nil {
		fmt.Fprintln(os.Stderr, "moveprof:", err)
		os.Exit(1)
	}
}

func run(n int, dir, mode, prof, craton string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	conf, label, err := source(dir, n)
	if err != nil {
		return err
	}
	fmt.Printf("load average: %s", loadavg())
	switch mode {
	case "build":
		return nil
	case "softhsm":
		return softhsmOnly(conf, label)
	}
	eng := filepath.Join(dir, fmt.Sprintf("engine-%d", n))
	os.RemoveAll(eng)
	if err := os.MkdirAll(eng, 0o700); err != nil {
		return err
	}
	defer os.RemoveAll(eng)
	cfg := filepath.Join(eng, "craton_hsm.yaml")
	body := fmt.Sprintf("token:\n  label: \"bench\"\n  storage_path: %q\n  persist_objects: true\n  slot_count: 1\n  max_sessions: 1000\n  max_rw_sessions: 1000\nsecurity:\n  pbkdf2_iterations: 100000\naudit:\n  enabled: true\n  log_path: %q\n",
		filepath.Join(eng, "store"), filepath.Join(eng, "audit.jsonl"))
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		return err
	}
	for f, p := range map[string]string{"src.pin": userPIN, "so.pin": soPIN, "user.pin": userPIN} {
		if err := os.WriteFile(filepath.Join(eng, f), []byte(p+"\n"), 0o600); err != nil {
			return err
		}
	}
	args := []string{"migrate", "move", "--from-token", label, "--from-pin-file", "src.pin",
		"--to-config", cfg, "--init-target", "--to-so-pin-file", "so.pin", "--to-pin-file", "user.pin",
		"--output", "json", "--out", "report.json"}
	os.Setenv("SOFTHSM2_CONF", conf)
	os.Setenv("CRATON_HSM_CONFIG", cfg)
	defer func() { report(eng) }()
	switch mode {
	case "cli":
		return cli(craton, eng, args)
	case "inproc":
		return inproc(eng, args, prof)
	}
	return fmt.Errorf("unknown mode %q", mode)
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return string(b)
}

// report prints the sizes of the engine's files and the report's counts.
func report(eng string) {
	filepath.Walk(eng, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && fi.Size() > 1<<20 {
			fmt.Printf("file %s: %.1f MB\n", strings.TrimPrefix(p, eng+"/"), float64(fi.Size())/(1<<20))
		}
		return nil
	})
	if b, err := os.ReadFile(filepath.Join(eng, "report.json")); err == nil {
		if i := strings.Index(string(b), `"counts"`); i >= 0 {
			s := string(b[i:])
			if j := strings.Index(s, "}"); j >= 0 {
				fmt.Println("report:", s[:j+1])
			}
		}
	}
}

func cli(craton, eng string, args []string) error {
	abs, err := filepath.Abs(craton)
	if err != nil {
		return err
	}
	argv := append([]string{"-v"}, strings.Fields(wrap)...)
	c := exec.Command("/usr/bin/time", append(append(argv, abs), args...)...)
	c.Dir = eng
	t0 := time.Now()
	out, err := c.CombinedOutput()
	el := time.Since(t0)
	if err != nil {
		return fmt.Errorf("%v\n%s", err, out)
	}
	var rss, user, sys string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(l, "Maximum resident set size (kbytes): "); ok {
			rss = v
		}
		if v, ok := strings.CutPrefix(l, "User time (seconds): "); ok {
			user = v
		}
		if v, ok := strings.CutPrefix(l, "System time (seconds): "); ok {
			sys = v
		}
	}
	kb, _ := strconv.Atoi(rss)
	fmt.Printf("cli: %v (user %ss, sys %ss), peak RSS %d MB\n", el.Round(time.Millisecond), user, sys, kb/1024)
	return nil
}

// inproc runs the move in this process with CPU and heap profiles, and
// samples the heap and RSS every 50 ms.
func inproc(eng string, args []string, prof string) error {
	wd, _ := os.Getwd()
	if err := os.Chdir(eng); err != nil {
		return err
	}
	defer os.Chdir(wd)
	if prof != "" {
		if err := os.MkdirAll(prof, 0o700); err != nil {
			return err
		}
		f, err := os.Create(filepath.Join(prof, "cpu.pprof"))
		if err != nil {
			return err
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var peak sampler
	wg.Add(1)
	go func() { defer wg.Done(); peak.run(ctx, prof) }()
	io, _, _, stderr := iostreams.Test()
	t0 := time.Now()
	code := cmd.Execute(io, args)
	el := time.Since(t0)
	stop()
	wg.Wait()
	if code != 0 {
		return fmt.Errorf("move exit %d: %s", code, stderr.String())
	}
	if prof != "" {
		runtime.GC()
		f, err := os.Create(filepath.Join(prof, "allocs.pprof"))
		if err == nil {
			pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}
	fmt.Printf("inproc: %v; peak heap objects %.1f MB, peak Go total %.1f MB; peak RSS %d MB (anon %d, file %d, VmHWM %d)\n",
		el.Round(time.Millisecond), peak.heap/(1<<20), peak.total/(1<<20), peak.rss/1024, peak.anon/1024, peak.file/1024, hwm()/1024)
	return nil
}

type sampler struct {
	heap, total          float64
	rss, anon, file      int64
	lastProf, lastProfAt float64
}

func (s *sampler) run(ctx context.Context, prof string) {
	ms := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"}}
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	t0 := time.Now()
	for i := 1; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		metrics.Read(ms)
		h, tot := float64(ms[0].Value.Uint64()), float64(ms[1].Value.Uint64())
		s.heap, s.total = max(s.heap, h), max(s.total, tot)
		rss, anon, file := status()
		if i%100 == 0 {
			fmt.Printf("  t=%3.0fs heap objects %5.1f MB, Go total %5.1f MB, RSS %d MB\n", time.Since(t0).Seconds(), h/(1<<20), tot/(1<<20), rss/1024)
		}
		if rss > s.rss {
			s.rss, s.anon, s.file = rss, anon, file
		}
		if prof != "" && h > s.lastProf*1.05 {
			s.lastProf = h
			if f, err := os.Create(filepath.Join(prof, "heap.pprof")); err == nil {
				pprof.Lookup("heap").WriteTo(f, 0)
				f.Close()
			}
			// What the move was doing when the heap peaked.
			if f, err := os.Create(filepath.Join(prof, "peak-goroutines.txt")); err == nil {
				fmt.Fprintf(f, "t=%.1fs heap objects %.1f MB\n", time.Since(t0).Seconds(), h/(1<<20))
				pprof.Lookup("goroutine").WriteTo(f, 2)
				f.Close()
			}
		}
	}
}

func status() (rss, anon, file int64) {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = v
		case "RssAnon:":
			anon = v
		case "RssFile:", "RssShmem:":
			file += v
		}
	}
	return
}

func hwm() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// softhsmOnly opens the source token and logs in (then lists and reads
// every object's class), reporting RSS: SoftHSMv2's own share.
func softhsmOnly(conf, label string) error {
	os.Setenv("SOFTHSM2_CONF", conf)
	r0, _, _ := status()
	ctx := pkcs11.New(softLib)
	if err := ctx.Initialize(); err != nil {
		return err
	}
	defer ctx.Destroy()
	defer ctx.Finalize()
	ri, _, _ := status()
	slot, err := slotByLabel(ctx, label)
	if err != nil {
		return err
	}
	sh, err := ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		return err
	}
	if err := ctx.Login(sh, pkcs11.CKU_USER, userPIN); err != nil {
		return err
	}
	r1, _, _ := status()
	if err := ctx.FindObjectsInit(sh, nil); err != nil {
		return err
	}
	var hs []pkcs11.ObjectHandle
	for {
		b, _, err := ctx.FindObjects(sh, 1000)
		if err != nil {
			return err
		}
		if len(b) == 0 {
			break
		}
		hs = append(hs, b...)
	}
	ctx.FindObjectsFinal(sh)
	for _, h := range hs {
		ctx.GetAttributeValue(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, nil), pkcs11.NewAttribute(pkcs11.CKA_LABEL, nil)})
	}
	r2, _, _ := status()
	fmt.Printf("softhsm: RSS before %d MB, after C_Initialize %d MB, after open+login %d MB, after listing %d objects %d MB; VmHWM %d MB\n",
		r0/1024, ri/1024, r1/1024, len(hs), r2/1024, hwm()/1024)
	return nil
}

func slotByLabel(ctx *pkcs11.Ctx, label string) (uint, error) {
	slots, err := ctx.GetSlotList(true)
	if err != nil {
		return 0, err
	}
	for _, s := range slots {
		ti, err := ctx.GetTokenInfo(s)
		if err == nil && strings.TrimRight(ti.Label, " ") == label {
			return s, nil
		}
	}
	return 0, fmt.Errorf("no token %q", label)
}

// source returns the SoftHSMv2 configuration and token label of the
// N-key source, building it when it is not cached.
func source(dir string, n int) (string, string, error) {
	sd := filepath.Join(dir, fmt.Sprintf("src-%d", n))
	conf := filepath.Join(sd, "softhsm2.conf")
	label := fmt.Sprintf("Src-%d", n)
	if _, err := os.Stat(filepath.Join(sd, "done")); err == nil {
		return conf, label, nil
	}
	os.RemoveAll(sd)
	tokens := filepath.Join(sd, "tokens")
	if err := os.MkdirAll(tokens, 0o700); err != nil {
		return "", "", err
	}
	body := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", tokens)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		return "", "", err
	}
	c := exec.Command("softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", soPIN, "--pin", userPIN)
	c.Env = append(os.Environ(), "SOFTHSM2_CONF="+conf)
	if out, err := c.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("init token: %v\n%s", err, out)
	}
	os.Setenv("SOFTHSM2_CONF", conf)
	t0 := time.Now()
	if err := build(label, n); err != nil {
		return "", "", err
	}
	fmt.Printf("built %s in %v\n", label, time.Since(t0).Round(time.Millisecond))
	return conf, label, os.WriteFile(filepath.Join(sd, "done"), nil, 0o600)
}

// build fills the token with the harness's mix per 10 keys: 5 AES-256,
// 2 generic 32-byte secrets, 2 EC P-256 pairs, 1 imported RSA-2048 pair.
func build(label string, n int) error {
	var rsaKeys []*rsa.PrivateKey
	for range 4 {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return err
		}
		rsaKeys = append(rsaKeys, k)
	}
	ctx := pkcs11.New(softLib)
	if err := ctx.Initialize(); err != nil {
		return err
	}
	defer ctx.Destroy()
	defer ctx.Finalize()
	slot, err := slotByLabel(ctx, label)
	if err != nil {
		return err
	}
	sh, err := ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return err
	}
	if err := ctx.Login(sh, pkcs11.CKU_USER, userPIN); err != nil {
		return err
	}
	attr := pkcs11.NewAttribute
	// The harness's guide KEK (non-extractable: planned as regenerate).
	if _, err := ctx.CreateObject(sh, []*pkcs11.Attribute{attr(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY), attr(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		attr(pkcs11.CKA_TOKEN, true), attr(pkcs11.CKA_LABEL, "guide-kek"), attr(pkcs11.CKA_ID, []byte{0xf1}),
		attr(pkcs11.CKA_VALUE, []byte("bench-transport-kek-32-bytes!!!!")), attr(pkcs11.CKA_WRAP, true), attr(pkcs11.CKA_UNWRAP, true),
		attr(pkcs11.CKA_PRIVATE, true), attr(pkcs11.CKA_SENSITIVE, true), attr(pkcs11.CKA_EXTRACTABLE, false)}); err != nil {
		return err
	}
	mech := func(m uint) []*pkcs11.Mechanism { return []*pkcs11.Mechanism{pkcs11.NewMechanism(m, nil)} }
	for i := 0; i < n; i++ {
		id := []byte{byte(i >> 16), byte(i >> 8), byte(i)}
		lbl := fmt.Sprintf("mig-%05d", i)
		common := func(t ...*pkcs11.Attribute) []*pkcs11.Attribute {
			return append(t, attr(pkcs11.CKA_TOKEN, true), attr(pkcs11.CKA_LABEL, lbl), attr(pkcs11.CKA_ID, id))
		}
		priv := func(t ...*pkcs11.Attribute) []*pkcs11.Attribute {
			return common(append(t, attr(pkcs11.CKA_PRIVATE, true), attr(pkcs11.CKA_SENSITIVE, true), attr(pkcs11.CKA_EXTRACTABLE, true))...)
		}
		switch i % 10 {
		case 0, 1, 3, 5, 7:
			_, err = ctx.GenerateKey(sh, mech(pkcs11.CKM_AES_KEY_GEN), priv(attr(pkcs11.CKA_VALUE_LEN, 32),
				attr(pkcs11.CKA_ENCRYPT, true), attr(pkcs11.CKA_DECRYPT, true)))
		case 2, 6:
			_, err = ctx.GenerateKey(sh, mech(pkcs11.CKM_GENERIC_SECRET_KEY_GEN), priv(attr(pkcs11.CKA_VALUE_LEN, 32),
				attr(pkcs11.CKA_SIGN, true), attr(pkcs11.CKA_VERIFY, true)))
		case 4, 8:
			_, _, err = ctx.GenerateKeyPair(sh, mech(pkcs11.CKM_EC_KEY_PAIR_GEN),
				common(attr(pkcs11.CKA_EC_PARAMS, oidP256), attr(pkcs11.CKA_VERIFY, true)), priv(attr(pkcs11.CKA_SIGN, true)))
		case 9:
			k := rsaKeys[(i/10)%len(rsaKeys)]
			be := func(b *big.Int) []byte { return b.Bytes() }
			e := be(big.NewInt(int64(k.E)))
			_, err = ctx.CreateObject(sh, common(attr(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY), attr(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA),
				attr(pkcs11.CKA_MODULUS, be(k.N)), attr(pkcs11.CKA_PUBLIC_EXPONENT, e), attr(pkcs11.CKA_VERIFY, true)))
			if err == nil {
				_, err = ctx.CreateObject(sh, priv(attr(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY), attr(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA),
					attr(pkcs11.CKA_MODULUS, be(k.N)), attr(pkcs11.CKA_PUBLIC_EXPONENT, e),
					attr(pkcs11.CKA_PRIVATE_EXPONENT, be(k.D)), attr(pkcs11.CKA_PRIME_1, be(k.Primes[0])), attr(pkcs11.CKA_PRIME_2, be(k.Primes[1])),
					attr(pkcs11.CKA_EXPONENT_1, be(k.Precomputed.Dp)), attr(pkcs11.CKA_EXPONENT_2, be(k.Precomputed.Dq)),
					attr(pkcs11.CKA_COEFFICIENT, be(k.Precomputed.Qinv)), attr(pkcs11.CKA_SIGN, true)))
			}
		}
		if err != nil {
			return fmt.Errorf("key %d: %w", i, err)
		}
	}
	return nil
}
