package config

import (
	"bytes"

	"gopkg.in/yaml.v3"

	"github.com/craton-co/craton/errs"
)

// Example is a complete craton_hsm.yaml with every key at its default value
// and a comment on each; docs/ shows it, and a test loads it with Load. The
// only value that is not literally Default()'s is storage_path, whose
// default depends on the machine (see DefaultStoragePath).
const Example = `# craton_hsm.yaml — configuration of craton's embedded Craton HSM engine.
#
# Found as: an explicit path, else $CRATON_HSM_CONFIG, else ./craton_hsm.yaml,
# else built-in defaults. Every key is optional; a missing key keeps the
# default shown here. An unknown or misspelt key is an error.
# The file must not be a symbolic link or writable by group or others.
# Relative paths below are relative to THIS FILE's directory.
# CRATON_HSM_FIPS=1 in the environment forces fips_approved_only: true.

token:
  # Token label until C_InitToken sets one: 1-32 printable ASCII bytes.
  label: "Craton HSM Token 0"
  # Directory of the engine's store (created if missing). Default:
  # /var/lib/craton-hsm/store if /var/lib/craton-hsm exists, otherwise
  # craton_hsm_store in the working directory. No "..", no symbolic links.
  storage_path: craton_hsm_store
  # Keep token objects and token state on disk (encrypted) under
  # storage_path. false: tokens live in memory and vanish at exit.
  persist_objects: false
  # Number of slots (IDs 0..slot_count-1), each holding one token: 1-256.
  slot_count: 1
  # serialNumber reported by every token: 1-16 printable ASCII bytes.
  serial_number: "0000000000000001"
  # Sessions per token (ulMaxSessionCount): 1-10000.
  max_sessions: 100
  # Read-write sessions per token (ulMaxRwSessionCount): 1-max_sessions.
  max_rw_sessions: 10

security:
  # PIN length bounds in bytes, for SO and user PINs (CKR_PIN_LEN_RANGE).
  # pin_min_length: 4-256; pin_max_length: pin_min_length-256.
  pin_min_length: 8
  pin_max_length: 64
  # Consecutive wrong PINs before the PIN is locked (CKR_PIN_LOCKED): 3-100.
  max_failed_logins: 10
  # PBKDF2-HMAC-SHA256 iterations for PIN verifiers and PIN-derived keys:
  # 100000-10000000.
  pbkdf2_iterations: 600000

algorithms:
  # Offer only FIPS-approved mechanisms and key sizes. When true,
  # audit.enabled must be true and the two allow_* keys below false.
  fips_approved_only: false
  # Offer ML-KEM, ML-DSA, SLH-DSA and the hybrid mechanisms.
  enable_pqc: true
  # Allow signatures over SHA-1.
  allow_sha1_signing: false
  # Accepted for compatibility with Craton files; no effect: RSA keys
  # below 2048 bits are always refused.
  allow_weak_rsa: false

audit:
  # Write the hash-chained audit log to log_path (fsynced per event).
  # false keeps it in memory only (not allowed with fips_approved_only).
  enabled: true
  # JSON Lines audit file, created with mode 0600. No "..", no symbolic links.
  log_path: craton_hsm_audit.jsonl
  # Accepted for compatibility with Craton files; no effect: every event is
  # always logged. One of: all, crypto, auth, admin, none.
  log_level: all
`

// Marshal renders c as YAML that Load reads back to the same Config (paths
// are written as they are in c). It has no comments; Example is the
// annotated form.
func Marshal(c Config) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, &errs.Error{Kind: errs.KindInternal, Op: "config", Msg: "cannot render the configuration: " + err.Error(), Err: err}
	}
	if err := enc.Close(); err != nil {
		return nil, &errs.Error{Kind: errs.KindInternal, Op: "config", Msg: "cannot render the configuration: " + err.Error(), Err: err}
	}
	return buf.Bytes(), nil
}
