//go:build !linux

package audit

import "os"

// osFile is the log file; Sync is os.File.Sync (fsync, F_FULLFSYNC on macOS).
type osFile struct{ *os.File }
