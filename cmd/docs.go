package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/craton-co/craton/errs"
	"github.com/craton-co/craton/hsm/config"
	"github.com/craton-co/craton/internal/iostreams"
	"github.com/spf13/cobra/doc"
)

// GenReference writes the CLI reference (one Markdown page per command)
// and docs/exit-codes.md into docsDir. A test keeps the committed copy current.
func GenReference(docsDir string) error {
	cliDir := filepath.Join(docsDir, "cli")
	if err := os.RemoveAll(cliDir); err != nil {
		return err
	}
	if err := os.MkdirAll(cliDir, 0o755); err != nil {
		return err
	}
	io, _, _, _ := iostreams.Test()
	root := NewRootCmd(io)
	root.DisableAutoGenTag = true
	root.InitDefaultCompletionCmd()
	if err := doc.GenMarkdownTree(root, cliDir); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(docsDir, "exit-codes.md"), []byte(ExitCodesMarkdown()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(docsDir, "engine-config.md"), []byte(EngineConfigMarkdown()), 0o644)
}

// EngineConfigMarkdown renders the engine's annotated example configuration
// (config.Example, which a test loads) as docs/engine-config.md.
func EngineConfigMarkdown() string {
	return "# Engine configuration (craton_hsm.yaml)\n\n" +
		"Generated from `config.Example` by `make docs`; a test loads the same text, so every key and\n" +
		"default below is what the engine accepts. The sections and keys are Craton HSM's.\n\n" +
		"Commands find the file as: `--config FILE` (or `--to-config`/`--from-config`), else\n" +
		"`$CRATON_HSM_CONFIG`, else `./craton_hsm.yaml`, else the built-in defaults. libcraton_hsm.so\n" +
		"reads `$CRATON_HSM_CONFIG` or `./craton_hsm.yaml` at `C_Initialize`.\n\n" +
		"Note `persist_objects: false` is Craton's default: tokens then live in memory only. A migration\n" +
		"target needs `persist_objects: true`.\n\n" +
		"```yaml\n" + config.Example + "```\n"
}

// ExitCodesMarkdown renders errs.ExitCodes as the docs/exit-codes.md page.
func ExitCodesMarkdown() string {
	var b strings.Builder
	b.WriteString("# Exit codes\n\n")
	b.WriteString("Generated from `errs.ExitCodes` by `make docs`; a test fails when this page and the table disagree.\n\n")
	b.WriteString("Every craton command exits with one of these codes. Errors are printed once on stderr as\n")
	b.WriteString("`craton: <operation>: <problem> (<CKR_ name>); <fix>`.\n\n")
	b.WriteString("| code | name | meaning |\n| --- | --- | --- |\n")
	b.WriteString("| 0 | ok | success; for verify, no item failed |\n")
	for _, row := range errs.ExitCodes {
		fmt.Fprintf(&b, "| %d | %s | %s |\n", row.Code, row.Name, row.Meaning)
	}
	return b.String()
}
