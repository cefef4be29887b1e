//go:build !race

package hsm

const raceBuild = false
