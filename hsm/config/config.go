package config

import (
	"os"
	"path/filepath"
	"runtime"
)

// File and environment names.
const (
	// DefaultFile is the file Load reads from the working directory when
	// neither a path nor $CRATON_HSM_CONFIG is given (Craton: craton_hsm.toml).
	DefaultFile = "craton_hsm.yaml"
	// EnvConfig names the configuration file when Load is given no path.
	EnvConfig = "CRATON_HSM_CONFIG"
	// EnvFIPS set to "1" (or "true") forces algorithms.fips_approved_only on,
	// whatever the file says; "0", "false" or unset leave the file's value.
	// Any other value is an error, so that a typo cannot silently leave FIPS
	// mode off. Craton instead ignores the file entirely under
	// CRATON_HSM_FIPS=1 and also turns enable_pqc off; here the file is still
	// read (its paths and limits still apply) and only fips_approved_only is
	// forced, which in turn makes Validate require audit.enabled=true,
	// allow_sha1_signing=false and allow_weak_rsa=false.
	EnvFIPS = "CRATON_HSM_FIPS"
)

// Config is the whole configuration. The zero value is not valid; start
// from Default.
type Config struct {
	Token      Token      `yaml:"token"`
	Security   Security   `yaml:"security"`
	Algorithms Algorithms `yaml:"algorithms"`
	Audit      Audit      `yaml:"audit"`
}

// Token is the [token] section: the slots and what each token reports.
type Token struct {
	// Label is the token label before C_InitToken replaces it: 1–32 bytes
	// of printable ASCII, space-padded to 32 in CK_TOKEN_INFO.
	Label string `yaml:"label"`
	// StoragePath is the directory of the engine's store (created if
	// missing). See DefaultStoragePath.
	StoragePath string `yaml:"storage_path"`
	// PersistObjects enables the encrypted object store and the token-state
	// files under StoragePath (Craton: both need persist_objects=true;
	// lockout counters are stored either way). Default false, as in Craton:
	// without it tokens live in memory and vanish when the process exits.
	PersistObjects bool `yaml:"persist_objects"`
	// SlotCount is the number of slots, IDs 0..SlotCount-1, each with a token.
	SlotCount int `yaml:"slot_count"`
	// SerialNumber is every token's serialNumber: 1–16 printable ASCII
	// bytes. Quote it in YAML ("0000000000000001") to keep leading zeros
	// obvious to readers; an unquoted number is taken literally as written.
	SerialNumber string `yaml:"serial_number"`
	// MaxSessions is ulMaxSessionCount, per token.
	MaxSessions int `yaml:"max_sessions"`
	// MaxRWSessions is ulMaxRwSessionCount, per token; at most MaxSessions.
	MaxRWSessions int `yaml:"max_rw_sessions"`
}

// Security is the [security] section: PIN rules and key derivation.
type Security struct {
	// PINMinLength and PINMaxLength bound every SO and user PIN, in bytes
	// (CKR_PIN_LEN_RANGE outside). Craton's operator runbook says the
	// minimum defaults to 4; its code defaults to 8, which is what we use
	// (reference §17.13). 4 is only the lowest value the file may set.
	PINMinLength int `yaml:"pin_min_length"`
	PINMaxLength int `yaml:"pin_max_length"`
	// MaxFailedLogins is the number of consecutive wrong PINs after which a
	// PIN is locked (CKR_PIN_LOCKED).
	MaxFailedLogins int `yaml:"max_failed_logins"`
	// PBKDF2Iterations is the PBKDF2-HMAC-SHA256 count for PIN verifiers and
	// PIN-derived KEKs. Craton's persistence.md says 1,000,000; its code uses
	// this setting, default 600,000 (reference §17.1). Craton debug builds
	// default to 1 and accept 1–10,000,000; Go has no debug builds, so the
	// release bounds always apply.
	PBKDF2Iterations int `yaml:"pbkdf2_iterations"`
}

// Algorithms is the [algorithms] section: which mechanisms are offered.
type Algorithms struct {
	// FIPSApprovedOnly restricts the engine to FIPS-approved mechanisms and
	// key sizes. Forced on by CRATON_HSM_FIPS=1 (see EnvFIPS).
	FIPSApprovedOnly bool `yaml:"fips_approved_only"`
	// EnablePQC offers the ML-KEM, ML-DSA, SLH-DSA and hybrid mechanisms.
	EnablePQC bool `yaml:"enable_pqc"`
	// AllowSHA1Signing permits signatures over SHA-1; must be false in FIPS
	// mode.
	AllowSHA1Signing bool `yaml:"allow_sha1_signing"`
	// AllowWeakRSA is accepted for compatibility with Craton files and has
	// no effect: RSA below 2048 bits is always refused (as in Craton, where
	// nothing reads it either, reference §17.18). Like Craton, it must be
	// false in FIPS mode.
	AllowWeakRSA bool `yaml:"allow_weak_rsa"`
}

// Audit is the [audit] section: the hash-chained audit log.
type Audit struct {
	// Enabled writes the audit log to LogPath; false keeps it in memory
	// only. Must be true in FIPS mode.
	Enabled bool `yaml:"enabled"`
	// LogPath is the JSON Lines audit file (created 0600, append-only).
	LogPath string `yaml:"log_path"`
	// LogLevel is accepted for compatibility with Craton files and has no
	// effect: one of all, crypto, auth, admin, none is required, and every
	// event is logged whatever it says. Craton's docs call it a verbosity
	// control, but its code validates it and never reads it (reference
	// §8, §17.9); an audit trail that a setting can thin out would not be
	// one, so we keep Craton's behaviour.
	LogLevel string `yaml:"log_level"`
}

// Default values (Craton's code, reference §11).
const (
	DefaultLabel            = "Craton HSM Token 0"
	DefaultSerialNumber     = "0000000000000001"
	DefaultSlotCount        = 1
	DefaultMaxSessions      = 100
	DefaultMaxRWSessions    = 10
	DefaultPINMinLength     = 8
	DefaultPINMaxLength     = 64
	DefaultMaxFailedLogins  = 10
	DefaultPBKDF2Iterations = 600_000
	DefaultLogPath          = "craton_hsm_audit.jsonl"
	DefaultLogLevel         = "all"
	// LocalStorageDir is the storage directory, relative to the working
	// directory, used when the system directory does not exist.
	LocalStorageDir = "craton_hsm_store"
)

// Allowed ranges (Craton's code, reference §9.2, §9.4, §11).
const (
	MinSlotCount        = 1
	MaxSlotCount        = 256
	MinMaxSessions      = 1
	MaxMaxSessions      = 10_000
	MinPINLength        = 4   // lowest pin_min_length
	MaxPINLength        = 256 // highest pin_max_length (also the ABI cap)
	MinFailedLogins     = 3
	MaxFailedLogins     = 100
	MinPBKDF2Iterations = 100_000
	MaxPBKDF2Iterations = 10_000_000
	MaxLabelLength      = 32
	MaxSerialLength     = 16
)

// LogLevels are the values audit.log_level accepts.
var LogLevels = []string{"all", "crypto", "auth", "admin", "none"}

// systemStorageDir is Craton's system store directory for this platform; a
// variable so tests can point it elsewhere.
var systemStorageDir = func() string {
	if runtime.GOOS == "windows" {
		pd := os.Getenv("PROGRAMDATA")
		if pd == "" {
			return ""
		}
		return filepath.Join(pd, "craton-hsm", "store")
	}
	return "/var/lib/craton-hsm/store"
}

// DefaultStoragePath is Craton's default store directory:
// /var/lib/craton-hsm/store (%PROGRAMDATA%\craton-hsm\store on Windows) when
// its parent directory exists, otherwise craton_hsm_store relative to the
// working directory. (Craton logs a warning in the second case; the engine
// may do the same by comparing with LocalStorageDir.)
func DefaultStoragePath() string {
	if sys := systemStorageDir(); sys != "" {
		if fi, err := os.Stat(filepath.Dir(sys)); err == nil && fi.IsDir() {
			return sys
		}
	}
	return LocalStorageDir
}

// Default returns Craton's default configuration. Relative default paths are
// relative to the working directory.
func Default() Config {
	return Config{
		Token: Token{
			Label:          DefaultLabel,
			StoragePath:    DefaultStoragePath(),
			PersistObjects: false,
			SlotCount:      DefaultSlotCount,
			SerialNumber:   DefaultSerialNumber,
			MaxSessions:    DefaultMaxSessions,
			MaxRWSessions:  DefaultMaxRWSessions,
		},
		Security: Security{
			PINMinLength:     DefaultPINMinLength,
			PINMaxLength:     DefaultPINMaxLength,
			MaxFailedLogins:  DefaultMaxFailedLogins,
			PBKDF2Iterations: DefaultPBKDF2Iterations,
		},
		Algorithms: Algorithms{
			FIPSApprovedOnly: false,
			EnablePQC:        true,
			AllowSHA1Signing: false,
			AllowWeakRSA:     false,
		},
		Audit: Audit{
			Enabled:  true,
			LogPath:  DefaultLogPath,
			LogLevel: DefaultLogLevel,
		},
	}
}
