package verify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/craton-co/craton/errs"
	"github.com/craton-co/craton/hsm"
	"github.com/craton-co/craton/inventory"
	"github.com/craton-co/craton/p11"
	"github.com/craton-co/craton/wrapmove"
)

// Status is the outcome of one checklist item.
type Status string

// Item statuses.
const (
	Pass Status = "PASS"
	Fail Status = "FAIL"
	Warn Status = "WARN"
	Skip Status = "SKIP"
)

// Options configure Run.
type Options struct {
	Source, Target           p11.Module
	SourceToken, TargetToken p11.Token
	SourcePIN, TargetPIN     string
	// TargetSOPIN is used only to check that the SO PIN was rotated
	// (item 9); it is never used to log in.
	TargetSOPIN string
	// Engine is the embedded engine behind Target; nil for an external
	// module (then POST is not observable and the audit log needs AuditLog).
	Engine *hsm.Ctx
	// Inventory is the pre-migration inventory (inventory.ReadCSV); nil
	// takes a live inventory of the source.
	Inventory *inventory.Inventory
	// Plan, when given, lists the regenerate items (item 10).
	Plan *wrapmove.Plan
	// Journal, when given, holds the PIN hashes of the move (item 9).
	Journal *wrapmove.Journal
	// RequireMechanisms are CKM_ codes the workload needs beyond those the
	// keys imply (item 2).
	RequireMechanisms []uint
	// Exec is the argv of a representative transaction (item 7); nil skips.
	Exec []string
	// ModulePath is exported to Exec as PKCS11_MODULE_PATH.
	ModulePath string
	// AuditLog overrides the engine's audit.log_path (required to check
	// the audit log of an external target).
	AuditLog string
	// ExecTimeout bounds Exec; 0 means 60 s.
	ExecTimeout time.Duration
	// ReleaseTarget, when set, is called before Exec runs, after every
	// other item: the embedded engine holds its store's exclusive lock, so
	// the application under test (another process opening the same
	// storage_path through libcraton_hsm.so) can only run once craton has
	// let go of the target.
	ReleaseTarget func() error
}

// Result is one checklist item.
type Result struct {
	Num      int      `col:"num" json:"num" yaml:"num"`
	Item     string   `col:"item" json:"item" yaml:"item"`
	Status   Status   `col:"status" json:"status" yaml:"status"`
	Evidence string   `col:"evidence" json:"evidence" yaml:"evidence"`
	Details  []string `col:"-" json:"details,omitempty" yaml:"details,omitempty"`
}

// Report is the filled-in checklist.
type Report struct {
	SourceToken string    `json:"source_token" yaml:"source_token"`
	TargetToken string    `json:"target_token" yaml:"target_token"`
	Started     time.Time `json:"started" yaml:"started"`
	Items       []Result  `json:"items" yaml:"items"`
	Passed      int       `json:"passed" yaml:"passed"`
	Failed      int       `json:"failed" yaml:"failed"`
	Warned      int       `json:"warned" yaml:"warned"`
	Skipped     int       `json:"skipped" yaml:"skipped"`
}

// Item returns the result numbered n, or nil.
func (r *Report) Item(n int) *Result {
	for i := range r.Items {
		if r.Items[i].Num == n {
			return &r.Items[i]
		}
	}
	return nil
}

// Count recomputes Passed, Failed, Warned and Skipped from Items.
func (r *Report) Count() {
	r.Passed, r.Failed, r.Warned, r.Skipped = 0, 0, 0, 0
	for _, it := range r.Items {
		switch it.Status {
		case Pass:
			r.Passed++
		case Fail:
			r.Failed++
		case Warn:
			r.Warned++
		case Skip:
			r.Skipped++
		}
	}
}

// Err is nil unless an item failed; then a KindVerifyFailed error naming
// the failed items.
func (r *Report) Err() error {
	var failed []string
	for _, it := range r.Items {
		if it.Status == Fail {
			failed = append(failed, fmt.Sprintf("%d (%s)", it.Num, it.Evidence))
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return &errs.Error{Kind: errs.KindVerifyFailed, Op: "verify " + r.TargetToken,
		Msg:  fmt.Sprintf("%d checklist item(s) failed: %s", len(failed), strings.Join(failed, "; ")),
		Hint: "fix the target (or re-run the move) and verify again; do not retire the source token yet"}
}

// Item wording, as in the guide.
var itemText = map[int]string{
	1:  "C_Initialize on Craton HSM returns CKR_OK; the POST log shows the 17 self-tests passing",
	2:  "The target advertises every mechanism your applications use",
	3:  "Every migrated key is listed with matching CKA_LABEL, CKA_ID, and CKA_KEY_TYPE against the pre-migration inventory",
	4:  "For each migrated signing key, a C_Sign + C_Verify round trip succeeds",
	5:  "For each migrated wrapping key, a known test wrap/unwrap succeeds",
	6:  "Every certificate still resolves to its private key by CKA_ID",
	7:  "Applications complete one representative transaction end-to-end against Craton HSM",
	8:  "Audit log records the expected Sign/Verify/Encrypt entries with fips_approved set correctly for your build",
	9:  "SO PIN and user PIN have been rotated away from any temporary migration values",
	10: "Every key marked regenerate has its new key on the target",
}

// check is one item's work: it returns the status, evidence and details.
type check func(ctx context.Context, r *run) Result
