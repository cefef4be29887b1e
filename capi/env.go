package main

/*
#include "shim.h"
*/
import "C"

import (
	"os"
	"strings"
	"unsafe"
)

// envPrefix selects the variables the engine reads (CRATON_HSM_CONFIG,
// CRATON_HSM_FIPS, …).
const envPrefix = "CRATON_HSM_"

// syncEnv copies the CRATON_HSM_* variables of the C environment into the
// Go runtime's. A c-shared library's Go runtime takes its environment from
// the process's initial one, so without this a host that calls
// setenv("CRATON_HSM_CONFIG", …) before C_Initialize (a test harness, a
// launcher) would not be heard.
func syncEnv() {
	seen := map[string]bool{}
	if C.environ != nil {
		for p := C.environ; *p != nil; p = (**C.char)(unsafe.Add(unsafe.Pointer(p), unsafe.Sizeof(*p))) {
			kv := C.GoString(*p)
			if !strings.HasPrefix(kv, envPrefix) {
				continue
			}
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				continue
			}
			seen[k] = true
			if cur, set := os.LookupEnv(k); !set || cur != v {
				os.Setenv(k, v)
			}
		}
	}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, envPrefix) && !seen[k] {
			os.Unsetenv(k)
		}
	}
}

// selfPath is the file this library was loaded from, so that the
// integrity self-test checks the module rather than the host executable.
func selfPath() string {
	if p := C.craton_self_path(); p != nil {
		return C.GoString(p)
	}
	return ""
}
