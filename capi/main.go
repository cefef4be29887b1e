// Command capi is libcraton_hsm.so: Craton's embedded engine (package hsm)
// as a PKCS#11 v3.0 shared library for C callers (pkcs11-tool, p11-kit,
// OpenSSL, GnuTLS, NSS, Java SunPKCS11).
//
//	go build -buildmode=c-shared -o libcraton_hsm.so ./capi
//
// Layout:
//
//	include/      OASIS PKCS#11 headers (v2.40 from miekg/pkcs11 + v3.0 interfaces)
//	shim.c/.h     C_Initialize/C_Finalize, C_GetFunctionList, C_GetInterface*,
//	              the fork guard, info-struct fillers
//	zfuncs.c      generated (gen.go): every other entry point — guard, then the
//	              Go half goC_<name> or a typed CKR_FUNCTION_NOT_SUPPORTED stub —
//	              and the v2.40 / v3.0 function tables
//	exports.go    the Go halves: C structs ↔ the engine's Go API, nothing more
//	decode.go     pure-Go template / mechanism-parameter / length decoding (fuzzed)
//	pending.go    outputs kept between the two calls of the length idiom
//	engine*.go    the engine behind it (hsm.Ctx from config.Load(""))
//
// The library's configuration and store are the CLI's: $CRATON_HSM_CONFIG,
// else ./craton_hsm.yaml, else defaults. Fork: see docs/fork-safety.md.
package main

//go:generate go run gen.go

func main() {}
