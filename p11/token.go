package p11

import (
	"fmt"
	"sort"
	"strings"

	"github.com/craton-co/craton/errs"
	"github.com/miekg/pkcs11"
)

// Token is an initialised token found in a slot.
type Token struct {
	Slot   uint
	Label  string // padding trimmed
	Serial string
	Info   pkcs11.TokenInfo
}

// TrimLabel removes the blank/NUL padding PKCS#11 puts in fixed-size fields.
func TrimLabel(s string) string { return strings.TrimRight(s, " \x00") }

// Tokens lists the initialised tokens the module presents.
func Tokens(m Module) ([]Token, error) {
	slots, err := m.GetSlotList(true)
	if err != nil {
		return nil, Wrap("C_GetSlotList", err)
	}
	var out []Token
	for _, s := range slots {
		ti, err := m.GetTokenInfo(s)
		if err != nil {
			return nil, Wrap(fmt.Sprintf("C_GetTokenInfo(slot %d)", s), err)
		}
		if ti.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
			continue
		}
		out = append(out, Token{Slot: s, Label: TrimLabel(ti.Label), Serial: TrimLabel(ti.SerialNumber), Info: ti})
	}
	return out, nil
}

// FindToken selects the initialised token with this label (and serial, when
// given). It never selects by slot number: SoftHSMv2 renumbers slots.
func FindToken(m Module, label, serial string) (Token, error) {
	if label == "" {
		return Token{}, errs.Usage("no token label given", "pass --token LABEL (labels are listed by 'craton token info')")
	}
	toks, err := Tokens(m)
	if err != nil {
		return Token{}, err
	}
	var match []Token
	for _, t := range toks {
		if t.Label == TrimLabel(label) && (serial == "" || t.Serial == serial) {
			match = append(match, t)
		}
	}
	switch {
	case len(match) == 1:
		return match[0], nil
	case len(match) > 1:
		var serials []string
		for _, t := range match {
			serials = append(serials, t.Serial)
		}
		return Token{}, &errs.Error{Kind: errs.KindTokenNotFound, Op: "select token",
			Msg:  fmt.Sprintf("%d tokens are labelled %q (serials %s)", len(match), label, strings.Join(serials, ", ")),
			Hint: "add --token-serial (or --from-token-serial/--to-token-serial) to choose one"}
	}
	return Token{}, &errs.Error{Kind: errs.KindTokenNotFound, Op: "select token",
		Msg: notFoundMsg(label, serial, toks), Hint: "pass one of the labels present"}
}

func notFoundMsg(label, serial string, toks []Token) string {
	var labels []string
	for _, t := range toks {
		labels = append(labels, fmt.Sprintf("%q (serial %s)", t.Label, t.Serial))
	}
	sort.Strings(labels)
	want := fmt.Sprintf("%q", label)
	if serial != "" {
		want += " with serial " + serial
	}
	if len(labels) == 0 {
		return "no token " + want + ": the module presents no initialised token"
	}
	return "no token " + want + "; tokens present: " + strings.Join(labels, ", ")
}

// FreeSlot returns a slot whose token is present but not initialised, for
// C_InitToken. ok is false when there is none.
func FreeSlot(m Module) (slot uint, ok bool, err error) {
	slots, err := m.GetSlotList(true)
	if err != nil {
		return 0, false, Wrap("C_GetSlotList", err)
	}
	for _, s := range slots {
		ti, err := m.GetTokenInfo(s)
		if err != nil {
			return 0, false, Wrap("C_GetTokenInfo", err)
		}
		if ti.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
			return s, true, nil
		}
	}
	return 0, false, nil
}
