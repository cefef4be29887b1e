package hsm

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/craton-co/craton/hsm/mech"
)

// ModulePath is the file the integrity self-test checks. The C-ABI layer
// sets it to the path of libcraton_hsm.so; empty means the running
// executable (the engine used in-process by the CLI).
var ModulePath string

// POSTFault is a test hook: when set, it is called before each self-test and
// a non-nil result fails that test. Never set it outside tests.
var POSTFault func(num int, name string) error

// noDigestNote is the result note of an integrity test without a digest file.
const noDigestNote = "no digest file: integrity not checked (development build)"

// SelfTestResult is the outcome of one power-on self-test.
type SelfTestResult struct {
	Num    int
	Name   string
	Passed bool
	Note   string
	Err    error
}

// SelfTestResults returns the results of the last POST (at Initialize).
func (c *Ctx) SelfTestResults() []SelfTestResult {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]SelfTestResult(nil), c.results...)
}

// runPOST runs every self-test (no early stop, so the operator sees all
// failures), records each in c.results and the audit log, plus an overall
// entry, and reports whether all passed. Caller holds c.mu.
func (c *Ctx) runPOST() bool {
	var note string
	integrityRan := false
	integrity := func() error {
		integrityRan = true
		n, err := checkIntegrity(modulePath())
		note = n
		return err
	}
	tests := mech.SelfTests(integrity)
	if !hasIntegrity(tests) {
		tests = append([]mech.SelfTest{{Num: 0, Name: "Software integrity", Run: integrity}}, tests...)
	}
	ok := true
	for _, t := range tests {
		note, integrityRan = "", false
		err := runOne(t)
		r := SelfTestResult{Num: t.Num, Name: t.Name, Passed: err == nil, Err: err}
		if integrityRan {
			r.Note = note
		}
		ok = ok && r.Passed
		c.results = append(c.results, r)
		c.audit.append(auditEvent{Op: "SelfTest", TestNum: r.Num, TestName: r.Name, Note: r.Note, RV: passRV(err)})
	}
	failed := 0
	for _, r := range c.results {
		if !r.Passed {
			failed++
		}
	}
	overall := error(nil)
	if !ok {
		overall = errGeneral
	}
	c.audit.append(auditEvent{Op: "POST", Length: failed, RV: passRV(overall)})
	return ok
}

func hasIntegrity(tests []mech.SelfTest) bool {
	for _, t := range tests {
		if t.Num == 0 {
			return true
		}
	}
	return false
}

func runOne(t mech.SelfTest) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("self-test panicked: %v", r)
		}
	}()
	if POSTFault != nil {
		if err := POSTFault(t.Num, t.Name); err != nil {
			return err
		}
	}
	if t.Run == nil {
		return errors.New("self-test has no body")
	}
	return t.Run()
}

func passRV(err error) uint {
	if err == nil {
		return 0
	}
	return rvOf(errGeneral)
}

func modulePath() string {
	if ModulePath != "" {
		return ModulePath
	}
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	return exe
}

// checkIntegrity compares the SHA-256 of the module file with the digest in
// "<module>.sha256" (hex, optionally followed by a file name as sha256sum
// writes it). Without a digest file the test passes with a note: a
// development build has no digest, and refusing to start would only teach
// operators to bypass the check.
func checkIntegrity(path string) (note string, err error) {
	if path == "" {
		return noDigestNote + "; module path unknown", nil
	}
	want, err := readDigest(path + ".sha256")
	if errors.Is(err, os.ErrNotExist) {
		return noDigestNote, nil
	}
	if err != nil {
		return "", err
	}
	got, err := fileSHA256(path)
	if err != nil {
		return "", err
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return "", fmt.Errorf("integrity: %s does not match the digest in %s.sha256", path, path)
	}
	return "digest verified: " + path + ".sha256", nil
}

func readDigest(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && err != io.EOF {
		return nil, err
	}
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return nil, fmt.Errorf("integrity: %s is empty", path)
	}
	d, err := hex.DecodeString(fields[0])
	if err != nil || len(d) != sha256.Size {
		return nil, fmt.Errorf("integrity: %s does not hold a hex SHA-256 digest", path)
	}
	return d, nil
}

func fileSHA256(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}
