package inventory_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/craton-co/craton/errs"
	"github.com/craton-co/craton/inventory"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// fixedInventory is a stable inventory for the golden file: live runs
// generate new keys, so their fingerprints and check values change.
func fixedInventory() *inventory.Inventory {
	T, F := inventory.T, inventory.F
	recs := []inventory.Record{
		{Label: "my-signing-key", ID: "01", Class: inventory.ClassCertificate, Token: T(), Private: F(), Modifiable: T(),
			Fingerprint: strings.Repeat("ab", 32), Subject: "CN=my-signing-key", Issuer: "CN=my-signing-key",
			Serial: "5a3c", NotAfter: "2036-01-02T03:04:05Z",
			Links: []string{"private-key:my-signing-key:01", "public-key:my-signing-key:01"}, Disposition: inventory.Copy,
			Reason: "certificate: copied under the same CKA_ID, so it still resolves to its key", Identity: "certificate:my-signing-key:01"},
		{Label: "my-signing-key", ID: "01", Class: inventory.ClassPrivateKey, KeyType: "RSA", Size: "RSA-2048",
			Extractable: T(), Sensitive: T(), Token: T(), Private: T(), Sign: T(), Decrypt: T(), Unwrap: T(), Derive: F(),
			Local: T(), AlwaysSensitive: T(), NeverExtractable: F(), Modifiable: T(), Fingerprint: strings.Repeat("ab", 32),
			Links:       []string{"certificate:my-signing-key:01", "public-key:my-signing-key:01"},
			Disposition: inventory.Wrap, Reason: "CKA_EXTRACTABLE=TRUE: wrap with CKM_AES_KEY_WRAP_PAD (PKCS#8 payload)",
			Identity: "private-key:my-signing-key:01"},
		{Label: "hmac20-x", ID: "16", Class: inventory.ClassSecretKey, KeyType: "GENERIC_SECRET", Size: "GENERIC_SECRET-160",
			Extractable: T(), Sensitive: F(), Token: T(), Private: F(), Sign: T(), Verify: T(), Encrypt: T(), Decrypt: T(),
			Wrap: T(), Unwrap: T(), Derive: F(), Local: T(), AlwaysSensitive: F(), NeverExtractable: F(), Modifiable: T(),
			CheckValue: "0123456789abcdef", CheckMethod: "HMAC-SHA1(0^128)[:8]", Disposition: inventory.Wrap,
			Reason: "zero-pads this 20-byte key to 24 bytes", Identity: "secret-key:hmac20-x:16"},
		{Label: "ed25519-x", ID: "06", Class: inventory.ClassPrivateKey, KeyType: "EC_EDWARDS", Size: "Ed25519",
			Extractable: T(), Sensitive: T(), Token: T(), Private: T(), Disposition: inventory.Regenerate,
			Reason: "SoftHSMv2 2.6 cannot wrap CKK_EC_EDWARDS private keys", Identity: "private-key:ed25519-x:06"},
		{Label: "a, \"quoted\"\nlabel\twith tab", ID: "", Class: inventory.ClassData, Token: T(), Private: T(),
			Disposition: inventory.Copy, Reason: "data object", Identity: "data:a,%20\"quoted\"%0Alabel%09with%20tab:"},
		{Label: inventory.EncodeText([]byte{0xff, 'x', '\r', '\n'}), ID: "00ff", Class: inventory.ClassSecretKey,
			KeyType: "AES", Size: "AES-128", CheckMethod: "none: key allows no operation (CKA_ENCRYPT and CKA_SIGN not TRUE)",
			Disposition: inventory.Blocked, Reason: "target lacks key type CKK_AES", Identity: "secret-key:%FFx%0D%0A:00ff"},
		{Label: inventory.EncodeText([]byte("hex:not really hex")), ID: "0a0b", Class: "CKO_HW_FEATURE",
			Disposition: inventory.Blocked, Reason: "CKO_HW_FEATURE objects belong to the token", Identity: "CKO_HW_FEATURE:hex%3Anot%20really%20hex:0a0b"},
		{Label: "日本語ラベル", ID: "07", Class: inventory.ClassPublicKey, KeyType: "EC", Size: "P-384",
			Disposition: inventory.Copy, Identity: "public-key:日本語ラベル:07#1a2b3c4d~2"},
	}
	for i := range recs {
		inventory.SetSize(&recs[i], recs[i].Size)
	}
	return &inventory.Inventory{Records: recs}
}

func TestCSVGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := inventory.WriteCSV(&buf, fixedInventory()); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "inventory.golden.csv")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./inventory -run TestCSVGolden -update)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("CSV differs from %s (rerun with -update if intended):\n%s", golden, buf.String())
	}
}

func TestCSVRoundTrip(t *testing.T) {
	inv := fixedInventory()
	var buf bytes.Buffer
	if err := inventory.WriteCSV(&buf, inv); err != nil {
		t.Fatal(err)
	}
	back, err := inventory.ReadCSV(&buf)
	if err != nil {
		t.Fatalf("ReadCSV: %v", err)
	}
	if !reflect.DeepEqual(back.Records, inv.Records) {
		for i := range inv.Records {
			if !reflect.DeepEqual(back.Records[i], inv.Records[i]) {
				t.Errorf("record %d:\n got %#v\nwant %#v", i, back.Records[i], inv.Records[i])
			}
		}
	}
	raw, err := inventory.DecodeText(back.Records[5].Label)
	if err != nil || string(raw) != "\xffx\r\n" {
		t.Errorf("non-UTF-8 label decoded to %q, %v", raw, err)
	}
}

func TestEncodeText(t *testing.T) {
	for raw, want := range map[string]string{
		"plain":        "plain",
		"a,b \"c\"\nd": "a,b \"c\"\nd",
		"\xff":         "hex:ff",
		"cr\r":         "hex:63720d",
		"hex:abc":      "hex:6865783a616263",
		"":             "",
	} {
		got := inventory.EncodeText([]byte(raw))
		if got != want {
			t.Errorf("EncodeText(%q) = %q, want %q", raw, got, want)
		}
		back, err := inventory.DecodeText(got)
		if err != nil || string(back) != raw {
			t.Errorf("DecodeText(%q) = %q, %v", got, back, err)
		}
	}
}

// TestColumnsMatchRecordTags keeps the CSV layout and the struct tags in step.
func TestColumnsMatchRecordTags(t *testing.T) {
	var tags []string
	rt := reflect.TypeOf(inventory.Record{})
	for i := 0; i < rt.NumField(); i++ {
		if tag := rt.Field(i).Tag.Get("csv"); tag != "-" {
			tags = append(tags, tag)
		}
	}
	cols := inventory.Columns()
	if !reflect.DeepEqual(cols, tags) {
		t.Errorf("Columns() = %v\ncsv tags  = %v", cols, tags)
	}
	guide := []string{"label", "id", "class", "key_type", "size", "extractable", "sensitive", "token", "private",
		"sign", "verify", "encrypt", "decrypt", "wrap", "unwrap", "derive"}
	if !reflect.DeepEqual(cols[:len(guide)], guide) {
		t.Errorf("first columns %v, want the guide's %v", cols[:len(guide)], guide)
	}
}

func TestReadCSVRejectsMalformedInput(t *testing.T) {
	var good bytes.Buffer
	if err := inventory.WriteCSV(&good, fixedInventory()); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(good.String(), "\n")
	header, row := lines[0], lines[2] // lines[1] is the certificate row
	cells := strings.Split(strings.TrimSuffix(row, "\n"), ",")
	withCell := func(col int, v string) string {
		c := append([]string{}, cells...)
		c[col] = v
		return header + strings.Join(c, ",") + "\n"
	}
	cases := []struct {
		name, input, want string
	}{
		{"empty", "", "line 1: empty input"},
		{"wrong header", strings.Replace(header, "key_type", "type", 1), "line 1, column 4 (type): header column 4 is \"type\", want \"key_type\""},
		{"short header", "label,id\n", "line 1, column 3 (class): header ends after 2 columns"},
		{"extra header", strings.TrimSuffix(header, "\n") + ",extra\n", "line 1, column 32 (extra): unexpected extra column"},
		{"short row", header + "a,b,c\n", "line 2: 3 fields, want 31"},
		{"bad bool", withCell(5, "yes"), "line 2, column 6 (extractable): \"yes\" is not true, false or empty"},
		{"bad id", withCell(1, "0G"), "line 2, column 2 (id)"},
		{"upper-case id", withCell(1, "0A"), "line 2, column 2 (id)"},
		{"bad class", withCell(2, "key"), "line 2, column 3 (class): unknown class"},
		{"bad disposition", withCell(28, "move"), "line 2, column 29 (disposition)"},
		{"bad hex label", withCell(0, "hex:zz"), "line 2, column 1 (label)"},
		{"non-canonical label", withCell(0, "\"a\tb\x01\""), "line 2, column 1 (label)"},
		{"bad fingerprint", withCell(20, "abcd"), "line 2, column 21 (fingerprint)"},
		{"bad not_after", withCell(26, "tomorrow"), "line 2, column 27 (not_after)"},
		{"bad link", withCell(27, "a;b"), "line 2, column 28 (links)"},
		{"bad identity", withCell(30, "no colons"), "line 2, column 31 (identity)"},
		{"bare quote", header + "a\"b" + strings.Repeat(",", 30) + "\n", "line 2, column 2 (byte): bare \" in non-quoted-field"},
		{"line after a multi-line label", good.String() + withCell(9, "maybe")[len(header):], // the data row spans two lines
			"line 11, column 10 (sign)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := inventory.ReadCSV(strings.NewReader(c.input))
			if err == nil {
				t.Fatal("accepted")
			}
			if errs.KindOf(err) != errs.KindInput {
				t.Errorf("kind %d, want KindInput: %v", errs.KindOf(err), err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
}
