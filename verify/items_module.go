package verify

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/inventory"
	"github.com/craton-co/craton/p11"
)

var sprintf = fmt.Sprintf

// postCount is the number of named power-on self-tests the guide promises.
const postCount = 17

// checkModule is item 1.
func checkModule(_ context.Context, r *run) Result {
	info, err := r.opts.Target.GetInfo()
	if err != nil {
		return Result{Status: Fail, Evidence: "C_GetInfo on the target failed: the module is not initialised: " + p11.Wrap("C_GetInfo", err).Error()}
	}
	lib := sprintf("%s %d.%d", p11.TrimLabel(info.LibraryDescription), info.LibraryVersion.Major, info.LibraryVersion.Minor)
	if r.opts.Engine == nil {
		return Result{Status: Pass, Evidence: "C_Initialize CKR_OK (" + lib + "); external module: POST not observable"}
	}
	res := r.opts.Engine.SelfTestResults()
	var failed, details []string
	for _, t := range res {
		line := sprintf("%2d %s: passed", t.Num, t.Name)
		if !t.Passed {
			failed = append(failed, sprintf("%d %s (%v)", t.Num, t.Name, t.Err))
			line = sprintf("%2d %s: FAILED: %v", t.Num, t.Name, t.Err)
		}
		if t.Note != "" {
			line += " (" + t.Note + ")"
		}
		details = append(details, line)
	}
	switch {
	case len(failed) > 0:
		return Result{Status: Fail, Evidence: "POST failed: " + strings.Join(failed, "; "), Details: details}
	case len(res) != postCount:
		return Result{Status: Fail, Evidence: sprintf("POST ran %d self-tests, the guide promises %d", len(res), postCount), Details: details}
	}
	return Result{Status: Pass, Evidence: sprintf("C_Initialize CKR_OK (%s); POST %d/%d passed", lib, len(res), postCount), Details: details}
}

// checkMechanisms is item 2.
func checkMechanisms(_ context.Context, r *run) Result {
	have := map[uint]bool{}
	for _, m := range r.dst.Token.Mechanisms {
		have[m.Code] = true
	}
	var t tally
	seen := map[string]bool{}
	for _, rec := range r.src.Records {
		if rec.KeyType == "" || rec.Disposition == inventory.Blocked {
			continue
		}
		for _, n := range needsOf(rec) {
			if seen[n.Purpose] {
				continue
			}
			seen[n.Purpose] = true
			if m, ok := anyOf(have, n.Mechs); ok {
				t.ok("%s (%s keys, e.g. %q): %s", n.Purpose, n.KeyType, rec.Label, ck.MechName(m))
			} else {
				t.bad("%s (%s keys, e.g. %q): none of %s advertised", n.Purpose, n.KeyType, rec.Label, mechNames(n.Mechs))
			}
		}
	}
	for _, m := range r.opts.RequireMechanisms {
		if have[m] {
			t.ok("required %s advertised", ck.MechName(m))
		} else {
			t.bad("required %s not advertised", ck.MechName(m))
		}
	}
	res := t.result("mechanism needs", "no key needs a mechanism and none was required")
	if res.Status == Fail {
		var missing []string
		for _, d := range t.details {
			if strings.HasPrefix(d, "FAIL: ") {
				missing = append(missing, strings.TrimPrefix(d, "FAIL: "))
			}
		}
		res.Evidence += ": " + strings.Join(missing, "; ")
	}
	return res
}

func anyOf(have map[uint]bool, mechs []uint) (uint, bool) {
	for _, m := range mechs {
		if have[m] {
			return m, true
		}
	}
	return 0, false
}

func mechNames(ms []uint) string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = ck.MechName(m)
	}
	return strings.Join(names, ", ")
}

// defaultExecTimeout bounds the representative transaction.
const defaultExecTimeout = 60 * time.Second

// checkExec is item 7.
func checkExec(ctx context.Context, r *run) Result {
	if len(r.opts.Exec) == 0 {
		return Result{Status: Skip, Evidence: "no representative transaction given (--exec)"}
	}
	timeout := r.opts.ExecTimeout
	if timeout <= 0 {
		timeout = defaultExecTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.opts.Exec[0], r.opts.Exec[1:]...)
	cmd.Env = append(os.Environ(), "PKCS11_MODULE_PATH="+r.opts.ModulePath, "CRATON_TOKEN_LABEL="+r.opts.TargetToken.Label)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start).Round(time.Millisecond)
	details := tail(out.String(), 20)
	argv := strings.Join(r.opts.Exec, " ")
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return Result{Status: Fail, Evidence: sprintf("%s: timed out after %s", argv, timeout), Details: details}
	case err != nil:
		return Result{Status: Fail, Evidence: sprintf("%s: %v (after %s)", argv, err, took), Details: details}
	}
	return Result{Status: Pass, Evidence: sprintf("%s exited 0 in %s", argv, took), Details: details}
}

// tail returns the last n non-empty lines of s.
func tail(s string, n int) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
