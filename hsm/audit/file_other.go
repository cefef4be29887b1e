//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package audit

import (
	"errors"
	"os"
)

// openNoFollow has no O_NOFOLLOW here; Open's Lstat check and the Stat of
// the opened file are the only symlink and type checks.
func openNoFollow(path string, flag int) (*os.File, error) {
	return os.OpenFile(path, flag, 0o600)
}

var errLocked = errors.New("locked by another process")

// lockFile is a no-op on platforms without flock: two processes sharing a
// log there are not detected.
func lockFile(*os.File) (func(), error) { return func() {}, nil }
