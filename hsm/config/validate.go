package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/craton-co/craton/errs"
)

// violation is one broken rule: the dotted field ("security.pin_min_length"),
// what is wrong and how to fix it. Load turns it into an error that also
// names the file and line; Validate into one without them.
type violation struct {
	field string
	msg   string
	hint  string
}

// Validate checks every rule of reference §11 and returns the first broken
// one as an *errs.Error of kind errs.KindInput, naming the field, the value
// and the allowed range. It also checks storage_path and log_path (see
// checkPath), which looks at the file system for symbolic links.
func (c Config) Validate() error {
	if v := c.validate(); v != nil {
		return &errs.Error{Kind: errs.KindInput, Op: "config", Msg: v.field + ": " + v.msg, Hint: v.hint}
	}
	return nil
}

func (c Config) validate() *violation {
	for _, check := range []func() *violation{
		func() *violation { return asciiField("token.label", c.Token.Label, MaxLabelLength) },
		func() *violation { return checkPath("token.storage_path", c.Token.StoragePath) },
		func() *violation {
			return intRange("token.slot_count", c.Token.SlotCount, MinSlotCount, MaxSlotCount, "", "")
		},
		func() *violation { return asciiField("token.serial_number", c.Token.SerialNumber, MaxSerialLength) },
		func() *violation {
			return intRange("token.max_sessions", c.Token.MaxSessions, MinMaxSessions, MaxMaxSessions, "", "")
		},
		func() *violation {
			return intRange("token.max_rw_sessions", c.Token.MaxRWSessions, 1, c.Token.MaxSessions, "", "token.max_sessions")
		},
		func() *violation {
			return intRange("security.pin_min_length", c.Security.PINMinLength, MinPINLength, MaxPINLength, "", "")
		},
		func() *violation {
			return intRange("security.pin_max_length", c.Security.PINMaxLength, c.Security.PINMinLength, MaxPINLength, "security.pin_min_length", "")
		},
		func() *violation {
			return intRange("security.max_failed_logins", c.Security.MaxFailedLogins, MinFailedLogins, MaxFailedLogins, "", "")
		},
		func() *violation {
			return intRange("security.pbkdf2_iterations", c.Security.PBKDF2Iterations, MinPBKDF2Iterations, MaxPBKDF2Iterations, "", "")
		},
		c.validateFIPS,
		func() *violation {
			if !c.Audit.Enabled {
				return nil // in-memory log: log_path is not used
			}
			return checkPath("audit.log_path", c.Audit.LogPath)
		},
		func() *violation {
			if slices.Contains(LogLevels, c.Audit.LogLevel) {
				return nil
			}
			return &violation{"audit.log_level", fmt.Sprintf("%q is not a log level (allowed: %s)", c.Audit.LogLevel, strings.Join(LogLevels, ", ")),
				`set audit.log_level to "all" (the setting is accepted for compatibility; every event is always logged)`}
		},
	} {
		if v := check(); v != nil {
			return v
		}
	}
	return nil
}

// validateFIPS holds the rules that only apply in FIPS mode.
func (c Config) validateFIPS() *violation {
	if !c.Algorithms.FIPSApprovedOnly {
		return nil
	}
	const off = "or turn algorithms.fips_approved_only off (and unset " + EnvFIPS + ")"
	switch {
	case !c.Audit.Enabled:
		return &violation{"audit.enabled", "false is not allowed when algorithms.fips_approved_only is true",
			"set audit.enabled: true, " + off}
	case c.Algorithms.AllowSHA1Signing:
		return &violation{"algorithms.allow_sha1_signing", "true is not allowed when algorithms.fips_approved_only is true",
			"set algorithms.allow_sha1_signing: false, " + off}
	case c.Algorithms.AllowWeakRSA:
		return &violation{"algorithms.allow_weak_rsa", "true is not allowed when algorithms.fips_approved_only is true",
			"set algorithms.allow_weak_rsa: false (it has no effect anyway), " + off}
	}
	return nil
}

// intRange checks lo <= v <= hi. loName and hiName, when set, say which
// other field a bound comes from.
func intRange(field string, v, lo, hi int, loName, hiName string) *violation {
	if v >= lo && v <= hi {
		return nil
	}
	bound := func(n int, name string) string {
		if name == "" {
			return fmt.Sprint(n)
		}
		return fmt.Sprintf("%s (%d)", name, n)
	}
	allowed := bound(lo, loName) + " to " + bound(hi, hiName)
	return &violation{field, fmt.Sprintf("%d is out of range (allowed %s)", v, allowed),
		fmt.Sprintf("set %s to a value from %d to %d", field, lo, hi)}
}

// asciiField checks a 1..maxLen byte string of printable ASCII (0x20–0x7E).
func asciiField(field, v string, maxLen int) *violation {
	bad := func(why string) *violation {
		return &violation{field, fmt.Sprintf("%q %s (allowed: 1–%d bytes of printable ASCII)", v, why, maxLen),
			fmt.Sprintf("set %s to 1–%d printable ASCII characters", field, maxLen)}
	}
	if v == "" {
		return bad("is empty")
	}
	if len(v) > maxLen {
		return bad(fmt.Sprintf("is %d bytes long", len(v)))
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7E {
			return bad(fmt.Sprintf("has a non-printable or non-ASCII byte at offset %d", i))
		}
	}
	return nil
}
