package pin

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/craton-co/craton/errs"
)

// Prompter reads a secret from a terminal without echo.
type Prompter interface {
	IsStdinTTY() bool
	ReadSecret() ([]byte, error)
}

// Source says where one role's PIN comes from.
type Source struct {
	Role     string // "user PIN", "SO PIN", "source user PIN", ...
	File     string // path given with FileFlag
	Env      string // variable name given with EnvFlag
	FileFlag string // e.g. "--pin-file", for messages
	EnvFlag  string // e.g. "--pin-env"
	// Value is a PIN already obtained from one of the sources above in
	// this run, so that one role's PIN is read (or prompted for) once.
	Value string
}

// Given reports whether a non-interactive source was named.
func (s Source) Given() bool { return s.File != "" || s.Env != "" }

// Read returns the PIN: from the file, else the environment variable, else a
// prompt (written to prompt) when p is a terminal, else an error naming the flags.
func (s Source) Read(p Prompter, prompt io.Writer) (string, error) {
	switch {
	case s.Value != "":
		return s.Value, nil
	case s.File != "" && s.Env != "":
		return "", errs.Usage(fmt.Sprintf("both %s and %s given for the %s", s.FileFlag, s.EnvFlag, s.Role),
			"give one PIN source")
	case s.File != "":
		return s.fromFile()
	case s.Env != "":
		return s.fromEnv()
	case p != nil && p.IsStdinTTY():
		return s.fromPrompt(p, prompt)
	}
	return "", errs.Usage(fmt.Sprintf("no source for the %s", s.Role),
		fmt.Sprintf("pass %s FILE or %s NAME (PINs are never taken on the command line; a prompt needs a terminal)", s.FileFlag, s.EnvFlag))
}

func (s Source) fromFile() (string, error) {
	b, err := os.ReadFile(s.File)
	if err != nil {
		return "", &errs.Error{Kind: errs.KindUsage, Op: s.FileFlag, Msg: fmt.Sprintf("cannot read the %s file", s.Role),
			Hint: "check the path and its permissions", Err: err}
	}
	pin := trimEOL(b)
	if pin == "" {
		return "", errs.Usage(fmt.Sprintf("the %s file %s is empty", s.Role, s.File), "write the PIN on its first line")
	}
	if strings.ContainsAny(pin, "\r\n") {
		return "", errs.Usage(fmt.Sprintf("the %s file %s holds more than one line", s.Role, s.File), "keep only the PIN in the file")
	}
	return pin, nil
}

func (s Source) fromEnv() (string, error) {
	v, ok := os.LookupEnv(s.Env)
	if !ok || v == "" {
		return "", errs.Usage(fmt.Sprintf("environment variable %s (named by %s for the %s) is unset or empty", s.Env, s.EnvFlag, s.Role),
			"export it before running craton, or use "+s.FileFlag)
	}
	return v, nil
}

func (s Source) fromPrompt(p Prompter, prompt io.Writer) (string, error) {
	fmt.Fprintf(prompt, "%s: ", capitalize(s.Role))
	b, err := p.ReadSecret()
	fmt.Fprintln(prompt)
	if err != nil {
		return "", &errs.Error{Kind: errs.KindUsage, Msg: "cannot read the " + s.Role + " from the terminal", Err: err}
	}
	pin := trimEOL(b)
	if pin == "" {
		return "", errs.Usage("empty "+s.Role, "type the PIN at the prompt, or use "+s.FileFlag)
	}
	return pin, nil
}

// trimEOL drops one trailing line ending: a PIN may itself contain spaces.
func trimEOL(b []byte) string {
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	return string(b)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
