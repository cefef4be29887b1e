package cmd

import (
	"strings"
	"testing"

	"github.com/craton-co/craton/internal/iostreams"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	io, _, out, errOut := iostreams.Test()
	code = Execute(io, args)
	return code, out.String(), errOut.String()
}

func TestVersion(t *testing.T) {
	code, out, _ := run(t, "version")
	if code != 0 || !strings.HasPrefix(out, "craton ") || !strings.Contains(out, "go1.") {
		t.Fatalf("version: code %d, out %q", code, out)
	}
}

func TestHelp(t *testing.T) {
	code, out, _ := run(t, "--help")
	if code != 0 || !strings.Contains(out, "SoftHSMv2") || !strings.Contains(out, "completion") {
		t.Fatalf("help: code %d, out %q", code, out)
	}
}

func TestCompletionBash(t *testing.T) {
	code, out, _ := run(t, "completion", "bash")
	if code != 0 || !strings.Contains(out, "__start_craton") {
		t.Fatalf("completion: code %d, out starts %q", code, out[:min(len(out), 80)])
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{{"no-such-command"}, {"version", "--bogus"}, {"version", "extra-arg"}} {
		code, _, errOut := run(t, args...)
		if code != 2 || !strings.HasPrefix(errOut, "craton: ") || !strings.Contains(errOut, "--help") {
			t.Errorf("%v: code %d, stderr %q", args, code, errOut)
		}
	}
}
