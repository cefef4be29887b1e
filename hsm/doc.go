// Package hsm is Craton's embedded PKCS#11 engine: a software token used
// in-process, behind a Go API with the method set of github.com/miekg/pkcs11's
// *Ctx (so it satisfies p11.Module), and later behind a C ABI
// (libcraton_hsm.so) that only translates C structs and calls this package.
// All PKCS#11 semantics live here: slots and tokens, PINs and lockout,
// sessions and their states, the object model and attribute rules, the
// mechanism policy, power-on self-tests, fork detection and auditing.
//
// # Lifecycle
//
//	c := hsm.New(cfg)          // cfg is a config.Config; nothing is opened yet
//	err := c.Initialize()      // opens the store (exclusive lock), the audit log, runs POST
//	...                        // PKCS#11 calls, from any number of goroutines
//	err = c.Finalize()         // closes sessions, the store and the audit log
//
// Open(cfg) does New + Initialize. Every method is safe for concurrent use;
// one session is meant to be used by one goroutine at a time (as PKCS#11
// says), different sessions concurrently.
//
// Before Initialize, after Finalize, and in a forked child (the pid differs
// from the one recorded at Initialize) every call returns
// CKR_CRYPTOKI_NOT_INITIALIZED. After a failed POST every call returns
// CKR_GENERAL_ERROR until a later Initialize passes.
//
// # Errors
//
// Methods return pkcs11.Error(CKR_...) values, exactly as a loaded module
// would through miekg/pkcs11, except Initialize, which may return an
// *errs.Error (e.g. KindStoreLocked) that still carries the CK_RV.
//
// GetAttributeValue follows C semantics as far as the miekg signature
// allows: when some attributes cannot be read it returns every requested
// attribute — readable ones with their value, unreadable ones with a nil
// Value — together with pkcs11.Error(CKR_ATTRIBUTE_SENSITIVE) or
// CKR_ATTRIBUTE_TYPE_INVALID. GetAttributeValueDetailed reports a CK_RV per
// attribute for the C layer.
//
// # Boundaries
//
// The package knows nothing of migration, of cobra or of the C ABI. Crypto
// is in hsm/mech, the files in hsm/store, configuration in hsm/config and
// the audit log in hsm/audit.
package hsm
