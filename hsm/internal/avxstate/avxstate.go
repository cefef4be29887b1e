// Package avxstate clears the upper halves of the AVX registers after
// circl's AVX2 code.
//
// circl v1.6's AVX2 assembly for ML-KEM (pke/kyber/internal/common),
// ML-DSA (sign/internal/dilithium) and the 4-way Keccak
// (simd/keccakf1600) returns without VZEROUPPER, leaving the upper YMM
// state dirty. Code that then runs legacy-SSE-encoded instructions pays
// for it: on the 2-core KVM (AMD EPYC) development machine one SHA-256 of
// 300 bytes (SHA-NI, as the audit log's hash chain does after every
// audited call) took 20–30 µs right after an ML-KEM or ML-DSA operation
// instead of 0.3–0.5 µs (docs/pqc.md, "Performance"). Clean is one
// VZEROUPPER, as Go's own AVX assembly issues before returning.
//
// It is used after ML-KEM and ML-DSA only, where it was measured to help.
// After SLH-DSA (SHA2 sets, no circl AVX2 assembly) the same VZEROUPPER
// made the following signatures ~13% slower on that machine (16.0 →
// 18.1 ms for SHA2-128f), for reasons not understood; SLH-DSA goes
// without it.
package avxstate

// Clean executes VZEROUPPER where the CPU has AVX (a no-op elsewhere).
// Call it after a circl operation that may have used AVX2.
func Clean() {
	if hasAVX {
		vzeroupper()
	}
}
