// Package cmd is craton's command line: cobra commands that parse flags,
// gather PINs from their sources, call into the packages that do the work
// (inventory, wrapmove, verify, hsm) and render results with report.
//
// Each command has an options struct and a run function that tests call
// with injected IOStreams, in the manner of cli/cli. No PKCS#11 or
// migration logic lives here.
package cmd
