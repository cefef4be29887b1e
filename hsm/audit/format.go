package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"unicode/utf8"
)

// FormatVersion is the only line format written and read: Craton's v0.
const FormatVersion = 0

// Hash is a SHA-256 chain value.
type Hash [32]byte

// record is the hashed payload of one line, fields in Craton's serde order.
// encoding/json writes struct fields in declaration order and compactly, so
// Marshal of a record gives the bytes serde_json gives for Craton's struct
// (strings go through appendJSONString; see keyID and Operation).
type record struct {
	FormatVersion uint8     `json:"format_version"`
	Timestamp     uint64    `json:"timestamp"` // Unix nanoseconds, strictly increasing
	SessionHandle uint64    `json:"session_handle"`
	Operation     Operation `json:"operation"`
	KeyID         *keyID    `json:"key_id"`
	Result        result    `json:"result"`
}

// line is one line of the file: the payload plus previous_hash, the chain
// value before this entry, as a JSON array of 32 integers.
type line struct {
	record
	PreviousHash hashArray `json:"previous_hash"`
}

// keyID is key_id's string, escaped as serde_json escapes it.
type keyID string

func (k keyID) MarshalJSON() ([]byte, error) {
	if !utf8.ValidString(string(k)) {
		return nil, errors.New("key_id is not valid UTF-8")
	}
	return appendJSONString(nil, string(k)), nil
}

// result is Craton's Result enum: "Success" or {"Failure": <CK_RV>}.
type result struct {
	failed bool
	rv     uint64
}

func resultOf(rv uint) result { return result{failed: rv != 0, rv: uint64(rv)} }

func (r result) MarshalJSON() ([]byte, error) {
	if !r.failed {
		return []byte(`"Success"`), nil
	}
	return append(strconv.AppendUint([]byte(`{"Failure":`), r.rv, 10), '}'), nil
}

func (r *result) UnmarshalJSON(data []byte) error {
	if string(data) == `"Success"` {
		*r = result{}
		return nil
	}
	var f map[string]json.RawMessage
	if err := json.Unmarshal(data, &f); err != nil || len(f) != 1 || f["Failure"] == nil {
		return fmt.Errorf(`result must be "Success" or {"Failure":<rv>}, not %s`, data)
	}
	rv, err := strconv.ParseUint(string(f["Failure"]), 10, 64)
	if err != nil {
		return fmt.Errorf("result Failure code: %w", err)
	}
	*r = result{failed: true, rv: rv}
	return nil
}

// hashArray is previous_hash: exactly 32 integers 0–255 in JSON.
type hashArray Hash

func (h hashArray) MarshalJSON() ([]byte, error) {
	buf := make([]byte, 0, 32*4+2)
	buf = append(buf, '[')
	for i, c := range h {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = strconv.AppendUint(buf, uint64(c), 10)
	}
	return append(buf, ']'), nil
}

func (h *hashArray) UnmarshalJSON(data []byte) error {
	var ns []json.Number
	if err := json.Unmarshal(data, &ns); err != nil {
		return fmt.Errorf("previous_hash must be an array of 32 integers: %w", err)
	}
	if len(ns) != len(h) {
		return fmt.Errorf("previous_hash has %d elements, want %d", len(ns), len(h))
	}
	for i, n := range ns {
		v, err := strconv.ParseUint(n.String(), 10, 8)
		if err != nil {
			return fmt.Errorf("previous_hash[%d] = %s is not a byte", i, n)
		}
		h[i] = byte(v)
	}
	return nil
}

// marshal is compact encoding/json without HTML escaping (serde_json does
// not escape <, > or &).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// encode returns the payload (what is hashed) and the full line (without
// the newline) of rec chained after prev. It appends the fields directly
// (encoding/json's reflection and re-compaction of the marshalers' output
// cost ~10 µs per entry, on every audited call); the bytes are those
// marshal gives for record and line (TestEncodeMatchesReflect).
func encode(rec record, prev Hash) (payload, full []byte, err error) {
	if err := rec.Operation.check(); err != nil {
		return nil, nil, err
	}
	full, n, err := encodeLine(nil, rec, prev)
	if err != nil {
		return nil, nil, err
	}
	return append(full[:n:n], '}'), full, nil
}

// encodeLine is encode without a separate payload: the payload is
// full[:n] followed by '}' (chainLine hashes it so), which spares the
// copy on every audited call. The line is appended to buf[:0] (nil: a new
// buffer), so that Append can reuse one buffer for every line. The caller
// has checked rec.Operation (Append, encode).
func encodeLine(buf []byte, rec record, prev Hash) (full []byte, n int, err error) {
	if buf == nil {
		// A line is ~280 bytes plus the operation's arguments.
		buf = make([]byte, 0, 384)
	}
	buf = buf[:0]
	buf = append(buf, `{"format_version":`...)
	buf = strconv.AppendUint(buf, uint64(rec.FormatVersion), 10)
	buf = append(buf, `,"timestamp":`...)
	buf = strconv.AppendUint(buf, rec.Timestamp, 10)
	buf = append(buf, `,"session_handle":`...)
	buf = strconv.AppendUint(buf, rec.SessionHandle, 10)
	buf = append(buf, `,"operation":`...)
	buf = rec.Operation.appendJSON(buf)
	buf = append(buf, `,"key_id":`...)
	if rec.KeyID == nil {
		buf = append(buf, "null"...)
	} else {
		k, err := rec.KeyID.MarshalJSON()
		if err != nil {
			return nil, 0, err
		}
		buf = append(buf, k...)
	}
	buf = append(buf, `,"result":`...)
	if !rec.Result.failed {
		buf = append(buf, `"Success"`...)
	} else {
		buf = strconv.AppendUint(append(buf, `{"Failure":`...), rec.Result.rv, 10)
		buf = append(buf, '}')
	}
	n = len(buf)
	buf = append(buf, `,"previous_hash":[`...)
	// Each byte as "d," (4 bytes copied, advanced by the spelling's length);
	// the last comma becomes the closing bracket.
	at := len(buf)
	buf = slices.Grow(buf, len(prev)*4+1)[:at+len(prev)*4]
	for _, c := range prev {
		d := &byteDec[c]
		copy(buf[at:at+4], d.b[:])
		at += int(d.n)
	}
	buf = buf[:at]
	buf[at-1] = ']'
	return append(buf, '}'), n, nil
}

// byteDec is the decimal spelling of every byte value followed by a comma
// (previous_hash), padded to 4 bytes; n is the spelling's length with the
// comma.
var byteDec = func() (t [256]struct {
	b [4]byte
	n uint8
}) {
	for i := range t {
		s := strconv.Itoa(i) + ","
		copy(t[i].b[:], s)
		t[i].n = uint8(len(s))
	}
	return t
}()

// chainLine is chain for the payload of encodeLine: SHA-256(prev ‖ body ‖ '}').
func chainLine(prev Hash, body []byte) Hash {
	h := sha256.New()
	h.Write(prev[:])
	h.Write(body)
	h.Write([]byte{'}'})
	var out Hash
	h.Sum(out[:0])
	return out
}

// encodeReflect is encode through encoding/json, the reference the fast
// encoder is tested against.
func encodeReflect(rec record, prev Hash) (payload, full []byte, err error) {
	if payload, err = marshal(rec); err != nil {
		return nil, nil, err
	}
	if full, err = marshal(line{rec, hashArray(prev)}); err != nil {
		return nil, nil, err
	}
	return payload, full, nil
}

// chain returns the chain value after an entry: SHA-256(prev ‖ payload).
func chain(prev Hash, payload []byte) Hash {
	h := sha256.New()
	h.Write(prev[:])
	h.Write(payload)
	var out Hash
	h.Sum(out[:0])
	return out
}

// parsed is one decoded line.
type parsed struct {
	rec     record
	prev    Hash
	payload []byte // re-encoded payload, equal to the file's bytes when canonical
}

// decode parses one line (without its newline) strictly: it must be a v0
// entry with exactly Craton's fields, and byte-for-byte the compact
// encoding craton (and Craton) would write for it. The last rule makes any
// change to the text — whitespace, number spelling, field order, escapes —
// an error even where the JSON means the same, so the hash of what was
// written is the hash of what is read.
func decode(raw []byte) (parsed, error) {
	var l line
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return parsed{}, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return parsed{}, errors.New("data after the JSON object")
	}
	if l.FormatVersion != FormatVersion {
		return parsed{}, fmt.Errorf("format_version %d is not supported (only %d)", l.FormatVersion, FormatVersion)
	}
	if l.Operation.name == "" {
		return parsed{}, errors.New("no operation")
	}
	payload, full, err := encode(l.record, Hash(l.PreviousHash))
	if err != nil {
		return parsed{}, err
	}
	if !bytes.Equal(full, raw) {
		return parsed{}, fmt.Errorf("not in canonical form (the text was edited): byte %d differs from the canonical encoding", firstDiff(full, raw)+1)
	}
	return parsed{rec: l.record, prev: Hash(l.PreviousHash), payload: payload}, nil
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
