// Package faults injects PKCS#11 failures for reliability tests: Module
// wraps any p11.Module (a loaded SoftHSMv2, the embedded engine) and makes
// chosen calls fail with chosen CK_RVs after a number of successful calls,
// so a test can show what migration code does when a module fails half-way
// through (reports the failure with its CKR_ name, leaves the target as it
// was or resumable, converges when re-run).
//
// The C path has its own injector: cshim/faultshim.c is a PKCS#11 library
// that forwards to a real module and fails the functions named in its
// environment (see CShimSource and BuildCShim).
//
// Test support only: import it from _test.go files.
package faults

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// Rule fails calls of one function.
type Rule struct {
	// Func is the PKCS#11 name, e.g. "C_WrapKey", or "*" for every call.
	Func string
	// After lets this many calls of Func through before the first failure.
	After int
	// RV is the CK_RV returned (CKR_DEVICE_ERROR when 0).
	RV uint
	// Times is how many calls fail once failing started; 0 means every
	// later call.
	Times int
}

func (r Rule) String() string {
	times := "then every call"
	if r.Times > 0 {
		times = fmt.Sprintf("then %d", r.Times)
	}
	return fmt.Sprintf("%s: %d ok, %s fail with %#x", r.Func, r.After, times, r.rv())
}

func (r Rule) rv() uint {
	if r.RV == 0 {
		return pkcs11.CKR_DEVICE_ERROR
	}
	return r.RV
}

// Module is a p11.Module whose calls fail as its rules say.
type Module struct {
	M p11.Module

	mu     sync.Mutex
	rules  []Rule
	calls  map[string]int // per function, every call seen
	failed map[string]int // per rule index: failures injected
	log    []string
}

var _ p11.Module = (*Module)(nil)

// Wrap returns m with the rules applied.
func Wrap(m p11.Module, rules ...Rule) *Module {
	return &Module{M: m, rules: rules, calls: map[string]int{}, failed: map[string]int{}}
}

// Set replaces the rules and resets the counters.
func (f *Module) Set(rules ...Rule) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules, f.calls, f.failed, f.log = rules, map[string]int{}, map[string]int{}, nil
}

// Calls returns how many times fn was called (failed calls included).
func (f *Module) Calls(fn string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[fn]
}

// Total is the number of calls seen, all functions together.
func (f *Module) Total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.total()
}

// Injected lists the failures injected so far, in order ("C_WrapKey#3: CKR_DEVICE_ERROR").
func (f *Module) Injected() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

// Summary is every function called, with its count, sorted by name.
func (f *Module) Summary() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var s []string
	for k, v := range f.calls {
		s = append(s, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(s)
	return strings.Join(s, " ")
}

// hit counts a call of fn and returns the injected error, if any.
func (f *Module) hit(fn string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[fn]++
	n := f.calls[fn]
	for i, r := range f.rules {
		if r.Func != fn && r.Func != "*" {
			continue
		}
		count := n
		if r.Func == "*" {
			count = f.total()
		}
		key := fmt.Sprint(i)
		if count > r.After && (r.Times == 0 || f.failed[key] < r.Times) {
			f.failed[key]++
			f.log = append(f.log, fmt.Sprintf("%s#%d: %#x", fn, n, r.rv()))
			return pkcs11.Error(r.rv())
		}
	}
	return nil
}

func (f *Module) total() int {
	t := 0
	for _, v := range f.calls {
		t += v
	}
	return t
}
