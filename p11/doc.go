// Package p11 is craton's one way to reach a PKCS#11 module: the Module
// interface (the method set of github.com/miekg/pkcs11's *Ctx that craton
// uses), a reference-counted loader for shared libraries, token selection by
// label, robust attribute reads, and conversion of CK_RV failures into typed
// errors (errs.Error) that carry the CKR_ name.
//
// The embedded Craton HSM engine (hsm/) satisfies Module too, so inventory,
// wrapmove and verify never know which kind of module they hold.
// This package holds no migration logic and must not import cmd/, inventory/,
// wrapmove/ or verify/.
package p11
