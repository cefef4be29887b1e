//go:build !cgo

package mech

// derefC without cgo cannot follow C pointers, so the pointer-carrying C
// structures are accepted only when their data members are empty. In-process
// Go callers are unaffected: their miekg/pkcs11 parameter objects are read
// directly.
func derefC(raw []byte, off int, n uint64) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	return nil, errParamInvalid
}
