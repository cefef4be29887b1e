package audit

import (
	"bytes"
	"testing"
)

// The hand-written encoder must give exactly encoding/json's bytes (the
// chain hashes them and decode's canonical-form check compares them).
func TestEncodeMatchesReflect(t *testing.T) {
	kid := keyID("k\"ey<&>\u00e9\u2028\x01")
	empty := keyID("")
	ops := []Operation{
		Initialize(), Finalize(), CloseSession(), Logout(), SetPIN(), CreateObject(), DestroyObject(), GetAttributeValue(), CopyObject(),
		OpenSession(7), Login(1), InitToken(0), InitPIN(3), GenerateKey(0x1080, 32, true), GenerateKeyPair(0x1040, 256, false),
		Sign(0x40, true), VerifySignature(0x1041, true), Encrypt(0x1087, true), Decrypt(0x1087, false), Digest(0x250, true),
		WrapKey(0x210A, true), UnwrapKey(0x210A, true), DeriveKey(0x1050, false), GenerateRandom(1 << 20), FindObjects(0),
		Zeroize(32), SelfTest(12, `name "quoted" <tag> & \ back`, true), SelfTest(0, "", false), POST(true, 0), POST(false, 3),
	}
	var prev Hash
	for i := range prev {
		prev[i] = byte(i * 37)
	}
	for _, op := range ops {
		for _, k := range []*keyID{nil, &kid, &empty} {
			for _, rv := range []uint{0, 0xC0, 0x80000001} {
				rec := record{FormatVersion: FormatVersion, Timestamp: 1_700_000_000_123_456_789, SessionHandle: 0xfffffffe, Operation: op, KeyID: k, Result: resultOf(rv)}
				p1, f1, err1 := encode(rec, prev)
				p2, f2, err2 := encodeReflect(rec, prev)
				if (err1 == nil) != (err2 == nil) {
					t.Fatalf("%v: errors differ: %v / %v", op, err1, err2)
				}
				if !bytes.Equal(p1, p2) || !bytes.Equal(f1, f2) {
					t.Fatalf("%v: encodings differ:\n%s\n%s\n%s\n%s", op, p1, p2, f1, f2)
				}
				if f3, n, err := encodeLine(nil, rec, prev); err == nil && (!bytes.Equal(f3, f1) || chainLine(prev, f3[:n]) != chain(prev, p1)) {
					t.Fatalf("%v: encodeLine/chainLine differ from encode/chain", op)
				}
				// An operation encoded once (Encoded, as the engine caches them).
				if eop, err := op.Encoded(); err == nil {
					erec := rec
					erec.Operation = eop
					if f5, _, _ := encodeLine(nil, erec, prev); !bytes.Equal(f5, f1) {
						t.Fatalf("%v: the Encoded operation's line differs:\n%s\n%s", op, f5, f1)
					}
				} else if err1 == nil {
					t.Fatalf("%v: Encoded: %v", op, err)
				}
				// A reused buffer (Append's scratch) holding an older line.
				if f4, _, err := encodeLine(bytes.Repeat([]byte{'x'}, 500), rec, prev); err == nil && !bytes.Equal(f4, f1) {
					t.Fatalf("%v: encodeLine into a used buffer differs", op)
				}
				if _, err := decode(f1); err != nil {
					t.Fatalf("%v: decode of the fast encoding: %v", op, err)
				}
			}
		}
	}
	bad := keyID("\xff")
	if _, _, err := encode(record{Operation: Initialize(), KeyID: &bad}, prev); err == nil {
		t.Fatal("invalid UTF-8 key_id encoded")
	}
}

func BenchmarkEncode(b *testing.B) {
	rec := record{Timestamp: 1, SessionHandle: 2, Operation: Sign(0x40, true)}
	for b.Loop() {
		encode(rec, Hash{})
	}
}
