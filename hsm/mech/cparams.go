package mech

/*
#include <string.h>

// copy_indirect copies n bytes from the address stored (as a C pointer) at
// base+off into dst. It returns -1, copying nothing, if that address is NULL.
static int copy_indirect(void *dst, const void *base, size_t off, size_t n) {
	const void *src;
	memcpy(&src, (const char *)base + off, sizeof src);
	if (src == NULL) {
		return -1;
	}
	memcpy(dst, src, n);
	return 0;
}
*/
import "C"

import "unsafe"

// derefC copies n bytes from the C pointer stored in raw at off. The copy
// happens in C so that Go never holds an arbitrary address as a pointer.
// n == 0 yields nil whatever the pointer is (NULL is allowed there).
func derefC(raw []byte, off int, n uint64) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	if n > maxParamData || off+ptrSize > len(raw) {
		return nil, errParamInvalid
	}
	out := make([]byte, n)
	if C.copy_indirect(unsafe.Pointer(&out[0]), unsafe.Pointer(&raw[0]), C.size_t(off), C.size_t(n)) != 0 {
		return nil, errParamInvalid
	}
	return out, nil
}
