package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateRules(t *testing.T) {
	noSystemDir(t)
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Fatal(err)
	}
	abs := filepath.Join(t.TempDir(), "store")

	tests := []struct {
		name string
		edit func(*Config)
		want []string // substrings of the error; nil = valid
	}{
		{"defaults", func(*Config) {}, nil},
		{"absolute paths accepted", func(c *Config) { c.Token.StoragePath = abs; c.Audit.LogPath = abs + ".jsonl" }, nil},

		{"label empty", func(c *Config) { c.Token.Label = "" }, []string{"token.label", `""`, "1–32 bytes of printable ASCII"}},
		{"label 33 bytes", func(c *Config) { c.Token.Label = strings.Repeat("x", 33) }, []string{"token.label", "33 bytes", "1–32"}},
		{"label 32 bytes ok", func(c *Config) { c.Token.Label = strings.Repeat("x", 32) }, nil},
		{"label non-ASCII", func(c *Config) { c.Token.Label = "tökén" }, []string{"token.label", "non-ASCII", "offset 1"}},
		{"label control", func(c *Config) { c.Token.Label = "a\tb" }, []string{"token.label", "offset 1"}},

		{"storage_path empty", func(c *Config) { c.Token.StoragePath = "" }, []string{"token.storage_path", "is empty"}},
		{"storage_path dotdot", func(c *Config) { c.Token.StoragePath = "a/../b" }, []string{"token.storage_path", `".."`}},
		{"storage_path UNC", func(c *Config) { c.Token.StoragePath = `\\server\share` }, []string{"token.storage_path", "UNC"}},
		{"storage_path //", func(c *Config) { c.Token.StoragePath = "//server/share" }, []string{"token.storage_path", "UNC"}},
		{"storage_path NUL", func(c *Config) { c.Token.StoragePath = "a\x00b" }, []string{"token.storage_path", "NUL"}},
		{"storage_path .git", func(c *Config) { c.Token.StoragePath = ".git/store" }, []string{"token.storage_path", "starts with .git"}},
		{"storage_path .ssh", func(c *Config) { c.Token.StoragePath = "./.ssh/x" }, []string{"token.storage_path", "starts with .ssh"}},
		{"storage_path .github ok", func(c *Config) { c.Token.StoragePath = ".github-store" }, nil},
		{"storage_path symlink", func(c *Config) { c.Token.StoragePath = filepath.Join(link, "store") }, []string{"token.storage_path", "symbolic link", link}},

		{"slot_count 0", func(c *Config) { c.Token.SlotCount = 0 }, []string{"token.slot_count", "0 is out of range (allowed 1 to 256)"}},
		{"slot_count 257", func(c *Config) { c.Token.SlotCount = 257 }, []string{"token.slot_count", "257", "1 to 256"}},
		{"slot_count 256 ok", func(c *Config) { c.Token.SlotCount = 256 }, nil},

		{"serial empty", func(c *Config) { c.Token.SerialNumber = "" }, []string{"token.serial_number", "1–16"}},
		{"serial 17", func(c *Config) { c.Token.SerialNumber = strings.Repeat("1", 17) }, []string{"token.serial_number", "17 bytes"}},
		{"serial non-printable", func(c *Config) { c.Token.SerialNumber = "12\x7f" }, []string{"token.serial_number", "offset 2"}},

		{"max_sessions 0", func(c *Config) { c.Token.MaxSessions = 0; c.Token.MaxRWSessions = 0 }, []string{"token.max_sessions", "0", "1 to 10000"}},
		{"max_sessions 10001", func(c *Config) { c.Token.MaxSessions = 10001 }, []string{"token.max_sessions", "10001", "1 to 10000"}},
		{"max_rw_sessions 0", func(c *Config) { c.Token.MaxRWSessions = 0 }, []string{"token.max_rw_sessions", "0 is out of range (allowed 1 to token.max_sessions (100))"}},
		{"max_rw_sessions > max", func(c *Config) { c.Token.MaxRWSessions = 101 }, []string{"token.max_rw_sessions", "101", "token.max_sessions (100)"}},
		{"max_rw_sessions = max ok", func(c *Config) { c.Token.MaxRWSessions = 100 }, nil},

		{"pin_min_length 3", func(c *Config) { c.Security.PINMinLength = 3 }, []string{"security.pin_min_length", "3 is out of range (allowed 4 to 256)"}},
		{"pin_min_length 4 ok", func(c *Config) { c.Security.PINMinLength = 4 }, nil},
		{"pin_max_length < min", func(c *Config) { c.Security.PINMaxLength = 7 }, []string{"security.pin_max_length", "7 is out of range (allowed security.pin_min_length (8) to 256)"}},
		{"pin_max_length 257", func(c *Config) { c.Security.PINMaxLength = 257 }, []string{"security.pin_max_length", "257"}},
		{"pin_max_length = min ok", func(c *Config) { c.Security.PINMaxLength = 8 }, nil},

		{"max_failed_logins 2", func(c *Config) { c.Security.MaxFailedLogins = 2 }, []string{"security.max_failed_logins", "2", "3 to 100"}},
		{"max_failed_logins 101", func(c *Config) { c.Security.MaxFailedLogins = 101 }, []string{"security.max_failed_logins", "101", "3 to 100"}},

		{"pbkdf2 99999", func(c *Config) { c.Security.PBKDF2Iterations = 99_999 }, []string{"security.pbkdf2_iterations", "99999", "100000 to 10000000"}},
		{"pbkdf2 10000001", func(c *Config) { c.Security.PBKDF2Iterations = 10_000_001 }, []string{"security.pbkdf2_iterations", "10000001"}},

		{"fips audit off", func(c *Config) { c.Algorithms.FIPSApprovedOnly = true; c.Audit.Enabled = false }, []string{"audit.enabled", "fips_approved_only"}},
		{"fips sha1", func(c *Config) { c.Algorithms.FIPSApprovedOnly = true; c.Algorithms.AllowSHA1Signing = true }, []string{"algorithms.allow_sha1_signing", "fips_approved_only"}},
		{"fips weak rsa", func(c *Config) { c.Algorithms.FIPSApprovedOnly = true; c.Algorithms.AllowWeakRSA = true }, []string{"algorithms.allow_weak_rsa", "fips_approved_only"}},
		{"sha1 without fips ok", func(c *Config) { c.Algorithms.AllowSHA1Signing = true; c.Algorithms.AllowWeakRSA = true }, nil},
		{"fips ok", func(c *Config) { c.Algorithms.FIPSApprovedOnly = true }, nil},

		{"log_path empty", func(c *Config) { c.Audit.LogPath = "" }, []string{"audit.log_path", "is empty"}},
		{"log_path dotdot", func(c *Config) { c.Audit.LogPath = "../audit.jsonl" }, []string{"audit.log_path", `".."`}},
		{"log_path .aws", func(c *Config) { c.Audit.LogPath = ".aws/audit.jsonl" }, []string{"audit.log_path", ".aws"}},
		{"log_path symlink", func(c *Config) { c.Audit.LogPath = filepath.Join(link, "a.jsonl") }, []string{"audit.log_path", "symbolic link"}},
		{"audit off: log_path unused", func(c *Config) { c.Audit.Enabled = false; c.Audit.LogPath = "" }, nil},
		{"log_level bad", func(c *Config) { c.Audit.LogLevel = "debug" }, []string{"audit.log_level", `"debug"`, "all, crypto, auth, admin, none"}},
		{"log_level none ok", func(c *Config) { c.Audit.LogLevel = "none" }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.edit(&c)
			err := c.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			inputErr(t, err, tt.want...)
		})
	}
}
