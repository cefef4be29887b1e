// Package audit is the embedded engine's audit log: append-only JSON Lines
// with a SHA-256 hash chain, line-compatible with Craton HSM's v0 format
// (craton-hsm-core src/audit/log.rs, reference §8).
//
// # Line format
//
// One JSON object per line, fields in this order:
//
//	{"format_version":0,"timestamp":1700000000000000001,"session_handle":7,
//	 "operation":{"Sign":{"mechanism":64,"fips_approved":true}},
//	 "key_id":null,"result":{"Failure":257},"previous_hash":[0,0,...,0]}
//
// timestamp is Unix nanoseconds, strictly increasing; session_handle is 0
// for system events; operation uses serde's external tagging (unit variants
// as strings, others as one-key objects); result is "Success" or
// {"Failure":<CK_RV>}; previous_hash is the chain value before the entry as
// 32 integers. The chain starts at 32 zero bytes and after each entry
// becomes SHA-256(previous ‖ payload), the payload being the line without
// previous_hash serialized compactly in the same order. A line is always
// exactly the compact encoding (no spaces, serde_json's string escapes), so
// what is hashed is what is on disk.
//
// # Differences from Craton
//
// Durability (reference "How our engine should differ" 11): Append writes
// the line and fsyncs it (fdatasync on Linux) before it returns, and
// returns every failure; Craton queues events to a background thread and
// ignores errors. Concurrent Appends share a write and a sync (group
// commit), so throughput grows with concurrency while each caller still
// waits for its own line to be durable.
//
// POST results (item 10): the engine records one SelfTest{num,name,passed}
// entry per power-on self-test and one POST{passed,failed_count} entry for
// the overall result, all with session 0 and RV 0 when passed,
// CKR_GENERAL_ERROR otherwise. Open the log before POST, or hold the events
// and Append them as soon as it is open. We also add a CopyObject unit
// variant. These are new variants only — no new fields anywhere, no
// human-readable mechanism name in the payload — so every line keeps
// Craton's framing and hash rule; but Craton's Rust deserializer rejects
// variants it does not know, so Craton's own tools can read a craton log
// only if it holds none of SelfTest, POST and CopyObject. This package
// reads everything Craton writes (including GetAttributeValue and Zeroize).
//
// Head file: nothing in Craton's format commits to the last line, so a
// change to it, or the removal of whole lines from the end, leaves a valid
// chain. Open maintains <log>.head (entry count and chain value, see
// head.go) and Verify checks it when present. Rotation (Craton renames the
// file at 100 MiB and continues the chain in a new file) is not
// implemented: the file grows until the operator moves it, with its .head,
// aside, after which Open starts a new chain from the zero hash. A rotated
// Craton file other than the first continues its predecessor's chain, so
// Verify reports its line 1 as EntriesMissing.
//
// The chain has no key (as in Craton's v0): anyone who can write the file
// can rebuild it. It detects accidents and naive edits, not a determined
// writer.
//
// # Boundaries
//
// This package records and checks; it does not decide what to audit or
// what to do when the log fails (the engine does). It must not import hsm
// (the engine), hsm/config or any migration package (inventory, wrapmove,
// verify, cmd); it imports only ck (names) and errs (typed errors).
package audit
