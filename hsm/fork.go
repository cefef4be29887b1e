package hsm

import "os"

// forked reports whether this process is a child forked after Initialize.
// The C layer relies on every call failing with CKR_CRYPTOKI_NOT_INITIALIZED
// in a child, so that the child calls C_Initialize again (the parent's lock,
// audit file and sessions are not the child's).
func (c *Ctx) forked() bool { return c.pid != 0 && c.pid != currentPID() }

// currentPID is os.Getpid without a system call on the hot path where the
// platform can tell cheaply that no fork happened (fork_linux.go: a
// MADV_WIPEONFORK page). getpid costs ~0.3 µs on a KVM guest and every
// call passes the gate once or twice.
func currentPID() int {
	if pid, ok := pidNoFork(); ok {
		return pid
	}
	return os.Getpid()
}
