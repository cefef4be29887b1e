// Package mech is the cryptographic backend of Craton's embedded PKCS#11
// engine. It performs mechanisms on already-parsed key material and knows
// nothing about sessions, objects, stores or attribute policy; the engine in
// package hsm owns those and calls in here.
//
// Errors are pkcs11.Error values carrying the CK_RV the engine should return.
package mech
