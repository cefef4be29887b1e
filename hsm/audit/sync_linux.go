package audit

import (
	"errors"
	"os"
	"syscall"
)

// osFile is the log file; Sync is fdatasync, which makes the appended data
// and the file size durable without forcing other metadata (mtime) out.
type osFile struct{ *os.File }

func (f osFile) Sync() error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
