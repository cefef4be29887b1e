package inventory

import (
	"fmt"
	"sort"
	"strings"

	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

// Mechanism row statuses.
const (
	StatusBoth       = "both"
	StatusSourceOnly = "source-only"
	StatusTargetOnly = "target-only"
)

// MechRow is one mechanism side by side.
type MechRow struct {
	Mechanism string `json:"mechanism" yaml:"mechanism"`
	Code      uint   `json:"code" yaml:"code"`
	Source    string `json:"source" yaml:"source"` // "encrypt,decrypt,wrap 16..32", "" when absent
	Target    string `json:"target" yaml:"target"`
	Status    string `json:"status" yaml:"status"`
	Advice    string `json:"advice,omitempty" yaml:"advice,omitempty"`
}

// Need is a mechanism the inventoried keys need on the target: the
// preferred one and the alternatives that would do as well.
type Need struct {
	Purpose      string   `json:"purpose" yaml:"purpose"` // "RSA sign/verify", "unwrap (transport)", ...
	Mechanism    string   `json:"mechanism" yaml:"mechanism"`
	Alternatives []string `json:"alternatives,omitempty" yaml:"alternatives,omitempty"`
	Keys         int      `json:"keys" yaml:"keys"` // records that need it
	OnTarget     bool     `json:"on_target" yaml:"on_target"`
}

// MechReport compares a source and a target mechanism list.
type MechReport struct {
	Rows            []MechRow `json:"rows" yaml:"rows"`
	Needed          []Need    `json:"needed" yaml:"needed"`
	MissingOnTarget []string  `json:"missing_on_target" yaml:"missing_on_target"` // Need.Mechanism of needs no alternative meets
}

// CompareMechanisms lines up src and dst by mechanism code with the
// guide's advice, and, when inv is given, lists what its keys need
// (see needsOf for the mapping) and which of those the target lacks.
func CompareMechanisms(src, dst []MechInfo, inv *Inventory) MechReport {
	s, d := newMechSet(src), newMechSet(dst)
	codes := map[uint]bool{}
	for c := range s {
		codes[c] = true
	}
	for c := range d {
		codes[c] = true
	}
	var rep MechReport
	for c := range codes {
		rep.Rows = append(rep.Rows, mechRow(c, s, d))
	}
	sort.Slice(rep.Rows, func(i, j int) bool { return rep.Rows[i].Code < rep.Rows[j].Code })
	if inv != nil {
		rep.Needed, rep.MissingOnTarget = needs(inv, d)
	}
	return rep
}

func mechRow(c uint, s, d mechSet) MechRow {
	sm, inS := s[c]
	dm, inD := d[c]
	row := MechRow{Mechanism: ck.MechName(c), Code: c}
	if inS {
		row.Source = describe(sm)
	}
	if inD {
		row.Target = describe(dm)
	}
	switch {
	case inS && inD:
		row.Status = StatusBoth
		row.Advice = bothAdvice(c, sm, dm)
	case inS:
		row.Status = StatusSourceOnly
		row.Advice = sourceOnlyAdvice(c)
	default:
		row.Status = StatusTargetOnly
		if postQuantum[c] {
			row.Advice = "post-quantum: target only (SoftHSMv2 does not implement it); see the runbook's post-quantum next steps and docs/pqc.md"
		}
	}
	return row
}

func describe(m MechInfo) string {
	s := strings.Join(m.Flags, ",")
	if m.Min != 0 || m.Max != 0 {
		s += fmt.Sprintf(" %d..%d", m.Min, m.Max)
	}
	return s
}

var postQuantum = map[uint]bool{
	ck.CKM_CRATON_ML_KEM_512: true, ck.CKM_CRATON_ML_KEM_768: true, ck.CKM_CRATON_ML_KEM_1024: true,
	ck.CKM_CRATON_ML_DSA_44: true, ck.CKM_CRATON_ML_DSA_65: true, ck.CKM_CRATON_ML_DSA_87: true,
	ck.CKM_CRATON_SLH_DSA_SHA2_128S: true, ck.CKM_CRATON_SLH_DSA_SHA2_256S: true,
	ck.CKM_CRATON_HYBRID_ML_DSA_ECDSA: true, ck.CKM_CRATON_HYBRID_X25519_MLKEM768: true,
	ck.CKM_CRATON_HYBRID_X25519_MLKEM1024: true,
	// PKCS#11 3.2 standard codes (docs/pqc.md).
	ck.CKM_ML_KEM_KEY_PAIR_GEN: true, ck.CKM_ML_KEM: true, ck.CKM_ML_DSA_KEY_PAIR_GEN: true,
	ck.CKM_ML_DSA: true, ck.CKM_SLH_DSA_KEY_PAIR_GEN: true, ck.CKM_SLH_DSA: true,
}

func sourceOnlyAdvice(c uint) string {
	switch c {
	case pkcs11.CKM_RSA_X_509:
		return "raw RSA is not on the target: move to CKM_RSA_PKCS_PSS or CKM_RSA_PKCS_OAEP"
	}
	name := ck.MechName(c)
	if strings.Contains(name, "MD5") || strings.Contains(name, "_DES") || strings.HasPrefix(name, "CKM_DES") || strings.Contains(name, "DSA_") && !strings.Contains(name, "ECDSA") {
		return "legacy mechanism not on the target: audit call sites before cutover"
	}
	return "not on the target: audit call sites before cutover"
}

func bothAdvice(c uint, s, d MechInfo) string {
	var notes []string
	if c == pkcs11.CKM_AES_GCM {
		notes = append(notes, "the target also accepts a NULL parameter (counter nonce); callers passing CK_GCM_PARAMS keep working")
	}
	var lost []string
	for _, f := range s.Flags {
		if !d.Has(f) {
			lost = append(lost, f)
		}
	}
	if len(lost) > 0 {
		notes = append(notes, "target lacks "+strings.Join(lost, ","))
	}
	if (s.Min != d.Min || s.Max != d.Max) && (d.Min > s.Min || d.Max < s.Max) {
		notes = append(notes, fmt.Sprintf("key sizes narrower on the target (%d..%d vs %d..%d)", d.Min, d.Max, s.Min, s.Max))
	}
	return strings.Join(notes, "; ")
}
