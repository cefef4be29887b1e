package wrapmove

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/errs"
	"github.com/miekg/pkcs11"
	"gopkg.in/yaml.v3"
)

// WritePlan writes p as YAML. The document starts with a comment that
// points at the schema, because operators review and edit plans by hand.
func WritePlan(w io.Writer, p Plan) error {
	if p.Version == 0 {
		p.Version = PlanVersion
	}
	var buf bytes.Buffer
	buf.WriteString("# craton migration plan — schema: docs/plan-format.md. Edit 'action' to change what happens.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(p); err != nil {
		return &errs.Error{Kind: errs.KindInternal, Op: "write plan", Err: err}
	}
	if err := enc.Close(); err != nil {
		return &errs.Error{Kind: errs.KindInternal, Op: "write plan", Err: err}
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// SavePlan writes p to path atomically (temporary file, fsync, rename).
func SavePlan(path string, p Plan) error {
	var buf bytes.Buffer
	if err := WritePlan(&buf, p); err != nil {
		return err
	}
	return writeFileAtomic(path, buf.Bytes(), 0o644)
}

// LoadPlan reads and validates the plan file at path.
func LoadPlan(path string) (Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return Plan{}, &errs.Error{Kind: errs.KindInput, Op: "read plan " + path, Msg: "cannot open the plan file",
			Hint: "write one with 'craton migrate plan'", Err: err}
	}
	defer f.Close()
	return ReadPlan(f, path)
}

// ReadPlan parses and validates a plan. Every problem is an *errs.Error of
// KindInput that names the file, the line and the field.
func ReadPlan(r io.Reader, name string) (Plan, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Plan{}, inputErr(name, 0, "", "cannot read: "+err.Error())
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Plan{}, inputErr(name, 0, "", "malformed YAML: "+strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(root.Content) == 0 {
		return Plan{}, inputErr(name, 0, "", "the file is empty")
	}
	var p Plan
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true) // a misspelt field must not be silently ignored
	if err := dec.Decode(&p); err != nil {
		return Plan{}, inputErr(name, 0, "", "invalid plan: "+strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if err := validatePlan(&p, root.Content[0], name); err != nil {
		return Plan{}, err
	}
	if len(p.Actions) == 0 {
		p.Actions = nil // "actions: []" and no actions key are the same plan
	}
	return p, nil
}

func inputErr(name string, line int, field, msg string) *errs.Error {
	where := ""
	if line > 0 {
		where = fmt.Sprintf("line %d: ", line)
	}
	if field != "" {
		where += field + ": "
	}
	return &errs.Error{Kind: errs.KindInput, Op: "read plan " + name, Msg: where + msg,
		Hint: "fix the plan file (schema: docs/plan-format.md) or write a new one with 'craton migrate plan'"}
}

// validatePlan checks what YAML typing cannot: the version, and per action
// the action name, class, key type, hex ID, mechanism and identity. doc is
// the document's mapping node, used only to report line numbers.
func validatePlan(p *Plan, doc *yaml.Node, name string) error {
	if p.Version != PlanVersion {
		return inputErr(name, lineOf(doc, "version"), "version",
			fmt.Sprintf("unsupported plan version %d (this craton reads version %d)", p.Version, PlanVersion))
	}
	actNodes := fieldNode(doc, "actions")
	seen := map[string]int{}
	for i := range p.Actions {
		var node *yaml.Node
		if actNodes != nil && i < len(actNodes.Content) {
			node = actNodes.Content[i]
		}
		if err := validateAction(&p.Actions[i], i, node, name); err != nil {
			return err
		}
		if prev, dup := seen[p.Actions[i].Identity]; dup {
			return inputErr(name, lineOf(node, "identity"), fmt.Sprintf("actions[%d].identity", i),
				fmt.Sprintf("duplicate of actions[%d] (%s)", prev, p.Actions[i].Identity))
		}
		seen[p.Actions[i].Identity] = i
	}
	return nil
}

func validateAction(a *Action, i int, node *yaml.Node, name string) error {
	bad := func(field, msg string) error {
		return inputErr(name, lineOf(node, field), fmt.Sprintf("actions[%d].%s", i, field), msg)
	}
	if !validActions[a.Action] {
		return bad("action", fmt.Sprintf("unknown action %q (want wrap, copy, regenerate, skip or blocked)", a.Action))
	}
	// A blocked action may name a class or key type craton does not move:
	// that is why it is blocked, and move only reports it.
	blocked := a.Action == ActBlocked
	if _, ok := classValue(a.Class); !ok && !blocked {
		return bad("class", fmt.Sprintf("unknown class %q (want private_key, public_key, secret_key, certificate or data)", a.Class))
	}
	if _, err := hex.DecodeString(a.ID); err != nil {
		return bad("id", fmt.Sprintf("CKA_ID %q is not hex (two hex digits per byte, e.g. \"01\" or \"a1b2\")", a.ID))
	}
	a.ID = strings.ToLower(a.ID)
	if isKeyClassName(a.Class) && !blocked {
		if _, ok := keyTypeValue(a.KeyType); !ok {
			return bad("key_type", fmt.Sprintf("unknown key type %q (want rsa, ec, ec_edwards, aes or generic_secret)", a.KeyType))
		}
	}
	if err := validateMechanism(a, bad); err != nil {
		return err
	}
	if err := validateUsage(a, bad); err != nil {
		return err
	}
	want := Identity(a.Class, a.ID, a.Label)
	switch a.Identity {
	case "":
		a.Identity = want
	case want:
	default:
		return bad("identity", fmt.Sprintf("%q does not match class, id and label (%q)", a.Identity, want))
	}
	return nil
}

// validateUsage accepts the operation names recordUsage writes; an empty
// list reads as no list ("usage: []" and no usage key are the same action).
func validateUsage(a *Action, bad func(field, msg string) error) error {
	for j, u := range a.Usage {
		if !slices.Contains(usageLists[len(usageLists)-1], u) {
			return bad("usage", fmt.Sprintf("usage[%d] %q is not an operation (want sign, verify, encrypt, decrypt, wrap, unwrap or derive)", j, u))
		}
	}
	if len(a.Usage) == 0 {
		a.Usage = nil
	}
	return nil
}

func validateMechanism(a *Action, bad func(field, msg string) error) error {
	if a.Action != ActWrap && !(a.Action == ActSkip && a.Mechanism != "") {
		return nil
	}
	if a.Class != ClassPrivateKey && a.Class != ClassSecretKey {
		return bad("action", "only private and secret keys can be wrapped; use copy for "+a.Class)
	}
	m, ok := ck.MechByName(a.Mechanism)
	switch {
	case a.Mechanism == "":
		return bad("mechanism", "a wrap action needs a mechanism (CKM_AES_KEY_WRAP_PAD or CKM_AES_KEY_WRAP)")
	case !ok || (m != pkcs11.CKM_AES_KEY_WRAP_PAD && m != pkcs11.CKM_AES_KEY_WRAP):
		return bad("mechanism", fmt.Sprintf("%q is not CKM_AES_KEY_WRAP_PAD or CKM_AES_KEY_WRAP", a.Mechanism))
	case m == pkcs11.CKM_AES_KEY_WRAP && a.Class == ClassPrivateKey:
		return bad("mechanism", "CKM_AES_KEY_WRAP cannot carry a PKCS#8 private key of arbitrary length; use CKM_AES_KEY_WRAP_PAD")
	}
	a.Mechanism = ck.MechName(m)
	return nil
}

func isKeyClassName(c string) bool {
	return c == ClassPrivateKey || c == ClassPublicKey || c == ClassSecretKey
}

// fieldNode returns the value node of key in a mapping node (nil if absent).
func fieldNode(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// lineOf is the line of key's value in mapping m, else of m itself.
func lineOf(m *yaml.Node, key string) int {
	if v := fieldNode(m, key); v != nil {
		return v.Line
	}
	if m != nil {
		return m.Line
	}
	return 0
}
