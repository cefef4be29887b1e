package inventory

import (
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"
)

const hexPrefix = "hex:"

// EncodeText turns raw attribute bytes (CKA_LABEL is a byte string, not
// necessarily UTF-8) into the text form records carry: verbatim when the
// bytes are valid UTF-8 without control characters other than tab and
// newline and do not begin with "hex:"; otherwise "hex:" and lowercase hex.
// Carriage returns are hex-encoded too: encoding/csv turns a quoted "\r\n"
// into "\n", which would break the CSV round trip.
func EncodeText(raw []byte) string {
	if needsHex(raw) {
		return hexPrefix + hex.EncodeToString(raw)
	}
	return string(raw)
}

// DecodeText reverses EncodeText.
func DecodeText(s string) ([]byte, error) {
	if !strings.HasPrefix(s, hexPrefix) {
		return []byte(s), nil
	}
	b, err := hex.DecodeString(s[len(hexPrefix):])
	if err != nil {
		return nil, fmt.Errorf("bad %q text: %w", hexPrefix, err)
	}
	return b, nil
}

// validText reports whether s is a possible EncodeText output.
func validText(s string) error {
	raw, err := DecodeText(s)
	if err != nil {
		return err
	}
	if EncodeText(raw) != s {
		return fmt.Errorf("%q is not in canonical form (want %q)", s, EncodeText(raw))
	}
	return nil
}

func needsHex(raw []byte) bool {
	if !utf8.Valid(raw) || strings.HasPrefix(string(raw), hexPrefix) {
		return true
	}
	for _, r := range string(raw) {
		if (r < 0x20 && r != '\t' && r != '\n') || r == 0x7f {
			return true
		}
	}
	return false
}

// escapeIdent percent-encodes what cannot appear inside an identity part:
// the separators ':' and ';' (Links joins identities with ';'), '%', '#',
// '~', controls, spaces and bytes that are not UTF-8. Identities are thus
// single-line, printable and unambiguous.
func escapeIdent(raw []byte) string {
	var b strings.Builder
	for len(raw) > 0 {
		r, n := utf8.DecodeRune(raw)
		if r == utf8.RuneError && n <= 1 || r < 0x21 || r == 0x7f || strings.ContainsRune(":;%#~", r) {
			fmt.Fprintf(&b, "%%%02X", raw[0])
			raw = raw[1:]
			continue
		}
		b.Write(raw[:n])
		raw = raw[n:]
	}
	return b.String()
}
