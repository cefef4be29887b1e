//go:build !linux

package hsm

func pidNoFork() (int, bool) { return 0, false }
