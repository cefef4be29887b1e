package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/craton-co/craton/internal/softhsmtest"
	"github.com/craton-co/craton/inventory"
	"github.com/craton-co/craton/wrapmove"
)

// TestCrashMoveKill9Converges kills 'craton migrate move' with SIGKILL at
// random points and re-runs it to completion, CRATON_CRASH_TRIALS times
// (default 50; 'make reliability-long' runs 500). The schedule is seeded:
// CRATON_CRASH_SEED=<logged seed> replays it.
//
// Kill points, chosen per trial:
//   - delay: a random delay in [0, one full run), pure timing;
//   - journal: on the k-th creation of the journal's temporary file (the
//     atomic write is under way: mid-journal write);
//   - store: on the k-th modification of the engine's bbolt file (a
//     transaction is being committed: mid-commit, mid-unwrap);
//   - audit: on the k-th append to the engine's audit log.
//
// After each trial: the re-run exits 0 and proves every object; every
// source object is on the target exactly once with the same fingerprint or
// check value, and nothing else is (no transport key or orphan); the
// source token's files are unchanged; the engine store opens cleanly; the
// journal calls every object proven.
func TestCrashMoveKill9Converges(t *testing.T) {
	trials := int(envInt("CRATON_CRASH_TRIALS", 50))
	seed := envInt("CRATON_CRASH_SEED", time.Now().UnixNano())
	t.Logf("crash trials: %d; seed %d (CRATON_CRASH_SEED=%d replays this schedule)", trials, seed, seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed))

	bin := cratonBinary(t)
	fx := softhsmtest.New(t)
	tok := fx.EmptyToken("crash-src")
	softhsmtest.PopulateBulk(tok, int(envInt("CRATON_CRASH_OBJECTS", 16)))
	work := t.TempDir()
	writePINs(t, work, map[string]string{"src.pin": softhsmtest.UserPIN, "so.pin": "sopin123", "user.pin": "userpin1"})
	p := func(n string) string { return filepath.Join(work, n) }

	srcInv, err := inventory.Take(tok.Module(), tok.P11(), inventory.Options{PIN: softhsmtest.UserPIN})
	if err != nil {
		t.Fatal(err)
	}
	srcHash := softhsmTokenHash(t, fx.Dir(), tok.Label)

	// The target: an engine whose token is initialised with the source
	// label, copied afresh for every trial.
	tmpl := p("template")
	if err := os.MkdirAll(tmpl, 0o700); err != nil {
		t.Fatal(err)
	}
	tmplCfg := engineConfig(t, tmpl, "")
	mustRun(t, "token", "init", "--config", tmplCfg, "--label", tok.Label, "--so-pin-file", p("so.pin"))
	mustRun(t, "token", "init-pin", "--config", tmplCfg, "--token", tok.Label, "--so-pin-file", p("so.pin"), "--pin-file", p("user.pin"))

	moveCmd := func(dir string) *exec.Cmd {
		c := exec.Command(bin, "migrate", "move", "--from-token", tok.Label, "--from-pin-file", p("src.pin"),
			"--to-config", filepath.Join(dir, "craton_hsm.yaml"), "--to-pin-file", p("user.pin"), "-o", "json")
		c.Env = append(envWithout("CRATON_HSM_CONFIG", "SOFTHSM2_CONF"), "SOFTHSM2_CONF="+fx.ConfPath())
		return c
	}
	check := func(trial string, dir string, out []byte) {
		t.Helper()
		var res struct {
			Rows   []wrapmove.Row  `json:"rows"`
			Counts wrapmove.Counts `json:"counts"`
		}
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("%s: final move output is not JSON: %v\n%s", trial, err, out)
		}
		if res.Counts.Failed != 0 || res.Counts.Unproven != 0 || len(res.Rows) != len(srcInv.Records) {
			t.Errorf("%s: counts %+v over %d rows, want %d objects all done", trial, res.Counts, len(res.Rows), len(srcInv.Records))
		}
		for _, r := range res.Rows {
			switch r.Status {
			case wrapmove.StatusMoved, wrapmove.StatusCopied, wrapmove.StatusSkipped:
			default:
				t.Errorf("%s: %s %s: status %s (%s)", trial, r.Class, r.Label, r.Status, r.Detail)
			}
			if r.Proof == "" || strings.HasPrefix(r.Proof, "unproven") {
				t.Errorf("%s: %s %s not proven: %q", trial, r.Class, r.Label, r.Proof)
			}
		}
		dst := engineInventory(t, filepath.Join(dir, "craton_hsm.yaml"), tok.Label, "userpin1")
		got := map[string][]inventory.Record{}
		for _, r := range dst.Records {
			got[baseIdentity(r)] = append(got[baseIdentity(r)], r)
		}
		for _, s := range srcInv.Records {
			rs := got[baseIdentity(s)]
			if len(rs) != 1 {
				t.Errorf("%s: %s is %d times on the target, want exactly once", trial, baseIdentity(s), len(rs))
				continue
			}
			if rs[0].Fingerprint != s.Fingerprint || (s.CheckValue != "" && rs[0].CheckValue != "" && rs[0].CheckValue != s.CheckValue) {
				t.Errorf("%s: %s differs: fingerprint %s/%s check value %s/%s", trial, baseIdentity(s),
					s.Fingerprint, rs[0].Fingerprint, s.CheckValue, rs[0].CheckValue)
			}
		}
		if len(dst.Records) != len(srcInv.Records) {
			t.Errorf("%s: the target holds %d objects, the source %d (stray transport key or orphan?)", trial, len(dst.Records), len(srcInv.Records))
		}
		if h := softhsmTokenHash(t, fx.Dir(), tok.Label); h != srcHash {
			t.Errorf("%s: the source token's files changed", trial)
		}
		js, _ := filepath.Glob(filepath.Join(dir, "store", "*.journal.json"))
		js2, _ := filepath.Glob(filepath.Join(dir, "*.journal.json"))
		js = append(js, js2...)
		if len(js) != 1 {
			t.Fatalf("%s: journals %v, want one", trial, js)
		}
		j, err := wrapmove.LoadJournal(js[0])
		if err != nil || j == nil {
			t.Fatalf("%s: journal: %v", trial, err)
		}
		for id, e := range j.Objects {
			if e.State != wrapmove.StateProven {
				t.Errorf("%s: journal %s: %s (%s)", trial, id, e.State, e.Reason)
			}
		}
		// The audit log survives a kill mid-append: its chain still verifies.
		if code, out, errOut := run(t, "audit", "verify", "--config", filepath.Join(dir, "craton_hsm.yaml")); code != 0 {
			t.Errorf("%s: audit verify: exit %d\n%s%s", trial, code, out, errOut)
		}
	}

	// A full run first: its duration bounds the random delays.
	base := p("baseline")
	copyTree(t, tmpl, base)
	start := time.Now()
	out, err := moveCmd(base).Output()
	full := time.Since(start)
	if err != nil {
		t.Fatalf("baseline move: %v\n%s", err, out)
	}
	check("baseline", base, out)
	t.Logf("a full move of %d objects takes %v", len(srcInv.Records), full)
	// Event counts of a full run, to place the targeted kills.
	counts := countEvents(t, moveCmd, tmpl, p("count"))
	t.Logf("events in a full run: %v", counts)
	if counts["store"] == 0 || counts["journal"] == 0 {
		t.Fatalf("inotify saw no store or journal writes: %v", counts)
	}

	kinds := []string{"delay", "delay", "journal", "store", "audit"}
	killed := 0
	for i := range trials {
		if t.Failed() {
			break
		}
		dir := p(fmt.Sprintf("trial-%03d", i))
		copyTree(t, tmpl, dir)
		kind := kinds[rng.IntN(len(kinds))]
		var at string
		c := moveCmd(dir)
		var stderr bytes.Buffer
		c.Stderr = &stderr
		switch kind {
		case "delay":
			// The last tenth of a run is mostly proof and output: a kill
			// there often lands after exit on a loaded machine.
			d := time.Duration(rng.Int64N(int64(full) * 9 / 10))
			at = d.String()
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(d)
			_ = c.Process.Kill()
		default:
			k := 1 + rng.IntN(max(counts[kind], 1))
			at = fmt.Sprintf("event %d of %d", k, counts[kind])
			w := watch(t, dir)
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			w.killAt(kind, k, c.Process)
			w.close()
		}
		err := c.Wait()
		wasKilled := false
		if ee, ok := err.(*exec.ExitError); ok {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
				wasKilled = true
				killed++
			}
		}
		if err != nil && !wasKilled {
			t.Fatalf("trial %d: the first run failed without being killed: %v\n%s", i, err, stderr.String())
		}
		out, err := moveCmd(dir).Output()
		if err != nil {
			t.Fatalf("trial %d (%s at %s): the re-run failed: %v\n%s", i, kind, at, err, errText(err))
		}
		trial := fmt.Sprintf("trial %d (%s at %s, killed %v)", i, kind, at, wasKilled)
		check(trial, dir, out)
		t.Logf("%s: converged", trial)
		if !t.Failed() {
			os.RemoveAll(dir)
		}
	}
	t.Logf("%d of %d trials killed the move mid-way; all converged: %v", killed, trials, !t.Failed())
	// Timing decides whether a late kill lands before exit (CI runs this
	// beside the whole race-enabled suite), so the floor is half: enough
	// to show the trials exercise crashes, not a measure of the schedule.
	if killed < (trials+1)/2 {
		t.Errorf("only %d of %d trials killed the process before it finished", killed, trials)
	}
}

func errText(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// envWithout is the environment without the named variables.
func envWithout(names ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		keep := true
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}

// countEvents runs one full move on a copy of tmpl and counts the file
// events each targeted kind reacts to.
func countEvents(t *testing.T, moveCmd func(string) *exec.Cmd, tmpl, dir string) map[string]int {
	copyTree(t, tmpl, dir)
	w := watch(t, dir)
	c := moveCmd(dir)
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("counting run: %v\n%s", err, out)
	}
	time.Sleep(50 * time.Millisecond)
	w.close()
	return w.snapshot()
}

// watcher follows an engine directory with inotify: the journal's
// temporary files (created in the store directory or beside the config),
// the bbolt file and the audit log.
type watcher struct {
	f      *os.File
	wds    map[int32]string
	mu     sync.Mutex
	counts map[string]int
	target struct {
		kind string
		n    int
		proc *os.Process
		done chan struct{}
	}
	stopped chan struct{}
}

func watch(t *testing.T, dir string) *watcher {
	t.Helper()
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		t.Fatalf("inotify: %v", err)
	}
	w := &watcher{f: os.NewFile(uintptr(fd), "inotify"), wds: map[int32]string{}, counts: map[string]int{}, stopped: make(chan struct{})}
	for _, d := range []string{dir, filepath.Join(dir, "store")} {
		wd, err := syscall.InotifyAddWatch(fd, d, syscall.IN_CREATE|syscall.IN_MODIFY)
		if err != nil {
			t.Fatalf("inotify watch %s: %v", d, err)
		}
		w.wds[int32(wd)] = d
	}
	go w.loop()
	return w
}

func (w *watcher) loop() {
	defer close(w.stopped)
	buf := make([]byte, 64*1024)
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			return
		}
		for off := 0; off+syscall.SizeofInotifyEvent <= n; {
			ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := ""
			if ev.Len > 0 {
				name = strings.TrimRight(string(buf[off+syscall.SizeofInotifyEvent:off+syscall.SizeofInotifyEvent+int(ev.Len)]), "\x00")
			}
			off += syscall.SizeofInotifyEvent + int(ev.Len)
			kind := ""
			switch {
			case ev.Mask&syscall.IN_CREATE != 0 && strings.Contains(name, ".journal.json.tmp-"):
				kind = "journal"
			case ev.Mask&syscall.IN_MODIFY != 0 && name == "craton-hsm.db":
				kind = "store"
			case ev.Mask&syscall.IN_MODIFY != 0 && name == "audit.jsonl":
				kind = "audit"
			}
			if kind == "" {
				continue
			}
			w.mu.Lock()
			w.counts[kind]++
			if w.target.proc != nil && w.target.kind == kind && w.counts[kind] == w.target.n {
				_ = w.target.proc.Kill()
				close(w.target.done)
				w.target.proc = nil
			}
			w.mu.Unlock()
		}
	}
}

// killAt kills proc at the n-th event of kind, or returns when proc exits
// first (the caller's Wait tells which).
func (w *watcher) killAt(kind string, n int, proc *os.Process) {
	done := make(chan struct{})
	w.mu.Lock()
	w.target.kind, w.target.n, w.target.proc, w.target.done = kind, n, proc, done
	w.mu.Unlock()
	exited := make(chan struct{})
	go func() {
		// Poll for exit without reaping: signal 0 fails once it is a zombie? No:
		// a zombie still accepts signal 0, so poll /proc state instead.
		for {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", proc.Pid))
			if err != nil || bytes.Contains(b, []byte(") Z ")) {
				close(exited)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	select {
	case <-done:
	case <-exited:
		w.mu.Lock()
		w.target.proc = nil
		w.mu.Unlock()
	}
}

func (w *watcher) close() {
	w.f.Close()
	<-w.stopped
}

func (w *watcher) snapshot() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]int{}
	for k, v := range w.counts {
		out[k] = v
	}
	return out
}
