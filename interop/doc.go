// Package interop holds the tests that build libcraton_hsm.so
// (go build -buildmode=c-shared ./capi) and load it into real PKCS#11
// clients: pkcs11-tool, a C fork harness, miekg/pkcs11 from Go, GnuTLS
// p11tool, OpenSSL's libp11 engine, p11-kit, NSS and Java SunPKCS11.
// Clients that are not installed are skipped.
//
// Every test works on its own store: a temporary directory, a config file
// naming it, and CRATON_HSM_CONFIG pointing at that file. Test PINs only.
package interop
