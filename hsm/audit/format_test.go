package audit

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// zeros is previous_hash for the first entry, written out by hand.
const zeros = "[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]"

func hashJSON(h [32]byte) string {
	parts := make([]string, len(h))
	for i, c := range h {
		parts[i] = fmt.Sprint(c)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// TestGoldenLines pins the exact bytes of lines built by hand from the
// reference's description of Craton's v0 format, and the chain over them
// computed independently with crypto/sha256.
func TestGoldenLines(t *testing.T) {
	kid := "k<&>\u2028\"\\\n\x01\x7f"
	tests := []struct {
		rec     record
		payload string
	}{
		{record{Timestamp: 1700000000000000001, SessionHandle: 7, Operation: Sign(0x1044, true), Result: resultOf(0)},
			`{"format_version":0,"timestamp":1700000000000000001,"session_handle":7,"operation":{"Sign":{"mechanism":4164,"fips_approved":true}},"key_id":null,"result":"Success"}`},
		{record{Timestamp: 1700000000000000002, Operation: Initialize(), Result: resultOf(0)},
			`{"format_version":0,"timestamp":1700000000000000002,"session_handle":0,"operation":"Initialize","key_id":null,"result":"Success"}`},
		{record{Timestamp: 1700000000000000003, SessionHandle: 18446744073709551615, Operation: Login(1), Result: resultOf(0xA0)},
			`{"format_version":0,"timestamp":1700000000000000003,"session_handle":18446744073709551615,"operation":{"Login":{"user_type":1}},"key_id":null,"result":{"Failure":160}}`},
		// serde_json string escapes: <, >, &, U+2028 and DEL raw; control
		// characters short or \u00xx lowercase.
		{record{Timestamp: 1700000000000000004, SessionHandle: 2, Operation: GenerateKey(0x1080, 32, true), KeyID: (*keyID)(&kid), Result: resultOf(0)},
			`{"format_version":0,"timestamp":1700000000000000004,"session_handle":2,"operation":{"GenerateKey":{"mechanism":4224,"key_length":32,"fips_approved":true}},"key_id":"k<&>` + "\u2028" + `\"\\\n\u0001` + "\x7f" + `","result":"Success"}`},
		{record{Timestamp: 1700000000000000005, Operation: SelfTest(9, "AES-256-CBC KAT", false), Result: resultOf(0x5)},
			`{"format_version":0,"timestamp":1700000000000000005,"session_handle":0,"operation":{"SelfTest":{"num":9,"name":"AES-256-CBC KAT","passed":false}},"key_id":null,"result":{"Failure":5}}`},
		{record{Timestamp: 1700000000000000006, Operation: POST(false, 1), Result: resultOf(0x5)},
			`{"format_version":0,"timestamp":1700000000000000006,"session_handle":0,"operation":{"POST":{"passed":false,"failed_count":1}},"key_id":null,"result":{"Failure":5}}`},
	}
	var h [32]byte // H0
	for i, tt := range tests {
		payload, full, err := encode(tt.rec, h)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if string(payload) != tt.payload {
			t.Errorf("entry %d payload\n got %s\nwant %s", i, payload, tt.payload)
		}
		wantLine := strings.TrimSuffix(tt.payload, "}") + `,"previous_hash":` + hashJSON(h) + "}"
		if i == 0 && !strings.HasSuffix(wantLine, `"previous_hash":`+zeros+"}") {
			t.Fatalf("first line must start from the zero hash")
		}
		if string(full) != wantLine {
			t.Errorf("entry %d line\n got %s\nwant %s", i, full, wantLine)
		}
		// The line must read back to itself.
		p, err := decode(full)
		if err != nil {
			t.Fatalf("entry %d: decode: %v", i, err)
		}
		if string(p.payload) != tt.payload || p.prev != h {
			t.Errorf("entry %d: decode gave payload %s prev %x", i, p.payload, p.prev)
		}
		h = sha256.Sum256(append(h[:], tt.payload...))
		if got := chain(Hash(p.prev), p.payload); got != h {
			t.Errorf("entry %d: chain = %x, want %x", i, got, h)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	good := `{"format_version":0,"timestamp":5,"session_handle":1,"operation":"Logout","key_id":null,"result":"Success","previous_hash":` + zeros + `}`
	if _, err := decode([]byte(good)); err != nil {
		t.Fatalf("good line: %v", err)
	}
	bad := map[string]string{
		"space":           strings.Replace(good, `"timestamp":5`, `"timestamp": 5`, 1),
		"field order":     `{"timestamp":5,"format_version":0` + good[len(`{"format_version":0,"timestamp":5`):],
		"unknown field":   strings.Replace(good, `"key_id":null`, `"key_id":null,"mech_name":"x"`, 1),
		"missing result":  strings.Replace(good, `"result":"Success",`, ``, 1),
		"version 1":       strings.Replace(good, `"format_version":0`, `"format_version":1`, 1),
		"31-byte hash":    strings.Replace(good, zeros, "[0"+strings.Repeat(",0", 30)+"]", 1),
		"hash byte 256":   strings.Replace(good, zeros, "[256"+strings.Repeat(",0", 31)+"]", 1),
		"unknown op":      strings.Replace(good, `"Logout"`, `"Logon"`, 1),
		"unit with args":  strings.Replace(good, `"Logout"`, `{"Logout":{}}`, 1),
		"args missing":    strings.Replace(good, `"Logout"`, `{"Sign":{"mechanism":1}}`, 1),
		"arg type":        strings.Replace(good, `"Logout"`, `{"Sign":{"mechanism":1,"fips_approved":1}}`, 1),
		"negative":        strings.Replace(good, `"Logout"`, `{"OpenSession":{"slot_id":-1}}`, 1),
		"leading zero":    strings.Replace(good, `"session_handle":1`, `"session_handle":01`, 1),
		"result spelling": strings.Replace(good, `"Success"`, `"success"`, 1),
		"failure float":   strings.Replace(good, `"Success"`, `{"Failure":1.0}`, 1),
		"trailing":        good + " ",
		"escaped slash":   strings.Replace(good, `"key_id":null`, `"key_id":"a\/b"`, 1),
		"html escape":     strings.Replace(good, `"key_id":null`, `"key_id":"\u003c"`, 1),
		"not json":        "hello",
	}
	for name, line := range bad {
		if _, err := decode([]byte(line)); err == nil {
			t.Errorf("%s: decode accepted %s", name, line)
		}
	}
}

func TestOperations(t *testing.T) {
	ops := map[string]Operation{
		`"Initialize"`:                  Initialize(),
		`"Finalize"`:                    Finalize(),
		`"CloseSession"`:                CloseSession(),
		`"Logout"`:                      Logout(),
		`"SetPIN"`:                      SetPIN(),
		`"CreateObject"`:                CreateObject(),
		`"DestroyObject"`:               DestroyObject(),
		`"CopyObject"`:                  CopyObject(),
		`"GetAttributeValue"`:           GetAttributeValue(),
		`{"OpenSession":{"slot_id":3}}`: OpenSession(3),
		`{"Login":{"user_type":0}}`:     Login(0),
		`{"InitToken":{"slot_id":1}}`:   InitToken(1),
		`{"InitPIN":{"slot_id":2}}`:     InitPIN(2),
		`{"GenerateKeyPair":{"mechanism":0,"key_length":3072,"fips_approved":true}}`: GenerateKeyPair(0, 3072, true),
		`{"Verify":{"mechanism":4161,"fips_approved":true}}`:                         VerifySignature(0x1041, true),
		`{"Encrypt":{"mechanism":4231,"fips_approved":true}}`:                        Encrypt(0x1087, true),
		`{"Decrypt":{"mechanism":4229,"fips_approved":true}}`:                        Decrypt(0x1085, true),
		`{"Digest":{"mechanism":592,"fips_approved":true}}`:                          Digest(0x250, true),
		`{"WrapKey":{"mechanism":8457,"fips_approved":true}}`:                        WrapKey(0x2109, true),
		`{"UnwrapKey":{"mechanism":8458,"fips_approved":false}}`:                     UnwrapKey(0x210A, false),
		`{"DeriveKey":{"mechanism":4176,"fips_approved":true}}`:                      DeriveKey(0x1050, true),
		`{"GenerateRandom":{"length":32}}`:                                           GenerateRandom(32),
		`{"FindObjects":{"result_count":4}}`:                                         FindObjects(4),
		`{"Zeroize":{"key_length":32}}`:                                              Zeroize(32),
		`{"SelfTest":{"num":0,"name":"Software integrity","passed":true}}`:           SelfTest(0, "Software integrity", true),
		`{"POST":{"passed":true,"failed_count":0}}`:                                  POST(true, 0),
	}
	seen := map[string]bool{}
	for want, op := range ops {
		got, err := json.Marshal(op)
		if err != nil || string(got) != want {
			t.Errorf("%s: marshal = %s, %v; want %s", op.Name(), got, err, want)
		}
		var back Operation
		if err := json.Unmarshal([]byte(want), &back); err != nil {
			t.Errorf("%s: unmarshal: %v", want, err)
		} else if back.String() != op.String() {
			t.Errorf("%s: round trip %s, want %s", want, back, op)
		}
		seen[op.Name()] = true
	}
	for _, n := range []string{"Sign", "GenerateKey"} {
		seen[n] = true // covered by TestGoldenLines
	}
	for _, n := range OperationNames() {
		if !seen[n] {
			t.Errorf("operation %s has no test", n)
		}
	}
	if got := Sign(0x40, true).String(); got != "Sign{mechanism=CKM_SHA256_RSA_PKCS, fips_approved=true}" {
		t.Errorf("String() = %q", got)
	}
	if m, ok := Sign(0x40, true).Mechanism(); !ok || m != 0x40 {
		t.Errorf("Mechanism() = %v, %v", m, ok)
	}
	if _, ok := Login(1).Mechanism(); ok {
		t.Error("Login has no mechanism")
	}
	if _, err := json.Marshal(Operation{}); err == nil {
		t.Error("the zero Operation must not marshal")
	}
	if _, err := json.Marshal(SelfTest(1, "bad\xff", true)); err == nil {
		t.Error("invalid UTF-8 must not marshal")
	}
}
