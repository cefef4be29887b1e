// Package store is the persistent, encrypted object store of Craton's
// embedded PKCS#11 engine (package hsm): one bbolt database under the
// configured storage_path, holding per slot the token state and the token
// objects as AES-256-GCM records.
//
// # Layout
//
//	<storage_path>/            mode 0700
//	  craton-hsm.db            mode 0600, bbolt; its flock is the process lock
//	    meta/version             "2" (a "1" store is read, and upgraded at the first login)
//	    slot<N>/state            token state (JSON, see TokenState)
//	    slot<N>/objects/<id>     sealed object record, id = the object handle
//	    slot<N>/material/<id>    sealed key material of a CKA_PRIVATE=false key
//	    slot<N>/gcm/<id>         AES-GCM nonce reservation of a token key
//
// # Keys and threat model
//
// Every record is AES-256-GCM encrypted; nothing about an object is stored
// in plaintext except its handle and one byte saying which key sealed the
// record (KeyKind). The additional data binds each record to its slot,
// handle and key kind, so records cannot be swapped between handles, slots
// or kinds (a material record cannot pass for an object record) without
// failing authentication.
//
// Private objects (CKA_PRIVATE=true: private and secret keys by default) are
// sealed whole (SealedPrivate) under the token's object master key (OMK, 32
// random bytes). The OMK is stored only wrapped (AES-256-GCM) under
// key-encryption keys derived with PBKDF2-HMAC-SHA256 from the user PIN and,
// separately, from the SO PIN, each with its own random per-token salt.
// Without one of the PINs nothing sealed under the OMK can be decrypted. The
// SO wrapping exists so that the SO can set a new user PIN (C_InitPIN)
// without orphaning the objects.
//
// Public objects must be findable before anyone logs in (PKCS#11), so they
// are sealed (SealedPublic) under a separate public-object key (PK) kept in
// the token state beside the records. This only keeps public objects out of
// a plain grep of the files: anyone who can read the store files can read
// what is sealed under the PK.
//
// Key material is therefore never sealed under the PK. A secret or private
// key with CKA_PRIVATE=false (SoftHSMv2's pkcs11-tool --keygen makes secret
// keys so unless --private, and migrations copy the flag faithfully) is
// stored in two records:
//
//   - slot<N>/objects/<id>, SealedPublic: its public view, every attribute
//     but the material, so that it is found and its CKA_LABEL, CKA_ID,
//     CKA_CLASS, usage flags, modulus, EC point… are readable before login;
//   - slot<N>/material/<id>, SealedMaterial under the OMK: its material —
//     CKA_VALUE of a secret or private key and every attribute the engine
//     hides as secret (CKA_PRIVATE_EXPONENT, CKA_PRIME_1/2,
//     CKA_EXPONENT_1/2, CKA_COEFFICIENT, CKA_SEED, the hybrid keys' EC
//     private value).
//
// Both are written in one transaction (PutObjects). Reading the files
// without a PIN gives such a key's public view only.
//
// In the engine (package hsm) this means:
//
//   - At C_Initialize the public views load; the key is visible, its
//     public attributes readable, but anything needing the material (an
//     operation with it, wrapping it or wrapping with it, deriving, copying
//     it, reading a non-sensitive CKA_VALUE) returns CKR_USER_NOT_LOGGED_IN.
//   - When the OMK becomes available — a user login, or an SO login (the SO
//     unwraps the OMK too) — every material record of the slot is decrypted
//     and merged into its object.
//   - Once loaded, material stays in memory until C_Finalize or
//     C_InitToken, logouts included: PKCS#11 says public objects stay usable
//     without a login, and an application that logged in, used a
//     CKA_PRIVATE=false key and logged out must not see it break. What is
//     protected is the store at rest: a fresh process cannot use the key
//     before someone has entered a PIN.
//   - Creating or rewriting such a token key (C_CreateObject,
//     C_GenerateKey(Pair), C_UnwrapKey, C_DeriveKey, C_CopyObject,
//     C_SetAttributeValue) needs the OMK, i.e. a user or SO logged in now;
//     otherwise CKR_USER_NOT_LOGGED_IN. This is deliberate: the engine
//     cannot seal key material without a PIN-derived key, and will not
//     store it readable. Session objects are never stored and unaffected.
//     Destroying such a key needs no login (its records are deleted).
//   - A material record that fails authentication, or is missing, is
//     reported in StoreProblems at the login that tried to load it; the key
//     stays visible (and destroyable) but every use returns
//     CKR_GENERAL_ERROR.
//
// Stores written before this split (format 1) hold such keys whole under
// the PK. They load the same way (public view only, material left out) and
// are migrated at the first login that unlocks the OMK: every such record
// is rewritten as public view plus material record, and the token state is
// marked SplitMaterial, in one transaction. After that a public record
// holding key material is refused (it could only be forged: the PK is in
// the files). Integrity against someone who can write the files is not a
// goal beyond that: such a person can delete records, or replace public
// objects, as before.
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
