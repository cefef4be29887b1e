// Command bench measures the Craton HSM engine (libcraton_hsm.so) against
// SoftHSMv2 through the same PKCS#11 C ABI in one process, the engine's
// overhead above the bare Go primitives, migration throughput
// (craton migrate move), and the repository's Go benchmarks, and writes
// docs/benchmarks.md and docs/benchmarks.svg. Run it with `make bench`.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

type options struct {
	lib, craton, softhsm, out string
	rounds, findN             int
	budget                    time.Duration
	large                     bool
	skip                      string
	child                     string // "table": measure and write JSON (used for the OpenSSL build)
	rowsFlag                  string
	jsonOut                   string
	variant                   string
	profile                   string // row id: loop it on the engine (audit off) for profSecs, for perf/pprof
	profSecs                  time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.lib, "lib", "./libcraton_hsm.so", "the engine library (make lib)")
	flag.StringVar(&o.craton, "craton", "./craton", "the craton CLI (make build), for the migration runs")
	flag.StringVar(&o.softhsm, "softhsm", "/usr/lib/softhsm/libsofthsm2.so", "SoftHSMv2 library")
	flag.StringVar(&o.out, "out", "docs/benchmarks.md", "Markdown report (the SVG chart is written beside it)")
	flag.IntVar(&o.rounds, "rounds", 8, "alternating rounds")
	flag.DurationVar(&o.budget, "budget", 40*time.Millisecond, "time per row, module and round (x3 for the 8-thread rows)")
	flag.IntVar(&o.findN, "find", 10_000, "objects on the find token")
	flag.BoolVar(&o.large, "large", false, "also migrate 10,000 keys")
	flag.StringVar(&o.skip, "skip", "", "comma-separated parts to skip: table, openssl, migrate, pkcs11tool, gobench")
	flag.StringVar(&o.child, "child", "", "internal")
	flag.StringVar(&o.rowsFlag, "rows", "", "comma-separated row ids (default: all)")
	flag.StringVar(&o.jsonOut, "json", "", "internal: results file of a child run")
	flag.StringVar(&o.variant, "variant", "craton", "internal: engine variant name of a child run")
	flag.StringVar(&o.profile, "profile", "", "loop one row on the engine (audit off) for -profile-time, e.g. under perf record -g")
	flag.DurationVar(&o.profSecs, "profile-time", 10*time.Second, "duration of -profile")
	flag.Parse()
	findN = o.findN
	rowByID("find").name = fmt.Sprintf("C_FindObjects, 1 match among %s objects", thousands(o.findN))
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "[bench %s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
}

func (o options) skips(part string) bool {
	for _, s := range strings.Split(o.skip, ",") {
		if strings.TrimSpace(s) == part {
			return true
		}
	}
	return false
}

func selectRows(spec string) []*row {
	var out []*row
	for i := range rows {
		if spec == "" || strings.Contains(","+spec+",", ","+rows[i].id+",") {
			out = append(out, &rows[i])
		}
	}
	return out
}

// tableResult is what a table run hands to the report (and what a child
// writes as JSON).
type tableResult struct {
	Res   map[string]map[string]*stats
	Setup map[string]time.Duration
	Cfgs  []string
}

func measureTable(o options, variant string) (*tableResult, error) {
	dir, err := os.MkdirTemp(benchTmp(), "table-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	lib, err := filepath.Abs(o.lib)
	if err != nil {
		return nil, err
	}
	t := &tableRun{dir: dir, engLib: lib, softLib: o.softhsm, rows: selectRows(o.rowsFlag), rounds: o.rounds,
		budget: o.budget, findN: o.findN, log: logf,
		cfgs: []engineCfg{{variant: variant, audit: true}, {variant: variant + "-noaudit", audit: false}}}
	defer t.close()
	logf("table: setting up SoftHSMv2 and %s in %s", lib, dir)
	if err := t.setupModules(); err != nil {
		return nil, err
	}
	if o.profile != "" {
		return nil, t.profileRow(o.profile, o.profSecs)
	}
	logf("table: %d rows, %d rounds", len(t.rows), t.rounds)
	if err := t.run(); err != nil {
		return nil, err
	}
	return &tableResult{Res: t.res, Setup: t.setup, Cfgs: []string{variant, variant + "-noaudit"}}, nil
}

// benchTmp is where stores and tokens go: a directory on the same file
// system as the repository (not a tmpfs), so that fsync costs what it
// costs on an operator's disk.
func benchTmp() string {
	if d := os.Getenv("BENCH_TMPDIR"); d != "" {
		return d
	}
	return os.TempDir()
}

func run(o options) error {
	if o.profile != "" {
		o.rowsFlag = o.profile
		_, err := measureTable(o, "craton")
		return err
	}
	if o.child == "table" {
		res, err := measureTable(o, o.variant)
		if err != nil {
			return err
		}
		b, err := json.Marshal(res)
		if err != nil {
			return err
		}
		return os.WriteFile(o.jsonOut, b, 0o600)
	}
	start := time.Now()
	rep := &report{opts: o, machine: machineInfo(o)}
	if !o.skips("table") {
		res, err := measureTable(o, "craton")
		if err != nil {
			return fmt.Errorf("table: %w", err)
		}
		rep.table = res
	}
	if !o.skips("openssl") {
		res, note := opensslTable(o)
		rep.openssl, rep.opensslNote = res, note
	}
	if !o.skips("migrate") {
		m, err := migrationBench(o)
		if err != nil {
			return fmt.Errorf("migration: %w", err)
		}
		rep.migration = m
	}
	if !o.skips("gobench") {
		g, err := goBenchmarks()
		if err != nil {
			return fmt.Errorf("go benchmarks: %w", err)
		}
		rep.gobench = g
	}
	rep.elapsed = time.Since(start)
	if err := rep.write(o.out); err != nil {
		return err
	}
	logf("wrote %s in %v", o.out, rep.elapsed.Round(time.Second))
	return nil
}

// opensslTable builds the engine with the OpenSSL RSA backend (build tag
// openssl) and measures the RSA private-key rows with it in a child
// process (one engine library per process; the child loads SoftHSMv2 the
// same way and alternates with it, like the main table).
func opensslTable(o options) (*tableResult, string) {
	dir, err := os.MkdirTemp(benchTmp(), "openssl-")
	if err != nil {
		return nil, err.Error()
	}
	defer os.RemoveAll(dir)
	lib := filepath.Join(dir, "libcraton_hsm-openssl.so")
	logf("openssl: go build -tags openssl -buildmode=c-shared ./capi")
	cmd := exec.Command("go", "build", "-tags", "openssl", "-buildmode=c-shared", "-o", lib, "./capi")
	if out, err := cmd.CombinedOutput(); err != nil {
		note := fmt.Sprintf("the OpenSSL build failed (is libssl-dev installed?): %v\n%s", err, out)
		logf("openssl: %s", note)
		return nil, note
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err.Error()
	}
	js := filepath.Join(dir, "res.json")
	ids := []string{}
	for _, r := range rows {
		if r.rsaPriv {
			ids = append(ids, r.id)
		}
	}
	cmd = exec.Command(self, "-child", "table", "-lib", lib, "-softhsm", o.softhsm, "-rounds", fmt.Sprint(o.rounds),
		"-budget", o.budget.String(), "-rows", strings.Join(ids, ","), "-json", js, "-variant", "openssl")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Sprintf("the OpenSSL child run failed: %v", err)
	}
	b, err := os.ReadFile(js)
	if err != nil {
		return nil, err.Error()
	}
	var res tableResult
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, err.Error()
	}
	return &res, ""
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
