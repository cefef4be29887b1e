// Package verify executes the migration guide's cutover checklist
// ("Verification checklist" in docs/migration-from-softhsm-v2.md) against
// a source SoftHSMv2 token and its migrated target, and reports one row per
// checklist item with the evidence that decided it.
//
// The items, numbered as in the guide:
//
//  1. The target module is open (C_Initialize returned CKR_OK) and, for the
//     embedded engine, all 17 power-on self-tests passed. For an external
//     module the POST is not observable: the item is PASS on the strength
//     of the open module, and its evidence says "external module: POST not
//     observable" (one row per guide item, not 1a/1b).
//  2. The target advertises every mechanism the migrated keys need (the
//     table in mechs.go; any one mechanism of a need suffices) and every
//     mechanism in Options.RequireMechanisms (all required).
//  3. Every migrated object (inventory disposition wrap or copy) is on the
//     target with the same class, CKA_ID and CKA_LABEL, and equal key type,
//     size, usage flags, CKA_SENSITIVE and CKA_EXTRACTABLE. A key that was
//     extractable on the source and is not on the target passes (a
//     hardened move) with a note in Details.
//  4. Each migrated signing key signs on the target; the signature verifies
//     on the target (C_Verify with the target public key, when present) and
//     in Go with the SOURCE public key or certificate of the same CKA_ID.
//     This catches a different key under the same label and ID.
//  5. Each migrated AES key with CKA_WRAP wraps a fresh session AES key with
//     CKM_AES_KEY_WRAP_PAD and unwraps it again as a session object; the
//     check values (one zero block, AES-ECB or AES-CBC with a zero IV) of
//     the two session keys are equal.
//  6. Each migrated certificate has a private key with its CKA_ID on the
//     target, and a signature by that key verifies with the certificate's
//     public key.
//  7. Options.Exec (the operator's representative transaction) exits 0
//     within 60 s, run with PKCS11_MODULE_PATH and CRATON_TOKEN_LABEL set.
//  8. The audit log's hash chain is intact and holds this run's Sign and
//     Verify (and Encrypt) entries, each with fips_approved equal to the
//     mechanism table's FIPS flag.
//  9. The current target user PIN (and SO PIN, when given) matches none of
//     the salted PIN hashes the move journal recorded.
//  10. Each key the plan (or the inventory) marks regenerate has a new key
//     on the target with its label, ID, class and key type; WARN while
//     pending.
//
// Verify never modifies the source (read-only session, no object created).
// On the target it opens read-only sessions, so the module itself refuses
// any token object: it creates session objects (CKA_TOKEN=false) only, and
// destroys them before returning.
//
// Report.Err returns an *errs.Error of KindVerifyFailed when an item
// failed. The command layer (cmd/) renders the Report; this package never
// imports it.
package verify
