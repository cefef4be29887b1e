//go:build race

package hsm

// raceBuild: this test binary has the race detector (TestStoreBitFlips
// runs fewer trials: each is a race-built child process, ~1 s).
const raceBuild = true
