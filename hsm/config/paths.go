package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// hiddenDirs are the directories a relative path must not start with, so a
// store or log is never written into a repository or credential directory
// of the working directory (Craton's list).
var hiddenDirs = []string{".git", ".ssh", ".gnupg", ".aws", ".config", ".env"}

// checkPath applies Craton's path rules (reference §11) to storage_path and
// log_path: checkPathSyntax, then no component that exists may be a
// symbolic link. Absolute paths are allowed: Craton's security-model.md,
// troubleshooting.md and the validation list of configuration-reference.md
// say they are rejected, but its code, its test
// test_config_absolute_path_accepted and the same reference's field table
// accept them (reference §17.11); we follow the code.
func checkPath(field, p string) *violation {
	if v := checkPathSyntax(field, p); v != nil {
		return v
	}
	if link, err := firstSymlink(p); err != nil {
		return &violation{field, fmt.Sprintf("%q cannot be checked: %v", p, err),
			"check the permissions of the directories in " + field}
	} else if link != "" {
		return &violation{field, fmt.Sprintf("%q goes through the symbolic link %q (not allowed)", p, link),
			"set " + field + " to the link's real target, with no symbolic link on the way"}
	}
	return nil
}

// checkPathSyntax is the part of checkPath that does not look at the file
// system: not empty, no NUL byte, no UNC prefix (\\ or //), no ".."
// component, and a relative path must not start with one of hiddenDirs.
func checkPathSyntax(field, p string) *violation {
	bad := func(msg, hint string) *violation {
		return &violation{field, fmt.Sprintf("%q %s", p, msg), hint}
	}
	fix := "set " + field + " to a path without it"
	switch {
	case p == "":
		return bad("is empty", "set "+field+" to a path")
	case strings.ContainsRune(p, 0):
		return bad("contains a NUL byte", fix)
	case strings.HasPrefix(p, `\\`) || strings.HasPrefix(p, "//"):
		return bad("is a UNC or network path (not allowed)", "set "+field+" to a local path")
	}
	parts := strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' })
	for _, c := range parts {
		if c == ".." {
			return bad(`has a ".." component (not allowed)`, fix)
		}
	}
	for len(parts) > 0 && parts[0] == "." {
		parts = parts[1:]
	}
	if !filepath.IsAbs(p) && len(parts) > 0 {
		for _, h := range hiddenDirs {
			if parts[0] == h {
				return bad(fmt.Sprintf("starts with %s (not allowed for relative paths)", h),
					"set "+field+" to a path outside "+h+", or to an absolute path")
			}
		}
	}
	return nil
}

// firstSymlink returns the first existing component of p (from the root, or
// from the working directory for a relative path) that is a symbolic link,
// or "" if there is none. It stops at the first component that does not
// exist.
func firstSymlink(p string) (string, error) {
	clean := filepath.Clean(p)
	var prefixes []string
	for cur := clean; ; {
		prefixes = append(prefixes, cur)
		parent := filepath.Dir(cur)
		if parent == cur || parent == "." {
			break
		}
		cur = parent
	}
	for i := len(prefixes) - 1; i >= 0; i-- {
		fi, err := os.Lstat(prefixes[i])
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return prefixes[i], nil
		}
	}
	return "", nil
}
