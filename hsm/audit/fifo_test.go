//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package audit

import (
	"path/filepath"
	"syscall"
	"testing"
)

func TestOpenRefusesFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(fifo); err == nil {
		t.Error("Open(fifo) succeeded")
	}
}
