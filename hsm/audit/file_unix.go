//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package audit

import (
	"errors"
	"os"
	"syscall"
)

// openNoFollow opens path with O_NOFOLLOW (a symbolic link as the last
// component fails with ELOOP) and O_CLOEXEC; files are created 0600.
func openNoFollow(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if errors.Is(err, syscall.ELOOP) {
		return nil, errors.New("is a symbolic link (refused)")
	}
	return f, err
}

// errLocked means another open file description holds the lock.
var errLocked = errors.New("locked by another process")

// lockFile takes a non-blocking exclusive flock on f, released by the
// returned function (and by closing f).
func lockFile(f *os.File) (func(), error) {
	fd := int(f.Fd())
	for {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return func() { _ = syscall.Flock(fd, syscall.LOCK_UN) }, nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return nil, errLocked
		default:
			return nil, err
		}
	}
}
