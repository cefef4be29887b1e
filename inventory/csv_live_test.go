package inventory_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/craton-co/craton/internal/softhsmtest"
	"github.com/craton-co/craton/inventory"
)

// testLiveCSVRoundTrip: the CSV of a real inventory reads back to the same
// records (token info is not in the CSV by design).
func testLiveCSVRoundTrip(t *testing.T, src source) {
	inv, _ := src.take(t, inventory.Options{PIN: softhsmtest.UserPIN})
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
			if i < len(back.Records) && !reflect.DeepEqual(back.Records[i], inv.Records[i]) {
				t.Errorf("record %d differs:\n got %+v\nwant %+v", i, back.Records[i], inv.Records[i])
			}
		}
		t.Fatalf("round trip changed the records (%d vs %d)", len(back.Records), len(inv.Records))
	}
}
