package wrapmove

import (
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/inventory"
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
	// Target is the target's key types and mechanism list, as the
	// inventory describes a target: objects whose key type it lacks, and
	// keys to regenerate whose generation mechanism it lacks, are blocked.
	// nil = not judged.
	Target *inventory.Capabilities
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

// MakePlan turns an inventory of the source into a plan for one target.
// The inventory alone decides what the source allows for each object (its
// disposition and reason: wrap, copy, regenerate, or blocked); MakePlan
// only adds what depends on the target and on craton's mover:
//
//   - blocked: craton does not move the object's class or key type; the
//     target lacks the key type, or the generation mechanism of a key to
//     regenerate (caps.Target); no wrap mechanism both sides share; a
//     secret the target would zero-pad (a SoftHSMv2 target);
//   - the wrap mechanism, KWP or KW;
//   - skip: a wrap or copy object already on the target (present, the
//     target's inventory records) with the same class, CKA_ID and label
//     and proven the same: the same public-key fingerprint, secret-key
//     check value, or certificate.
//
// A regenerate object is never planned as wrap or copy. Records that share
// class, CKA_ID and label (one plan identity) become one blocked action.
// The inventory is not modified.
func MakePlan(inv *inventory.Inventory, caps Capabilities, present []inventory.Record) Plan {
	recs := append([]inventory.Record(nil), inv.Records...)
	// Inventories written before the public half of a regenerated pair
	// was marked regenerate still say copy; this is inventory's own rule.
	inventory.FollowRegenerated(recs)
	p := Plan{Version: PlanVersion, CreatedAt: time.Now().UTC().Truncate(time.Second)}
	at := map[string]int{}
	for _, r := range recs {
		a := planOne(r, caps, present)
		if i, dup := at[a.Identity]; dup {
			p.Actions[i] = shared(p.Actions[i])
			continue
		}
		at[a.Identity] = len(p.Actions)
		p.Actions = append(p.Actions, a)
	}
	sortActions(p.Actions)
	return p
}

// PlanFromInventory plans without a source module: from an inventory read
// back from a file (inventory.ReadCSV, or its JSON/YAML rendering) and the
// target's capabilities and present objects. The source endpoint's token
// and serial are the inventory's when it carries token info (JSON/YAML)
// and source leaves them empty; the source's wrap mechanisms are taken
// from its mechanism list when caps.SourceWrap is nil and the inventory
// has one. A CSV has neither: then KWP and KW are assumed on the source
// (true of every SoftHSMv2 2.x), and the token is what source says.
func PlanFromInventory(inv *inventory.Inventory, caps Capabilities, present []inventory.Record, source, target Endpoint) Plan {
	if caps.SourceWrap == nil && len(inv.Token.Mechanisms) > 0 {
		caps.SourceWrap = map[uint]bool{}
		for _, m := range inv.Token.Mechanisms {
			if m.Has("wrap") {
				caps.SourceWrap[m.Code] = true
			}
		}
	}
	if source.Token == "" {
		source.Token = inv.Token.Label
	}
	if source.Serial == "" {
		source.Serial = inv.Token.Serial
	}
	p := MakePlan(inv, caps, present)
	p.Source, p.Target = source, target
	return p
}

// shared is the one action left for several source objects with the same
// plan identity: Move finds source objects by class, CKA_ID and label, so
// it could not tell them apart.
func shared(a Action) Action {
	a.Action, a.Mechanism = ActBlocked, ""
	a.Reason = fmt.Sprintf("several source objects share class %s, CKA_ID %q and label %q: give them distinct IDs or labels first",
		a.Class, a.ID, a.Label)
	return a
}

// planOne plans one record: the inventory's disposition, then the target.
func planOne(r inventory.Record, caps Capabilities, present []inventory.Record) Action {
	a := actionFrom(r)
	blocked := func(why string) Action {
		a.Action, a.Mechanism, a.Reason = ActBlocked, "", why+"; from the inventory: "+string(r.Disposition)+": "+r.Reason
		return a
	}
	switch r.Disposition {
	case inventory.Blocked:
		a.Action, a.Reason = ActBlocked, r.Reason
		return a
	case inventory.Wrap, inventory.Copy, inventory.Regenerate:
	default:
		return blocked(fmt.Sprintf("unknown disposition %q", r.Disposition))
	}
	if _, ok := classValue(a.Class); !ok {
		return blocked("craton moves private, public and secret keys, certificates and data objects, not " + r.Class)
	}
	if _, ok := keyTypeValue(a.KeyType); isKeyClassName(a.Class) && !ok {
		return blocked("craton does not move or generate " + r.KeyType + " keys")
	}
	if lack := caps.Target.Lacks(r, r.Disposition); lack != "" {
		return blocked(lack)
	}
	switch r.Disposition {
	case inventory.Regenerate:
		a.Action, a.Reason = ActRegenerate, r.Reason
		return a
	case inventory.Wrap:
		mech, why := chooseMechanism(a.Class, r.Bytes, caps)
		if mech == 0 {
			return blocked(why)
		}
		a.Action, a.Mechanism, a.Reason = ActWrap, ck.MechName(mech), why
	case inventory.Copy:
		a.Action = ActCopy
	}
	if isPresent(r, present) {
		a.Action, a.Reason = ActSkip, "already on the target with the same CKA_ID, label and "+proofOf(r.Class)
	}
	return a
}

// actionFrom carries a record's identity and attributes into an action.
// Labels go back to their raw bytes (the plan is byte-exact), classes and
// key types to the plan's names.
func actionFrom(r inventory.Record) Action {
	label := r.Label
	if raw, err := inventory.DecodeText(r.Label); err == nil {
		label = string(raw)
	}
	class := strings.ReplaceAll(strings.ToLower(r.Class), "-", "_")
	a := Action{Identity: Identity(class, r.ID, label), Label: label, ID: r.ID, Class: class,
		KeyType: strings.ToLower(r.KeyType), Usage: recordUsage(r), Token: inventory.Is(r.Token),
		Private: inventory.Is(r.Private), Sensitive: inventory.Is(r.Sensitive), Extractable: inventory.Is(r.Extractable)}
	a.Size = r.Bits
	if a.KeyType == KeyEC || a.KeyType == KeyEdwards {
		a.Curve = r.Size
		for _, c := range curves {
			if c.name == r.Size {
				a.Size = c.bits
			}
		}
	}
	if r.Fingerprint != "" {
		a.Fingerprint = "sha256:" + r.Fingerprint
	}
	return a
}

// recordUsage lists the permitted operations the inventory recorded.
// Actions with the same flags share one read-only slice (cap = len, so an
// append copies): a plan of 10,000 keys holds a handful of usage lists.
func recordUsage(r inventory.Record) []string {
	mask := 0
	for i, v := range []*bool{r.Sign, r.Verify, r.Encrypt, r.Decrypt, r.Wrap, r.Unwrap, r.Derive} {
		if inventory.Is(v) {
			mask |= 1 << i
		}
	}
	return usageLists[mask]
}

// usageLists[mask] is the usage list of the flags in mask, in recordUsage's order.
var usageLists = func() [1 << 7][]string {
	names := []string{"sign", "verify", "encrypt", "decrypt", "wrap", "unwrap", "derive"}
	var out [1 << 7][]string
	for mask := range out {
		var u []string
		for i, n := range names {
			if mask&(1<<i) != 0 {
				u = append(u, n)
			}
		}
		out[mask] = u[:len(u):len(u)]
	}
	return out
}()

// isPresent reports an object already on the target and proven the same:
// same class, CKA_ID and label, and the same public key (key pairs), check
// value (secret keys) or certificate. Data objects are never skipped here
// (the inventory keeps no hash of their value); move re-proves them.
func isPresent(r inventory.Record, present []inventory.Record) bool {
	for _, t := range present {
		if t.Class == r.Class && t.ID == r.ID && t.Label == r.Label && sameObject(r, t) {
			return true
		}
	}
	return false
}

func sameObject(a, b inventory.Record) bool {
	switch a.Class {
	case inventory.ClassPrivateKey, inventory.ClassPublicKey:
		return a.KeyType == b.KeyType && a.Fingerprint != "" && a.Fingerprint == b.Fingerprint
	case inventory.ClassSecretKey:
		return a.KeyType == b.KeyType && inventory.SameCheckValue(a, b)
	case inventory.ClassCertificate:
		return a.Fingerprint != "" && a.Fingerprint == b.Fingerprint && a.Serial == b.Serial &&
			a.Issuer == b.Issuer && a.Subject == b.Subject
	}
	return false
}

func proofOf(class string) string {
	switch class {
	case inventory.ClassSecretKey:
		return "check value"
	case inventory.ClassCertificate:
		return "certificate (public key, issuer, serial, subject)"
	}
	return "public-key fingerprint"
}

// chooseMechanism picks the wrap mechanism: KWP (RFC 5649) when both sides
// have it, because it wraps any length; KW (RFC 3394) only for secret keys
// whose length is a multiple of 8 bytes and at least 16, the only payloads
// KW can carry without padding. Private keys are PKCS#8 of arbitrary
// length, so they need KWP. valueLen is a secret's length in bytes (0 when
// the source does not tell). A zero mechanism means blocked, with the reason.
func chooseMechanism(class string, valueLen int, caps Capabilities) (uint, string) {
	if class == ClassSecretKey && valueLen%8 != 0 && !caps.ExactSecretLength {
		return 0, fmt.Sprintf("the target zero-pads unwrapped secrets to a multiple of 8 bytes: this %d-byte key "+
			"would arrive as %d bytes (SoftHSM 2.6.1 pads before KW/KWP; a SoftHSMv2 target ignores the true "+
			"length) — move it to a target that honours CKA_VALUE_LEN, or regenerate it", valueLen, (valueLen+7)/8*8)
	}
	if caps.canWrap(pkcs11.CKM_AES_KEY_WRAP_PAD) {
		return pkcs11.CKM_AES_KEY_WRAP_PAD, ""
	}
	kwOK := class == ClassSecretKey && valueLen >= 16 && valueLen%8 == 0
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
