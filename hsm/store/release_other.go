//go:build !linux

package store

// releaseMapping does nothing where the mapping is not known to be safe to
// release this way.
func releaseMapping(addr uintptr, n int64) {}
