package hsm

import "os"

// forked reports whether this process is a child forked after Initialize.
// The C layer relies on every call failing with CKR_CRYPTOKI_NOT_INITIALIZED
// in a child, so that the child calls C_Initialize again (the parent's lock,
// audit file and sessions are not the child's).
func (c *Ctx) forked() bool { return c.pid != 0 && c.pid != os.Getpid() }
