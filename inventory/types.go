package inventory

// Disposition says how an object moves to the target.
type Disposition string

// The dispositions.
const (
	// Wrap: extractable key, wrapped out of the source under a transport key.
	Wrap Disposition = "wrap"
	// Copy: public object (public key, certificate, data), recreated as is.
	Copy Disposition = "copy"
	// Regenerate: the key cannot leave the source; make a new one on the target.
	Regenerate Disposition = "regenerate"
	// Blocked: the target lacks the key type or a needed mechanism (only
	// judged when Options.Target is given).
	Blocked Disposition = "blocked"
)

// Options controls Take.
type Options struct {
	// PIN is the user PIN; empty means no login: only public objects.
	PIN string
	// Target, when non-nil, is what the target supports; objects it cannot
	// take are marked Blocked. nil means "don't judge".
	Target *Capabilities
}

// Capabilities describes what a target module supports.
type Capabilities struct {
	Name       string     `json:"name" yaml:"name"`
	KeyTypes   []uint     `json:"key_types" yaml:"key_types"` // CKK_* values
	Mechanisms []MechInfo `json:"mechanisms" yaml:"mechanisms"`
}

// Inventory is a token's objects plus what was learnt about the token.
type Inventory struct {
	Library  LibraryInfo `json:"library" yaml:"library"`
	Token    TokenInfo   `json:"token" yaml:"token"`
	LoggedIn bool        `json:"logged_in" yaml:"logged_in"`
	Records  []Record    `json:"records" yaml:"records"`
	// Warnings are facts an operator must see: an empty token, a missing
	// PIN (public objects only), mismatched key/certificate pairs, ...
	Warnings []string `json:"warnings,omitempty" yaml:"warnings,omitempty"`
}

// LibraryInfo is C_GetInfo.
type LibraryInfo struct {
	Manufacturer    string `json:"manufacturer" yaml:"manufacturer"`
	Description     string `json:"description" yaml:"description"`
	Version         string `json:"version" yaml:"version"`                   // "2.6"
	CryptokiVersion string `json:"cryptoki_version" yaml:"cryptoki_version"` // "2.40"
}

// TokenInfo is C_GetTokenInfo plus the mechanism list of the slot.
type TokenInfo struct {
	Label           string     `json:"label" yaml:"label"`
	Serial          string     `json:"serial" yaml:"serial"`
	Model           string     `json:"model" yaml:"model"`
	Manufacturer    string     `json:"manufacturer" yaml:"manufacturer"`
	HardwareVersion string     `json:"hardware_version" yaml:"hardware_version"`
	FirmwareVersion string     `json:"firmware_version" yaml:"firmware_version"`
	Flags           []string   `json:"flags" yaml:"flags"` // "login_required", "token_initialized", ...
	Mechanisms      []MechInfo `json:"mechanisms" yaml:"mechanisms"`
}

// MechInfo is one mechanism with C_GetMechanismInfo's sizes and flags.
type MechInfo struct {
	Name  string   `json:"name" yaml:"name"` // "CKM_AES_KEY_WRAP_PAD"
	Code  uint     `json:"code" yaml:"code"`
	Min   uint     `json:"min" yaml:"min"`
	Max   uint     `json:"max" yaml:"max"`
	Flags []string `json:"flags" yaml:"flags"` // "encrypt", "wrap", "generate_key_pair", ...
}

// Has reports whether the mechanism has the named flag.
func (m MechInfo) Has(flag string) bool {
	for _, f := range m.Flags {
		if f == flag {
			return true
		}
	}
	return false
}

// Record is one object. It is flat so that every renderer (table, CSV,
// JSON, YAML) shows the same fields; the field order is the CSV column
// order (docs/inventory-format.md).
//
// Boolean attributes are *bool: nil means "not applicable to this class or
// not readable" (CSV: empty cell, JSON/YAML: null). Label and the other
// text fields use the text encoding of EncodeText: verbatim when printable
// UTF-8, "hex:..." otherwise, so that every encoding is lossless.
type Record struct {
	Label            string      `json:"label" yaml:"label" csv:"label"`
	ID               string      `json:"id" yaml:"id" csv:"id"`                          // CKA_ID, lowercase hex
	Class            string      `json:"class" yaml:"class" csv:"class"`                 // private-key, public-key, secret-key, certificate, data, or a CKO_ name
	KeyType          string      `json:"key_type" yaml:"key_type" csv:"key_type"`        // RSA, EC, EC_EDWARDS, AES, GENERIC_SECRET, ... ("" if not a key)
	Size             string      `json:"size" yaml:"size" csv:"size"`                    // RSA-2048, P-256, Ed25519, AES-256, GENERIC_SECRET-160
	Bits             int         `json:"bits" yaml:"bits" csv:"-"`                       // derived from Size
	Bytes            int         `json:"bytes,omitempty" yaml:"bytes,omitempty" csv:"-"` // secret keys: Bits/8
	Extractable      *bool       `json:"extractable" yaml:"extractable" csv:"extractable"`
	Sensitive        *bool       `json:"sensitive" yaml:"sensitive" csv:"sensitive"`
	Token            *bool       `json:"token" yaml:"token" csv:"token"`
	Private          *bool       `json:"private" yaml:"private" csv:"private"`
	Sign             *bool       `json:"sign" yaml:"sign" csv:"sign"`
	Verify           *bool       `json:"verify" yaml:"verify" csv:"verify"`
	Encrypt          *bool       `json:"encrypt" yaml:"encrypt" csv:"encrypt"`
	Decrypt          *bool       `json:"decrypt" yaml:"decrypt" csv:"decrypt"`
	Wrap             *bool       `json:"wrap" yaml:"wrap" csv:"wrap"`
	Unwrap           *bool       `json:"unwrap" yaml:"unwrap" csv:"unwrap"`
	Derive           *bool       `json:"derive" yaml:"derive" csv:"derive"`
	Local            *bool       `json:"local" yaml:"local" csv:"local"`
	AlwaysSensitive  *bool       `json:"always_sensitive" yaml:"always_sensitive" csv:"always_sensitive"`
	NeverExtractable *bool       `json:"never_extractable" yaml:"never_extractable" csv:"never_extractable"`
	Modifiable       *bool       `json:"modifiable" yaml:"modifiable" csv:"modifiable"`
	Fingerprint      string      `json:"fingerprint" yaml:"fingerprint" csv:"fingerprint"`    // SHA-256 of the SubjectPublicKeyInfo DER, hex
	CheckValue       string      `json:"check_value" yaml:"check_value" csv:"check_value"`    // hex, computed in the token
	CheckMethod      string      `json:"check_method" yaml:"check_method" csv:"check_method"` // how, or "none: why"
	Subject          string      `json:"subject" yaml:"subject" csv:"subject"`                // certificates
	Issuer           string      `json:"issuer" yaml:"issuer" csv:"issuer"`
	Serial           string      `json:"serial" yaml:"serial" csv:"serial"`          // lowercase hex
	NotAfter         string      `json:"not_after" yaml:"not_after" csv:"not_after"` // RFC 3339, UTC
	Links            []string    `json:"links" yaml:"links" csv:"links"`             // identities sharing this CKA_ID
	Disposition      Disposition `json:"disposition" yaml:"disposition" csv:"disposition"`
	Reason           string      `json:"reason" yaml:"reason" csv:"reason"`
	Identity         string      `json:"identity" yaml:"identity" csv:"identity"` // handle-independent key of the record
}

// Class names used in Record.Class.
const (
	ClassPrivateKey  = "private-key"
	ClassPublicKey   = "public-key"
	ClassSecretKey   = "secret-key"
	ClassCertificate = "certificate"
	ClassData        = "data"
)

// Count returns how many records have disposition d.
func (inv *Inventory) Count(d Disposition) int {
	n := 0
	for _, r := range inv.Records {
		if r.Disposition == d {
			n++
		}
	}
	return n
}

// Find returns the records with this class and label (encoded form).
func (inv *Inventory) Find(class, label string) []Record {
	var out []Record
	for _, r := range inv.Records {
		if r.Class == class && r.Label == label {
			out = append(out, r)
		}
	}
	return out
}

// T and F are for building records in code and tests.
func T() *bool { v := true; return &v }

// F returns a pointer to false.
func F() *bool { v := false; return &v }

// Is reports whether p is set and true.
func Is(p *bool) bool { return p != nil && *p }

// IsFalse reports whether p is set and false.
func IsFalse(p *bool) bool { return p != nil && !*p }
