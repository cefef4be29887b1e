// Package softhsmtest builds throwaway SoftHSMv2 tokens for tests: a private
// softhsm2.conf and token directory, tokens initialised with the test PINs,
// and populations that mirror /work/shared/fixtures/make-softhsm-fixture.sh
// (the representative migration source of the SoftHSMv2 guide) plus a bulk
// population for benchmarks. Every population returns a manifest
// ([]Expected) so tests can assert per object.
//
// It is test support only: import it from _test.go files. It must not be
// imported by production packages, and it must not import cmd/, inventory/,
// wrapmove/ or verify/ (it sits below them, next to p11).
//
// # One SoftHSM configuration per test process
//
// SoftHSMv2 reads SOFTHSM2_CONF once, in C_Initialize, and p11.OpenLibrary
// shares one initialised library per process (reference-counted). Observed
// with SoftHSM 2.6.1:
//
//   - a token that another process (softhsm2-util) initialises after
//     C_Initialize is invisible to the loaded library until it is finalised
//     and loaded again;
//   - C_InitToken on the free slot through the loaded library works, and
//     SoftHSM then presents a new free slot;
//   - after the last C_Finalize a new C_Initialize re-reads SOFTHSM2_CONF.
//
// So the package keeps one shared environment per test process: the first
// New creates a temporary directory with softhsm2.conf and tokens/, sets
// SOFTHSM2_CONF for the process and opens the library; every fixture opened
// while that environment is alive (parallel tests, subtests) shares it and
// initialises its own uniquely labelled tokens in it, through C_InitToken and
// C_InitPIN on the free slot (what "softhsm2-util --init-token --free" does,
// but in-process so the loaded library sees the token at once). When the
// last fixture is cleaned up the library is finalised, the directory
// removed and SOFTHSM2_CONF restored, so nothing leaks between test binaries
// or runs. os.Setenv is used instead of t.Setenv because the variable is
// process state shared by parallel tests, not one test's.
//
// Consequence for callers: code under test may open /usr/lib/softhsm/libsofthsm2.so
// itself with p11.OpenLibrary (it shares the fixture's library) but must
// close it before the fixture's cleanup runs (register the close after New,
// t.Cleanup runs last-in first-out). If the library was already loaded with
// another configuration when the environment starts, New fails the test
// rather than create tokens in a foreign token directory.
//
// The directory is created under $CRATON_SOFTHSMTEST_DIR, else /dev/shm when
// writable, else the temp dir: SoftHSM's file backend rewrites an object file
// per attribute, and tmpfs makes that ten times cheaper (1,000 objects in
// about a second instead of twelve). The directory records its owner's pid;
// a later run removes directories whose owner died without cleaning up.
//
// Missing SoftHSMv2 (the module or softhsm2-util) fails the test with an
// install hint: a real-token test that skips in CI would hide a regression.
//
// PINs and the known KEK are TEST-ONLY values, published in the guide.
package softhsmtest
