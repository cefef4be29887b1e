package faults

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// CShimSource is the path of the C fault shim's source.
func CShimSource() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "cshim", "faultshim.c")
}

// BuildCShim compiles the C fault shim with gcc into a temporary directory
// and returns the library's path. Load it with FAULTSHIM_MODULE naming the
// real module (default SoftHSMv2) and FAULTSHIM_FAIL the rules, e.g.
// "C_GetAttributeValue:5:0x30" (see cshim/faultshim.c).
func BuildCShim(t testing.TB) string {
	t.Helper()
	src := CShimSource()
	include := filepath.Join(filepath.Dir(src), "..", "..", "..", "capi", "include")
	out := filepath.Join(t.TempDir(), "libfaultshim.so")
	c := exec.Command("gcc", "-Wall", "-Wextra", "-Werror", "-O1", "-shared", "-fPIC", "-I", include, "-o", out, src, "-ldl")
	if b, err := c.CombinedOutput(); err != nil {
		t.Fatalf("build the fault shim (gcc %s): %v\n%s", strings.Join(c.Args[1:], " "), err, b)
	}
	return out
}

// ShimRule renders rules as FAULTSHIM_FAIL's value.
func ShimRule(rules ...Rule) string {
	var s []string
	for _, r := range rules {
		s = append(s, fmt.Sprintf("%s:%d:%#x", r.Func, r.After, r.rv()))
	}
	return strings.Join(s, ",")
}
