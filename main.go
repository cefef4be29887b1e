// Command craton migrates SoftHSMv2 tokens to Craton HSM and runs the
// embedded Craton HSM engine. See README.md and docs/.
package main

import (
	"os"

	"github.com/craton-co/craton/cmd"
	"github.com/craton-co/craton/internal/iostreams"
)

func main() {
	os.Exit(cmd.Execute(iostreams.System(), os.Args[1:]))
}
