package avxstate

import "golang.org/x/sys/cpu"

var hasAVX = cpu.X86.HasAVX

//go:noescape
func vzeroupper()
