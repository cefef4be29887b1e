package cmd

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestSecurityPINNotInCmdline runs the craton binary on `token objects`
// with the user PIN from a file (a FIFO, so the process is caught both
// before and after it has the PIN) and from an environment variable, and
// reads /proc/<pid>/cmdline in a tight loop for as long as the process
// lives: the PIN never appears in it. PBKDF2 at 1,000,000 iterations makes
// the login take long enough to be sampled many times. /proc/<pid>/environ
// holds the PIN with --pin-env: that is the operator's choice of source,
// and the environment is readable only by the same user (and root); it is
// logged, not asserted.
func TestSecurityPINNotInCmdline(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "craton_hsm.yaml")
	yaml := "token:\n  storage_path: ./store\n  persist_objects: true\nsecurity:\n  pbkdf2_iterations: 1000000\naudit:\n  log_path: ./audit.jsonl\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CRATON_HSM_CONFIG", cfg)
	const soPIN, userPIN = "so-Argv-7781-pin", "user-Argv-4412-pin"
	writePINs(t, dir, map[string]string{"so.pin": soPIN, "user.pin": userPIN})
	p := func(n string) string { return filepath.Join(dir, n) }
	mustRun(t, "token", "init", "--label", "Argv", "--so-pin-file", p("so.pin"))
	mustRun(t, "token", "init-pin", "--token", "Argv", "--so-pin-file", p("so.pin"), "--pin-file", p("user.pin"))
	bin := cratonBinary(t)

	for _, mode := range []string{"pin-file", "pin-env"} {
		t.Run(mode, func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "user.fifo")
			args := []string{"token", "objects", "--token", "Argv", "-o", "csv"}
			c := exec.Command(bin)
			c.Env = os.Environ()
			if mode == "pin-file" {
				if err := syscall.Mkfifo(fifo, 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--pin-file", fifo)
			} else {
				args = append(args, "--pin-env", "CRATON_ARGV_TEST_PIN")
				c.Env = append(c.Env, "CRATON_ARGV_TEST_PIN="+userPIN)
			}
			c.Args = append([]string{bin}, args...)
			var out, errOut bytes.Buffer
			c.Stdout, c.Stderr = &out, &errOut
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			pid := c.Process.Pid
			exited := make(chan struct{})
			var (
				mu                 sync.Mutex
				samples, afterPIN  int
				pinGiven, leaked   bool
				environHeldThePIN  bool
				cmdlineWithoutArgs bool
			)
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-exited:
						return
					default:
					}
					b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
					if err != nil || len(b) == 0 {
						continue // exiting, or a zombie
					}
					env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
					mu.Lock()
					samples++
					if pinGiven {
						afterPIN++
					}
					if bytes.Contains(b, []byte(userPIN)) {
						leaked = true
					}
					if !bytes.Contains(b, []byte("objects\x00")) {
						cmdlineWithoutArgs = true
					}
					if bytes.Contains(env, []byte(userPIN)) {
						environHeldThePIN = true
					}
					mu.Unlock()
				}
			}()
			if mode == "pin-file" {
				// Wait until craton opened the FIFO for reading, let it sit
				// there blocked for a while, then hand it the PIN.
				w := openFIFOWhenRead(t, fifo, c, "craton never opened its PIN file", errOut.String)
				time.Sleep(100 * time.Millisecond)
				mu.Lock()
				pinGiven = true
				mu.Unlock()
				if _, err := w.WriteString(userPIN + "\n"); err != nil {
					t.Fatal(err)
				}
				w.Close()
			} else {
				mu.Lock()
				pinGiven = true
				mu.Unlock()
			}
			err := c.Wait()
			close(exited)
			wg.Wait()
			if err != nil {
				t.Fatalf("craton %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
			}
			if !strings.Contains(out.String(), "label") {
				t.Errorf("no object listing:\n%s", out.String())
			}
			t.Logf("%s: %d samples of /proc/%d/cmdline, %d once the PIN was available; environ held the PIN: %v",
				mode, samples, pid, afterPIN, environHeldThePIN)
			if leaked {
				t.Errorf("the user PIN appeared in /proc/%d/cmdline", pid)
			}
			if cmdlineWithoutArgs {
				t.Errorf("a sample of /proc/%d/cmdline lacked the command's arguments: the sampler read something else", pid)
			}
			if afterPIN < 10 {
				t.Errorf("only %d samples while craton held the PIN: the check saw too little", afterPIN)
			}
			if strings.Contains(errOut.String(), userPIN) || strings.Contains(out.String(), userPIN) {
				t.Errorf("craton printed the PIN")
			}
		})
	}
}
