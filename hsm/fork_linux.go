package hsm

import (
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// madvWipeOnFork is MADV_WIPEONFORK (Linux 4.14+): the page reads as zeros
// in a child created by fork.
const madvWipeOnFork = 18

// forkMark is a word in a wipe-on-fork page, set to 1 in the process that
// loaded the package; markPID is that process's pid. In a forked child the
// word reads 0, and currentPID falls back to getpid.
var (
	forkMark *uint32
	markPID  int
)

func init() {
	page, err := syscall.Mmap(-1, 0, os.Getpagesize(), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS)
	if err != nil {
		return
	}
	if err := syscall.Madvise(page, madvWipeOnFork); err != nil {
		syscall.Munmap(page)
		return // older kernel: getpid every time
	}
	m := (*uint32)(unsafe.Pointer(&page[0]))
	markPID = os.Getpid()
	atomic.StoreUint32(m, 1)
	forkMark = m
}

// pidNoFork returns the pid without a system call when the mark shows that
// this is the process that set it.
func pidNoFork() (int, bool) {
	if forkMark != nil && atomic.LoadUint32(forkMark) == 1 {
		return markPID, true
	}
	return 0, false
}
