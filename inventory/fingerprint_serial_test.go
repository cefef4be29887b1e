package inventory

import (
	"math/big"
	"testing"
)

// A serial whose top nibble is zero once failed the CSV reader's hex check
// (big.Int.Text drops the leading zero): regression test.
func TestSerialHexKeepsWholeBytes(t *testing.T) {
	n, _ := new(big.Int).SetString("4f0752a8f8ccadab238d3e6526b294c", 16)
	if got := serialHex(n); got != "04f0752a8f8ccadab238d3e6526b294c" {
		t.Fatalf("serialHex = %s", got)
	}
	if err := validSerial(serialHex(n)); err != nil {
		t.Fatal(err)
	}
	if got := serialHex(big.NewInt(-0x1ab)); got != "-01ab" {
		t.Fatalf("negative serial = %s", got)
	}
}
