// Package ck holds the PKCS#11 constants that github.com/miekg/pkcs11 lacks
// (v3.0/v3.2 codes and Craton HSM's vendor codes) and printable names for
// every CKR_, CKM_, CKA_, CKK_ and CKO_ value, so that errors and reports
// always say CKR_PIN_INCORRECT rather than 0xA0.
//
// It must not import anything of this project: every other package may use it.
package ck

//go:generate go run gen_names.go
