// Command gendocs regenerates docs/cli/ and docs/exit-codes.md from the
// cobra command tree and the exit-code table. Run it with `make docs`.
package main

import (
	"log"

	"github.com/craton-co/craton/cmd"
)

func main() {
	if err := cmd.GenReference("docs"); err != nil {
		log.Fatal(err)
	}
}
