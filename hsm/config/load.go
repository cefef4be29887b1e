package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/craton-co/craton/errs"
)

// SourceDefaults is the source Load reports when no file was read.
const SourceDefaults = "defaults"

// maxFileSize bounds the configuration file; a real one is a few hundred
// bytes.
const maxFileSize = 1 << 20

// Load reads the configuration and returns it with its source: the file
// path, or SourceDefaults.
//
// The file is path if given; otherwise $CRATON_HSM_CONFIG if set; otherwise
// ./craton_hsm.yaml if it exists; otherwise no file and Default() is used. A
// file named by path or $CRATON_HSM_CONFIG must exist. Keys missing from the
// file keep their defaults; an unknown key or section is an error naming it
// and its line. CRATON_HSM_FIPS=1 then forces algorithms.fips_approved_only
// (see EnvFIPS), and the result is validated (see Config.Validate).
//
// Relative storage_path and log_path values written in the file are
// resolved against the directory of the file, not the working directory, so
// the same file means the same store whoever starts the process and from
// wherever; the returned Config holds the absolute result. Defaults for keys
// the file does not set stay relative to the working directory, as in
// Craton.
//
// Like Craton, the file must not be a symbolic link, must not be writable by
// group or others (Unix), and its path obeys the storage_path rules.
func Load(path string) (Config, string, error) {
	fips, err := fipsFromEnv()
	if err != nil {
		return Config{}, "", err
	}
	src, fromEnv, err := findFile(path)
	if err != nil {
		return Config{}, "", err
	}
	cfg, lines := Default(), map[string]int(nil)
	source := SourceDefaults
	if src != "" {
		if cfg, lines, err = loadFile(src, fromEnv); err != nil {
			return Config{}, "", err
		}
		source = src
	}
	if fips {
		cfg.Algorithms.FIPSApprovedOnly = true
	}
	if v := cfg.validate(); v != nil {
		if fips && strings.Contains(v.msg, "fips_approved_only is true") {
			v.msg += " (" + EnvFIPS + " forces fips_approved_only on)"
		}
		msg, op := v.field+": "+v.msg, "config"
		if src != "" {
			op = src
			if line, ok := lines[v.field]; ok {
				msg = fmt.Sprintf("line %d: %s", line, msg)
			}
		}
		return Config{}, "", &errs.Error{Kind: errs.KindInput, Op: op, Msg: msg, Hint: v.hint}
	}
	return cfg, source, nil
}

// fipsFromEnv reads CRATON_HSM_FIPS.
func fipsFromEnv() (bool, error) {
	switch v := os.Getenv(EnvFIPS); strings.ToLower(v) {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	default:
		return false, &errs.Error{Kind: errs.KindInput, Op: "environment",
			Msg:  fmt.Sprintf("%s=%q is not understood (allowed: 1, true, 0, false)", EnvFIPS, v),
			Hint: fmt.Sprintf("set %s=1 to force FIPS mode, or unset it", EnvFIPS)}
	}
}

// findFile returns the file to read, or "" for none, and whether it came
// from $CRATON_HSM_CONFIG.
func findFile(path string) (string, bool, error) {
	if path != "" {
		return path, false, nil
	}
	if env := os.Getenv(EnvConfig); env != "" {
		return env, true, nil
	}
	switch _, err := os.Lstat(DefaultFile); {
	case err == nil:
		return DefaultFile, false, nil
	case errors.Is(err, fs.ErrNotExist):
		return "", false, nil
	default:
		return "", false, &errs.Error{Kind: errs.KindInput, Op: DefaultFile, Msg: "cannot check the configuration file: " + err.Error(), Err: err,
			Hint: "fix the working directory's permissions, or name the file with " + EnvConfig}
	}
}

// checkFile applies the file rules: path syntax, no symbolic link anywhere,
// a regular file, not writable by group or others.
func checkFile(path string, fromEnv bool) error {
	fail := func(msg, hint string, err error) error {
		if err != nil && !strings.Contains(msg, err.Error()) && !errors.Is(err, fs.ErrNotExist) {
			msg += ": " + err.Error()
		}
		return &errs.Error{Kind: errs.KindInput, Op: path, Msg: msg, Hint: hint, Err: err}
	}
	if v := checkPath("configuration file path", path); v != nil {
		return fail(v.msg, v.hint, nil)
	}
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		hint := "create it (docs show a full example), or name another file"
		if fromEnv {
			hint = "create it (docs show a full example), or unset " + EnvConfig + " to use ./" + DefaultFile + " or the defaults"
		}
		return fail("configuration file does not exist", hint, err)
	case err != nil:
		return fail("cannot read the configuration file", "check its permissions", err)
	case !fi.Mode().IsRegular():
		return fail("is not a regular file ("+fi.Mode().Type().String()+")", "point to a regular file", nil)
	case runtime.GOOS != "windows" && fi.Mode().Perm()&0o022 != 0:
		return fail(fmt.Sprintf("configuration file is writable by group or others (mode %04o)", fi.Mode().Perm()),
			"run: chmod go-w "+path, nil)
	case fi.Size() > maxFileSize:
		return fail(fmt.Sprintf("configuration file is %d bytes (limit %d)", fi.Size(), maxFileSize), "check that it is the right file", nil)
	}
	return nil
}

// loadFile reads, parses and path-resolves one file. lines maps each dotted
// key found in the file to its line, for validation messages.
func loadFile(path string, fromEnv bool) (Config, map[string]int, error) {
	if err := checkFile(path, fromEnv); err != nil {
		return Config{}, nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, nil, &errs.Error{Kind: errs.KindInput, Op: path, Msg: "cannot read the configuration file: " + err.Error(), Hint: "check its permissions", Err: err}
	}
	cfg, lines, err := parse(path, data)
	if err != nil {
		return Config{}, nil, err
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return Config{}, nil, &errs.Error{Kind: errs.KindInput, Op: path, Msg: "cannot resolve the configuration file's directory: " + err.Error(), Hint: "run from an existing directory", Err: err}
	}
	for _, p := range []struct {
		field string
		val   *string
	}{{"token.storage_path", &cfg.Token.StoragePath}, {"audit.log_path", &cfg.Audit.LogPath}} {
		if _, set := lines[p.field]; !set {
			continue
		}
		if v := checkPathSyntax(p.field, *p.val); v != nil {
			return Config{}, nil, &errs.Error{Kind: errs.KindInput, Op: path,
				Msg: fmt.Sprintf("line %d: %s: %s", lines[p.field], p.field, v.msg), Hint: v.hint}
		}
		if !filepath.IsAbs(*p.val) {
			*p.val = filepath.Join(dir, *p.val)
		}
	}
	return cfg, lines, nil
}

// parse decodes data over Default(), checking every section and key against
// Config's yaml tags so that an unknown one is reported with its line.
func parse(path string, data []byte) (Config, map[string]int, error) {
	cfg, lines := Default(), map[string]int{}
	fail := func(line int, hint string, format string, args ...any) (Config, map[string]int, error) {
		msg := fmt.Sprintf(format, args...)
		if line > 0 {
			msg = fmt.Sprintf("line %d: %s", line, msg)
		}
		return Config{}, nil, &errs.Error{Kind: errs.KindInput, Op: path, Msg: msg, Hint: hint}
	}
	const yamlHint = "fix the YAML syntax (docs show a full example)"

	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return cfg, lines, nil // empty file: all defaults
	} else if err != nil {
		return Config{}, nil, &errs.Error{Kind: errs.KindInput, Op: path, Msg: strings.TrimPrefix(err.Error(), "yaml: "), Hint: yamlHint, Err: err}
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		return fail(next.Line, "keep one document per file", "a second YAML document starts here")
	} else if !errors.Is(err, io.EOF) {
		return Config{}, nil, &errs.Error{Kind: errs.KindInput, Op: path, Msg: strings.TrimPrefix(err.Error(), "yaml: "), Hint: yamlHint, Err: err}
	}

	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if isNull(root) {
		return cfg, lines, nil
	}
	if root.Kind != yaml.MappingNode {
		return fail(root.Line, "start the file with a section name such as token:", "the top level must be a mapping of sections")
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		name := k.Value
		if prev, dup := seen[name]; dup {
			return fail(k.Line, "merge the two sections", "section %s is already defined at line %d", name, prev)
		}
		seen[name] = k.Line
		sec, ok := findSection(name)
		if k.Kind != yaml.ScalarNode || !ok {
			return fail(k.Line, unknownKeyHint("", name), "unknown section %q", name)
		}
		if isNull(v) {
			continue
		}
		if v.Kind != yaml.MappingNode {
			return fail(v.Line, "write the section's keys indented under "+name+":", "section %s must be a mapping of keys", name)
		}
		seenKey := map[string]int{}
		for j := 0; j+1 < len(v.Content); j += 2 {
			kk, vv := v.Content[j], v.Content[j+1]
			key := kk.Value
			if prev, dup := seenKey[key]; dup {
				return fail(kk.Line, "keep one of them", "key %q in section %s is already defined at line %d", key, name, prev)
			}
			seenKey[key] = kk.Line
			if _, ok := sec.field[key]; kk.Kind != yaml.ScalarNode || !ok {
				return fail(kk.Line, unknownKeyHint(name, key), "unknown key %q in section %s", key, name)
			}
			dotted := name + "." + key
			lines[dotted] = kk.Line
			ptr := fieldPtr(&cfg, sec, key)
			if err := vv.Decode(ptr); err != nil {
				return fail(vv.Line, fmt.Sprintf("set %s to %s", dotted, typeWord(ptr)),
					"%s: %s is not %s", dotted, describe(vv), typeWord(ptr))
			}
		}
	}

	// Belt and braces: the decoder's own strict mode must agree that every
	// key is known. The walk above already reported anything it would.
	check := Default()
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(&check); err != nil {
		return Config{}, nil, &errs.Error{Kind: errs.KindInput, Op: path, Msg: strings.TrimPrefix(err.Error(), "yaml: "), Hint: yamlHint, Err: err}
	}
	return cfg, lines, nil
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// typeWord names what a field accepts.
func typeWord(ptr any) string {
	switch ptr.(type) {
	case *bool:
		return "true or false"
	case *int:
		return "an integer"
	default:
		return "a string"
	}
}

// describe quotes a value node for an error message.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}
