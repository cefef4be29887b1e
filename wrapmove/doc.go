// Package wrapmove moves the keys of one PKCS#11 token into another: it
// plans per-object actions (wrap, copy, regenerate, skip, blocked), renders
// an operator runbook, moves extractable keys under a transport key that
// exists only as session objects inside both modules, proves every moved
// key on both sides before counting it, journals progress so that an
// interrupted run resumes and converges, and regenerates what cannot leave
// the source (new key pairs plus CSRs).
//
// The source and the target are any p11.Module: a loaded SoftHSMv2, another
// vendor's library, or the embedded Craton HSM engine. The source token is
// never modified: only session objects are created there, in a read-only
// session, and destroyed before Move returns.
//
// What happens to each object is decided once, by the source's inventory
// (package inventory: dispositions wrap, copy, regenerate, blocked);
// MakePlan and PlanFromInventory turn an inventory into a plan, adding only
// what depends on the target (the wrap mechanism, target-side blocks, skip
// for objects already present and proven). Move's own scan of the source
// only finds the objects a plan names (by class, CKA_ID and label) to act
// on them.
//
// This package holds no CLI code; cmd/ calls Move, Regenerate, MakePlan,
// PlanFromInventory, ReadPlan/WritePlan and RenderRunbook with option
// structs. It must not
// import cmd/ or cobra.
package wrapmove
