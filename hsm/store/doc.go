// Package store is the persistent, encrypted object store of Craton's
// embedded PKCS#11 engine (package hsm): one bbolt database under the
// configured storage_path, holding per slot the token state and the token
// objects as AES-256-GCM records.
//
// # Layout
//
//	<storage_path>/            mode 0700
//	  craton-hsm.db            mode 0600, bbolt; its flock is the process lock
//	    meta/version
//	    slot<N>/state          token state (JSON, see TokenState)
//	    slot<N>/objects/<id>   sealed object record, id = the object handle
//	    slot<N>/gcm/<id>       AES-GCM nonce reservation of a token key
//
// # Keys and threat model
//
// Every object record is the AES-256-GCM encryption of the whole object
// (all attributes, including label, ID and key material); nothing about an
// object is stored in plaintext except its handle and one byte saying which
// key sealed it. The additional data binds each record to its slot, handle
// and key kind, so records cannot be swapped between handles or slots
// without failing authentication.
//
// Private objects (CKA_PRIVATE=true: private and secret keys by default) are
// sealed under the token's object master key (OMK, 32 random bytes). The OMK
// is stored only wrapped (AES-256-GCM) under key-encryption keys derived with
// PBKDF2-HMAC-SHA256 from the user PIN and, separately, from the SO PIN,
// each with its own random per-token salt. Without one of the PINs the
// private records cannot be decrypted. The SO wrapping exists so that the SO
// can set a new user PIN (C_InitPIN) without orphaning the objects.
//
// Public objects must be findable before anyone logs in (PKCS#11), so they
// are sealed under a separate public-object key (PK) kept in the token state
// beside the records. This only keeps public objects from being readable by
// a plain grep of the files; anyone who can read the store files can read
// the public objects — which are public by definition. Do not mark an object
// CKA_PRIVATE=false if its content must stay confidential.
//
// PINs are never stored. A PIN is checked by a verifier, HMAC-SHA256 under
// the PIN-derived KEK of a fixed label, compared in constant time.
//
// # Durability and locking
//
// Every change is one bbolt read-write transaction, fsynced before it
// returns, so a crash (kill -9) at any moment leaves either the old or the
// new state. bbolt's exclusive flock on the database file is the process
// lock: a second opener (another process, or a second engine in the same
// process) fails at once with KindStoreLocked.
//
// This package knows records, keys and files only; PKCS#11 semantics
// (attributes, sessions, login rules) live in package hsm.
package store
