// Package inventory reads a PKCS#11 token into a flat, handle-independent
// list of records — one per object — with the attributes the SoftHSMv2
// migration guide asks to record, public-key fingerprints, key check values
// computed inside the token, the links between keys and certificates, and a
// disposition per object (wrap, copy, regenerate, blocked) with its reason.
// It also writes and reads the inventory CSV (docs/inventory-format.md) and
// compares two mechanism lists.
//
// Its job ends at data: rendering tables, JSON and YAML is the report
// renderer's, flags and PIN sources are cmd/'s. It must not import cmd/,
// cobra, wrapmove/ or verify/; it talks to modules only through p11.Module,
// so a loaded .so and the embedded engine look the same to it. It never
// changes the token: every call it makes is a read, a C_FindObjects pass,
// or a one-block encryption/MAC that computes a check value.
package inventory
