package inventory

import (
	"fmt"
	"strings"

	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

// sourceProfile is what the source module can wrap. SoftHSMv2 is detected
// by its token manufacturer and judged by its library version, never by
// object labels: 2.6 wraps RSA/DSA/DH/EC private keys and secret keys with
// CKM_AES_KEY_WRAP(_PAD) only, not Ed25519 (CKR_KEY_NOT_WRAPPABLE, facts
// §0, §10), and zero-pads secrets to a multiple of 8 inside the wrap (§11);
// 2.7 fixed the padding and wraps EdDSA keys.
type sourceProfile struct {
	softHSM      bool
	major, minor uint
	wrapMech     uint // CKM_AES_KEY_WRAP_PAD or CKM_AES_KEY_WRAP advertised with CKF_WRAP; 0 = none
}

const softHSMManufacturer = "SoftHSM project"

func newSourceProfile(lib pkcs11.Info, tok TokenInfo, mechs mechSet) sourceProfile {
	p := sourceProfile{
		softHSM: tok.Manufacturer == softHSMManufacturer,
		major:   uint(lib.LibraryVersion.Major), minor: uint(lib.LibraryVersion.Minor),
	}
	for _, m := range []uint{pkcs11.CKM_AES_KEY_WRAP_PAD, pkcs11.CKM_AES_KEY_WRAP} {
		if mechs.has(m, pkcs11.CKF_WRAP) {
			p.wrapMech = m
			break
		}
	}
	return p
}

func (p sourceProfile) softHSMBefore27() bool {
	return p.softHSM && (p.major < 2 || (p.major == 2 && p.minor < 7))
}

func (p sourceProfile) name() string {
	return fmt.Sprintf("SoftHSMv2 %d.%d", p.major, p.minor)
}

// privateWrappable says whether the source's C_WrapKey takes a private key
// of this type; the reason explains a refusal.
func (p sourceProfile) privateWrappable(keyType uint) (bool, string) {
	if !p.softHSM {
		return true, ""
	}
	switch keyType {
	case pkcs11.CKK_RSA, pkcs11.CKK_DSA, pkcs11.CKK_DH, pkcs11.CKK_EC:
		return true, ""
	case ck.CKK_EC_EDWARDS:
		if !p.softHSMBefore27() {
			return true, ""
		}
	}
	return false, fmt.Sprintf("%s cannot wrap %s private keys (C_WrapKey returns CKR_KEY_NOT_WRAPPABLE even when extractable)",
		p.name(), ck.KeyTypeName(keyType))
}

// dispose decides how the object moves from the source's side; applyTarget
// may then block it.
func dispose(r *Record, o object, p sourceProfile) (Disposition, string) {
	switch o.class {
	case pkcs11.CKO_PUBLIC_KEY:
		return Copy, "public key: recreated on the target with C_CreateObject under the same CKA_ID"
	case pkcs11.CKO_CERTIFICATE:
		return Copy, "certificate: copied under the same CKA_ID, so it still resolves to its key"
	case pkcs11.CKO_DATA:
		return Copy, "data object: copied (its value is readable)"
	case pkcs11.CKO_DOMAIN_PARAMETERS:
		return Copy, "domain parameters: public, copied"
	case pkcs11.CKO_PRIVATE_KEY, pkcs11.CKO_SECRET_KEY:
		return disposeKey(r, o, p)
	}
	return Blocked, ck.ClassName(o.class) + " objects belong to the token, not to an application: not migrated"
}

func disposeKey(r *Record, o object, p sourceProfile) (Disposition, string) {
	switch {
	case r.Extractable == nil:
		return Regenerate, "CKA_EXTRACTABLE unreadable: treated as non-extractable; " + regenerateAdvice(r)
	case !*r.Extractable:
		why := "CKA_EXTRACTABLE=FALSE"
		if Is(r.NeverExtractable) {
			why += ", CKA_NEVER_EXTRACTABLE=TRUE"
		}
		return Regenerate, why + ": the key material cannot leave the token; " + regenerateAdvice(r)
	case Is(boolPtr(o, pkcs11.CKA_WRAP_WITH_TRUSTED)):
		return Regenerate, "CKA_WRAP_WITH_TRUSTED=TRUE: only a CKA_TRUSTED key (set by the SO) may wrap it; " + regenerateAdvice(r)
	case p.wrapMech == 0:
		return Regenerate, "the source offers no CKM_AES_KEY_WRAP_PAD or CKM_AES_KEY_WRAP with CKF_WRAP; " + regenerateAdvice(r)
	}
	if o.class == pkcs11.CKO_PRIVATE_KEY {
		if ok, why := p.privateWrappable(o.keyType); !ok {
			return Regenerate, why + "; " + regenerateAdvice(r)
		}
	}
	return Wrap, wrapReason(r, o, p)
}

func wrapReason(r *Record, o object, p sourceProfile) string {
	reason := "CKA_EXTRACTABLE=TRUE: wrap with " + ck.MechName(p.wrapMech)
	if o.class == pkcs11.CKO_PRIVATE_KEY {
		reason += " (PKCS#8 payload)"
	}
	if p.softHSMBefore27() && r.Bytes%8 != 0 {
		padded := (r.Bytes + 7) / 8 * 8
		reason += fmt.Sprintf("; %s zero-pads this %d-byte key to %d bytes inside the wrap: the target must cut it back to %d",
			p.name(), r.Bytes, padded, r.Bytes)
	}
	return reason + "; CKA_LOCAL and CKA_ALWAYS_SENSITIVE read FALSE after unwrap"
}

func regenerateAdvice(r *Record) string {
	advice := "generate a new key on the target"
	for _, l := range r.Links {
		if strings.HasPrefix(l, ClassCertificate+":") {
			return advice + " and re-issue certificate " + l
		}
	}
	return advice
}

func boolPtr(o object, t uint) *bool {
	v, ok := o.a.Bool(t)
	if !ok {
		return nil
	}
	return &v
}

// genMechs is the mechanism that makes a new key of each type on the target.
var genMechs = map[uint]uint{
	pkcs11.CKK_RSA:            pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN,
	pkcs11.CKK_EC:             pkcs11.CKM_EC_KEY_PAIR_GEN,
	ck.CKK_EC_EDWARDS:         ck.CKM_EC_EDWARDS_KEY_PAIR_GEN,
	ck.CKK_EC_MONTGOMERY:      ck.CKM_EC_MONTGOMERY_KEY_PAIR_GEN,
	pkcs11.CKK_DSA:            pkcs11.CKM_DSA_KEY_PAIR_GEN,
	pkcs11.CKK_DH:             pkcs11.CKM_DH_PKCS_KEY_PAIR_GEN,
	pkcs11.CKK_AES:            pkcs11.CKM_AES_KEY_GEN,
	pkcs11.CKK_GENERIC_SECRET: pkcs11.CKM_GENERIC_SECRET_KEY_GEN,
	pkcs11.CKK_DES:            pkcs11.CKM_DES_KEY_GEN,
	pkcs11.CKK_DES2:           pkcs11.CKM_DES2_KEY_GEN,
	pkcs11.CKK_DES3:           pkcs11.CKM_DES3_KEY_GEN,
}

// CapabilitiesFrom derives a target's key types from its mechanism list:
// a key type is supported when the target can generate keys of that type.
func CapabilitiesFrom(name string, mechs []MechInfo) *Capabilities {
	ms := newMechSet(mechs)
	c := &Capabilities{Name: name, Mechanisms: mechs}
	for _, kt := range knownKeyTypes {
		if g, ok := genMechs[kt]; ok && ms.has(g, 0) {
			c.KeyTypes = append(c.KeyTypes, kt)
		}
	}
	return c
}

// applyTarget blocks what the target cannot take. The source-side reason
// is kept after the block reason.
func applyTarget(r *Record, o object, d Disposition, reason string, t *Capabilities, p sourceProfile) (Disposition, string) {
	if t == nil || d == Blocked {
		return d, reason
	}
	if block := targetBlock(o, d, t, p); block != "" {
		return Blocked, block + "; from the source: " + string(d) + ": " + reason
	}
	return d, reason
}

func targetBlock(o object, d Disposition, t *Capabilities, p sourceProfile) string {
	if lack := t.lacks(o.isKey, o.keyType, d); lack != "" {
		return lack
	}
	if d == Wrap && !newMechSet(t.Mechanisms).has(p.wrapMech, pkcs11.CKF_UNWRAP) {
		return fmt.Sprintf("%s cannot unwrap %s (not offered with CKF_UNWRAP)", t.name(), ck.MechName(p.wrapMech))
	}
	return ""
}

// Lacks says what the target lacks to take r's object with disposition d:
// the key type, or for a key to regenerate the mechanism that generates
// its replacement; "" when nothing. Which wrap mechanism both sides share
// is not judged here (the planner, package wrapmove, chooses it). A nil
// Capabilities lacks nothing: it means "don't judge".
func (c *Capabilities) Lacks(r Record, d Disposition) string {
	if c == nil {
		return ""
	}
	isKey := r.Class == ClassPrivateKey || r.Class == ClassPublicKey || r.Class == ClassSecretKey
	kt, known := keyTypeByName(r.KeyType)
	if isKey && !known {
		return fmt.Sprintf("%s lacks key type %s", c.name(), r.KeyType)
	}
	return c.lacks(isKey, kt, d)
}

func (c *Capabilities) lacks(isKey bool, keyType uint, d Disposition) string {
	if isKey && !hasUint(c.KeyTypes, keyType) {
		return fmt.Sprintf("%s lacks key type %s", c.name(), ck.KeyTypeName(keyType))
	}
	if d == Regenerate {
		if g, ok := genMechs[keyType]; ok && isKey && !newMechSet(c.Mechanisms).has(g, 0) {
			return fmt.Sprintf("%s lacks %s to generate the replacement", c.name(), ck.MechName(g))
		}
	}
	return ""
}

func (c *Capabilities) name() string {
	if c.Name == "" {
		return "the target"
	}
	return c.Name
}

// FollowRegenerated marks regenerate the public key and the certificate
// that belong to a private key marked regenerate: the new key pair made on
// the target replaces both halves, and the certificate has to be re-issued
// for the new public key. They belong to it when they share its non-empty
// CKA_ID and, where both fingerprints are known, its public key. Take
// applies it; it is exported so that an inventory written by an older
// craton (public half still "copy") can be brought in line, and it is
// idempotent.
func FollowRegenerated(recs []Record) {
	regen := map[string][]*Record{}
	for i := range recs {
		if r := &recs[i]; r.Class == ClassPrivateKey && r.Disposition == Regenerate && r.ID != "" {
			regen[r.ID] = append(regen[r.ID], r)
		}
	}
	for i := range recs {
		r := &recs[i]
		if r.Disposition != Copy || (r.Class != ClassPublicKey && r.Class != ClassCertificate) {
			continue
		}
		for _, priv := range regen[r.ID] {
			if r.Fingerprint != "" && priv.Fingerprint != "" && r.Fingerprint != priv.Fingerprint {
				continue // same CKA_ID, another key: not this pair's
			}
			r.Disposition = Regenerate
			if r.Class == ClassPublicKey {
				r.Reason = "public half of " + priv.Identity + ", which is regenerated: the new key pair replaces it"
			} else {
				r.Reason = "certifies " + priv.Identity + ", which is regenerated: re-issue it for the new key (from the CSR 'craton migrate regenerate' writes)"
			}
			break
		}
	}
}

func hasUint(list []uint, v uint) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
