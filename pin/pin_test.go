package pin

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/craton-co/craton/errs"
)

type fakeTTY struct {
	tty    bool
	secret string
	reads  int
}

func (f *fakeTTY) IsStdinTTY() bool { return f.tty }
func (f *fakeTTY) ReadSecret() ([]byte, error) {
	f.reads++
	return []byte(f.secret), nil
}

func src() Source {
	return Source{Role: "user PIN", FileFlag: "--pin-file", EnvFlag: "--pin-env"}
}

func TestFile(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		content, want, errPart string
	}{
		"newline":    {"1234\n", "1234", ""},
		"crlf":       {"12 34\r\n", "12 34", ""},
		"no newline": {"abcd", "abcd", ""},
		"empty":      {"\n", "", "is empty"},
		"two lines":  {"1234\n5678\n", "", "more than one line"},
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
			if err := os.WriteFile(p, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			s := src()
			s.File = p
			got, err := s.Read(nil, nil)
			if tc.errPart != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errPart) || errs.KindOf(err) != errs.KindUsage {
					t.Fatalf("err = %v, want usage error containing %q", err, tc.errPart)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	s := src()
	s.File = filepath.Join(dir, "missing")
	if _, err := s.Read(nil, nil); err == nil || !strings.Contains(err.Error(), "--pin-file") {
		t.Fatalf("missing file: err = %v", err)
	}
}

func TestEnv(t *testing.T) {
	t.Setenv("CRATON_TEST_PIN", "s3cret")
	s := src()
	s.Env = "CRATON_TEST_PIN"
	if got, err := s.Read(nil, nil); err != nil || got != "s3cret" {
		t.Fatalf("got %q, %v", got, err)
	}
	s.Env = "CRATON_TEST_PIN_UNSET"
	_, err := s.Read(nil, nil)
	if err == nil || !strings.Contains(err.Error(), "CRATON_TEST_PIN_UNSET") {
		t.Fatalf("unset env: err = %v", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Fatal("error leaks a PIN")
	}
}

func TestNoTTYNoSource(t *testing.T) {
	f := &fakeTTY{tty: false, secret: "1234"}
	_, err := src().Read(f, &bytes.Buffer{})
	if err == nil || errs.KindOf(err) != errs.KindUsage {
		t.Fatalf("err = %v, want usage error", err)
	}
	for _, part := range []string{"no source for the user PIN", "--pin-file", "--pin-env"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q lacks %q", err, part)
		}
	}
	if f.reads != 0 {
		t.Error("prompted without a terminal")
	}
}

func TestPrompt(t *testing.T) {
	f := &fakeTTY{tty: true, secret: "9876"}
	var prompt bytes.Buffer
	got, err := src().Read(f, &prompt)
	if err != nil || got != "9876" {
		t.Fatalf("got %q, %v", got, err)
	}
	if !strings.HasPrefix(prompt.String(), "User PIN: ") || strings.Contains(prompt.String(), "9876") {
		t.Fatalf("prompt = %q", prompt.String())
	}
}

func TestBothSources(t *testing.T) {
	s := src()
	s.File, s.Env = "x", "Y"
	if _, err := s.Read(nil, nil); err == nil || errs.KindOf(err) != errs.KindUsage {
		t.Fatalf("err = %v", err)
	}
}
