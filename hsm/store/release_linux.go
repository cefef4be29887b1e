package store

import "golang.org/x/sys/unix"

// releaseMapping drops the n bytes of the shared read-only file mapping at
// addr from the process's resident set (madvise MADV_DONTNEED: for a shared
// file mapping the contents stay in the page cache and come back on the
// next access). Errors are ignored: this only saves memory.
func releaseMapping(addr uintptr, n int64) {
	if addr == 0 || n <= 0 {
		return
	}
	unix.Syscall(unix.SYS_MADVISE, addr, uintptr(n), unix.MADV_DONTNEED)
}
