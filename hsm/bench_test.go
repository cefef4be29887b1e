package hsm

import (
	"bytes"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/miekg/pkcs11"
)

// BenchmarkCreateTokenObject measures C_CreateObject of a private token
// object: seal + one fsynced bbolt commit. Reports the median too.
func BenchmarkCreateTokenObject(b *testing.B) {
	c, sh := ready(b, b.TempDir())
	key := bytes.Repeat([]byte{9}, 32)
	times := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := c.CreateObject(sh, aesTemplate(fmt.Sprint("b", i), "", key, true)); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	b.StopTimer()
	reportMedian(b, times)
}

// BenchmarkLogin measures C_Login as the user: one PBKDF2 at the configured
// iteration count (the default, 600,000, unless -short) plus the OMK unwrap.
func BenchmarkLogin(b *testing.B) {
	cfg := testConfig(b.TempDir())
	if !testing.Short() {
		cfg.Security.PBKDF2Iterations = 600_000
	}
	c := openCtx(b, cfg)
	must(b, c.InitToken(0, soPIN, "bench"))
	sh := rwSession(b, c)
	must(b, c.Login(sh, pkcs11.CKU_SO, soPIN))
	must(b, c.InitPIN(sh, userPIN))
	must(b, c.Logout(sh))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		must(b, c.Login(sh, pkcs11.CKU_USER, userPIN))
		b.StopTimer()
		must(b, c.Logout(sh))
		b.StartTimer()
	}
	b.ReportMetric(float64(cfg.Security.PBKDF2Iterations), "pbkdf2-iterations")
}

// BenchmarkFind10000 measures a search by label among 10,000 objects
// (indexed), and BenchmarkFind10000Scan one by an unindexed attribute
// (a scan of all objects). Neither decrypts anything.
func BenchmarkFind10000(b *testing.B) {
	benchFind(b, 1, pkcs11.NewAttribute(pkcs11.CKA_LABEL, "obj-4321"))
}

func BenchmarkFind10000Scan(b *testing.B) {
	benchFind(b, 1, pkcs11.NewAttribute(pkcs11.CKA_APPLICATION, "app-4321"))
}

func benchFind(b *testing.B, want int, tmpl ...*pkcs11.Attribute) {
	c, sh := ready(b, b.TempDir())
	for i := 0; i < 10000; i++ {
		t := append(dataTemplate(fmt.Sprint("obj-", i), false, i%2 == 0), pkcs11.NewAttribute(pkcs11.CKA_APPLICATION, fmt.Sprint("app-", i)))
		if _, err := c.CreateObject(sh, t); err != nil {
			b.Fatal(err)
		}
	}
	times := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		hs := findAll(b, c, sh, tmpl...)
		times = append(times, time.Since(start))
		if len(hs) != want {
			b.Fatalf("found %d", len(hs))
		}
	}
	b.StopTimer()
	reportMedian(b, times)
}

func reportMedian(b *testing.B, times []time.Duration) {
	if len(times) == 0 {
		return
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "median-ms")
}
