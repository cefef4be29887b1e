package wrapmove

import (
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

// PlanVersion is the plan file format version written by WritePlan.
const PlanVersion = 1

// Actions a plan can give an object.
const (
	ActWrap       = "wrap"       // wrap on the source, unwrap on the target, prove
	ActCopy       = "copy"       // public object: create by value on the target
	ActRegenerate = "regenerate" // cannot leave the source: new key on the target
	ActSkip       = "skip"       // already on the target and proven
	ActBlocked    = "blocked"    // cannot be moved by craton; Reason says why
)

var validActions = map[string]bool{ActWrap: true, ActCopy: true, ActRegenerate: true, ActSkip: true, ActBlocked: true}

// Plan is the per-object list of actions for moving one token.
type Plan struct {
	Version   int       `yaml:"version"`
	Source    Endpoint  `yaml:"source"`
	Target    Endpoint  `yaml:"target"`
	CreatedAt time.Time `yaml:"created_at"`
	Actions   []Action  `yaml:"actions"`
}

// Endpoint names a module and a token. Slot numbers are never recorded:
// SoftHSMv2 renumbers slots.
type Endpoint struct {
	Module string `yaml:"module"`
	Token  string `yaml:"token"`
	Serial string `yaml:"serial,omitempty"`
}

// Action is what happens to one source object.
type Action struct {
	Identity    string   `yaml:"identity"`
	Label       string   `yaml:"label"`
	ID          string   `yaml:"id"` // CKA_ID, hex; may be empty
	Class       string   `yaml:"class"`
	KeyType     string   `yaml:"key_type,omitempty"`
	Size        int      `yaml:"size,omitempty"`  // bits
	Curve       string   `yaml:"curve,omitempty"` // EC and Edwards keys
	Action      string   `yaml:"action"`
	Mechanism   string   `yaml:"mechanism,omitempty"` // wrap: CKM_AES_KEY_WRAP_PAD or CKM_AES_KEY_WRAP
	Reason      string   `yaml:"reason,omitempty"`
	Usage       []string `yaml:"usage,omitempty"` // permitted operations (sign, decrypt, ...)
	Token       bool     `yaml:"token"`
	Private     bool     `yaml:"private"`
	Sensitive   bool     `yaml:"sensitive,omitempty"`
	Extractable bool     `yaml:"extractable,omitempty"`
	Fingerprint string   `yaml:"fingerprint,omitempty"`
}

// IDBytes decodes the hex CKA_ID (validated by ReadPlan).
func (a Action) IDBytes() []byte { b, _ := hex.DecodeString(a.ID); return b }

// Capabilities is what the planner and Move need to know about the modules.
type Capabilities struct {
	Manufacturer string        // target token manufacturer
	Model        string        // target token model
	Unwrap       map[uint]bool // target mechanisms with CKF_UNWRAP
	SourceWrap   map[uint]bool // source mechanisms with CKF_WRAP; nil = KW and KWP (every SoftHSM 2.x)
	// ExactSecretLength: the target honours CKA_VALUE_LEN in an unwrap
	// template and cuts the unwrapped secret to it. SoftHSMv2 does not (it
	// answers CKR_ATTRIBUTE_READ_ONLY and leaves an orphan), so a secret
	// whose length is not a multiple of 8 comes back zero-padded there.
	ExactSecretLength bool
	ECDH              bool // the target derives with CKM_ECDH1_DERIVE
	EdDSA             bool // the target generates Ed25519 keys
}

// IsSoftHSM reports a SoftHSMv2 target, whose unwrap quirks craton works around.
func (c Capabilities) IsSoftHSM() bool { return c.Manufacturer == softHSMManufacturer }

const softHSMManufacturer = "SoftHSM project"

func (c Capabilities) canWrap(mech uint) bool {
	if c.SourceWrap != nil && !c.SourceWrap[mech] {
		return false
	}
	return c.Unwrap == nil || c.Unwrap[mech]
}

// MakePlan decides an action per source object. Objects already present on
// the target with the same class, CKA_ID, label and fingerprint are
// skipped; the rest follow their disposition, checked against what the
// target can do. Public keys and certificates of regenerated keys are not
// copied: the new key pair replaces them and the certificate is reissued.
func MakePlan(objs []SourceObject, caps Capabilities, present []TargetObject) Plan {
	regen := map[string]bool{}
	for _, o := range objs {
		if o.Class == ClassPrivateKey && o.Disposition == ActRegenerate && len(o.ID) > 0 {
			regen[string(o.ID)] = true
		}
	}
	p := Plan{Version: PlanVersion, CreatedAt: time.Now().UTC().Truncate(time.Second)}
	for _, o := range objs {
		p.Actions = append(p.Actions, planOne(o, caps, present, regen))
	}
	sortActions(p.Actions)
	return p
}

func planOne(o SourceObject, caps Capabilities, present []TargetObject, regen map[string]bool) Action {
	a := actionFrom(o)
	switch o.Disposition {
	case ActWrap:
		mech, why := chooseMechanism(o, caps)
		if mech == 0 {
			a.Action, a.Reason = ActBlocked, why
			return a
		}
		a.Action, a.Mechanism, a.Reason = ActWrap, ck.MechName(mech), why
	case ActCopy:
		a.Action = ActCopy
		if regen[string(o.ID)] && (o.Class == ClassPublicKey || o.Class == ClassCertificate) {
			a.Action, a.Reason = ActRegenerate, "belongs to a key that is regenerated: "+regenNote(o.Class)
			return a
		}
	case ActRegenerate, ActBlocked:
		a.Action, a.Reason = o.Disposition, o.Reason
		return a
	default:
		a.Action, a.Reason = ActBlocked, fmt.Sprintf("unknown disposition %q: %s", o.Disposition, o.Reason)
		return a
	}
	if isPresent(o, present) {
		a.Action, a.Reason = ActSkip, "already on the target with the same CKA_ID, label and fingerprint"
	}
	return a
}

func regenNote(class string) string {
	if class == ClassCertificate {
		return "reissue it from the CSR written by regenerate"
	}
	return "regenerate creates the new public key"
}

func actionFrom(o SourceObject) Action {
	return Action{Identity: o.Identity(), Label: o.Label, ID: o.IDHex(), Class: o.Class, KeyType: o.KeyType,
		Size: o.Size, Curve: o.Curve, Reason: o.Reason, Usage: o.Usage, Token: o.Token, Private: o.Private,
		Sensitive: o.Sensitive, Extractable: o.Extractable, Fingerprint: o.Fingerprint}
}

func isPresent(o SourceObject, present []TargetObject) bool {
	if o.Fingerprint == "" {
		return false
	}
	for _, t := range present {
		if t.Class == o.Class && t.Label == o.Label && string(t.ID) == string(o.ID) && t.Fingerprint == o.Fingerprint {
			return true
		}
	}
	return false
}

// chooseMechanism picks the wrap mechanism: KWP (RFC 5649) when both sides
// have it, because it wraps any length; KW (RFC 3394) only for secret keys
// whose length is a multiple of 8 bytes and at least 16, the only payloads
// KW can carry without padding. Private keys are PKCS#8 of arbitrary
// length, so they need KWP. A zero mechanism means blocked, with the reason.
func chooseMechanism(o SourceObject, caps Capabilities) (uint, string) {
	if o.Class == ClassSecretKey && o.ValueLen%8 != 0 && !caps.ExactSecretLength {
		return 0, fmt.Sprintf("the target zero-pads unwrapped secrets to a multiple of 8 bytes: this %d-byte key "+
			"would arrive as %d bytes (SoftHSM 2.6.1 pads before KW/KWP; a SoftHSMv2 target ignores the true "+
			"length) — move it to a target that honours CKA_VALUE_LEN, or regenerate it", o.ValueLen, (o.ValueLen+7)/8*8)
	}
	if caps.canWrap(pkcs11.CKM_AES_KEY_WRAP_PAD) {
		return pkcs11.CKM_AES_KEY_WRAP_PAD, ""
	}
	kwOK := o.Class == ClassSecretKey && o.ValueLen >= 16 && o.ValueLen%8 == 0
	if kwOK && caps.canWrap(pkcs11.CKM_AES_KEY_WRAP) {
		return pkcs11.CKM_AES_KEY_WRAP, "KWP unavailable on one side; KW fits this key length"
	}
	return 0, "no common wrap mechanism: needs CKM_AES_KEY_WRAP_PAD on both modules" +
		map[bool]string{true: " (or CKM_AES_KEY_WRAP)", false: ""}[kwOK]
}

// classOrder puts public objects first so that a moved private key finds
// its public key already on the target, then private and secret keys.
var classOrder = map[string]int{ClassPublicKey: 0, ClassCertificate: 1, ClassData: 2, ClassPrivateKey: 3, ClassSecretKey: 4}

func sortActions(as []Action) {
	sort.SliceStable(as, func(i, j int) bool {
		ci, cj := classOrder[as[i].Class], classOrder[as[j].Class]
		if ci != cj {
			return ci < cj
		}
		if as[i].ID != as[j].ID {
			return as[i].ID < as[j].ID
		}
		return as[i].Label < as[j].Label
	})
}

// Classify gives each live source object a disposition, as the inventory
// does: private and secret keys that can be wrapped get wrap, public
// objects get copy, the rest regenerate or blocked with a reason.
// sourceManufacturer lets SoftHSMv2's limits be named (Ed25519 keys cannot
// be wrapped by SoftHSM 2.6.1).
func Classify(o *SourceObject, sourceManufacturer string) {
	switch o.Class {
	case ClassPublicKey, ClassCertificate, ClassData:
		o.Disposition = ActCopy
	case ClassPrivateKey, ClassSecretKey:
		o.Disposition, o.Reason = keyDisposition(*o, sourceManufacturer)
	default:
		o.Disposition, o.Reason = ActBlocked, "object class "+o.Class+" is not migrated"
	}
}

func keyDisposition(o SourceObject, mfr string) (string, string) {
	switch {
	case !o.Extractable:
		return ActRegenerate, "not extractable (CKA_EXTRACTABLE=false): the key cannot leave the source; generate a new one and reissue what depends on it"
	case o.WrapTrusted:
		return ActRegenerate, "CKA_WRAP_WITH_TRUSTED: only a trusted wrapping key may wrap it, and the transport key is not trusted"
	case o.KeyType == KeyEdwards && mfr == softHSMManufacturer:
		return ActRegenerate, "SoftHSM 2.6.1 cannot wrap EdDSA private keys (CKR_KEY_NOT_WRAPPABLE)"
	case o.KeyType != KeyRSA && o.KeyType != KeyEC && o.KeyType != KeyEdwards && o.KeyType != KeyAES && o.KeyType != KeyGeneric:
		return ActBlocked, "key type " + o.KeyType + " is not migrated"
	}
	return ActWrap, ""
}
