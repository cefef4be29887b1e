package inventory_test

import (
	"testing"
	"time"

	"github.com/craton-co/craton/internal/softhsmtest"
	"github.com/craton-co/craton/inventory"
)

// BenchmarkInventory1000 takes the inventory of a 1,000-object SoftHSMv2
// token and reports objects/s and PKCS#11 calls per object (all calls,
// including the fixed mechanism-list and login cost).
func BenchmarkInventory1000(b *testing.B) {
	f := softhsmtest.New(b)
	tok := f.EmptyToken("bench-1000")
	start := time.Now()
	softhsmtest.PopulateBulk(tok, 1000)
	b.Logf("built 1,000 objects in %v", time.Since(start))
	p11tok := tok.P11()
	cm := &countingModule{m: f.Module()}
	b.ResetTimer()
	var objects int
	for i := 0; i < b.N; i++ {
		inv, err := inventory.Take(cm, p11tok, inventory.Options{PIN: softhsmtest.UserPIN})
		if err != nil {
			b.Fatal(err)
		}
		objects += len(inv.Records)
	}
	b.StopTimer()
	if objects != 1000*b.N {
		b.Fatalf("%d objects over %d runs, want 1000 each", objects, b.N)
	}
	b.ReportMetric(float64(objects)/b.Elapsed().Seconds(), "objects/s")
	b.ReportMetric(float64(cm.calls.Load())/float64(objects), "calls/object")
}
