package wrapmove

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/miekg/pkcs11"
)

// BenchmarkMove1000 moves 1000 extractable keys (800 AES-256, 200 EC P-256
// key pairs) from one SoftHSMv2 token to another and reports keys/s and
// the cost per key. Each iteration moves into a freshly emptied target.
// Engine target: plug the embedded engine in as opts.Target later.
func BenchmarkMove1000(b *testing.B) {
	opts := moveOpts(b, "bench-tgt")
	opts.SourceToken = token(b, opts.Source, "bench-src")
	populateBench(b, opts, 800, 200)
	keys := 0
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		emptyTarget(b, opts)
		b.StartTimer()
		start := time.Now()
		res, err := Move(context.Background(), opts)
		total += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		keys += res.Counts.Moved
	}
	b.ReportMetric(float64(keys)/total.Seconds(), "keys/s")
	b.ReportMetric(float64(total.Microseconds())/float64(keys)/1000, "ms/key")
}

func populateBench(b *testing.B, opts MoveOptions, secrets, pairs int) {
	s, err := openSide(opts.Source, opts.SourceToken, userPIN, true)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if hs, _ := s.FindAll(nil); len(hs) >= secrets+2*pairs {
		return
	}
	for i := 0; i < secrets; i++ {
		_, err := s.M.GenerateKey(s.H, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)}, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true), pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32),
			pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true), pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, fmt.Sprintf("bench-aes-%04d", i)), pkcs11.NewAttribute(pkcs11.CKA_ID, []byte{0xa0, byte(i >> 8), byte(i)}),
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < pairs; i++ {
		id := []byte{0xec, byte(i >> 8), byte(i)}
		label := fmt.Sprintf("bench-ec-%04d", i)
		_, _, err := s.M.GenerateKeyPair(s.H, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_EC_KEY_PAIR_GEN, nil)},
			[]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true), pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, p256Params),
				pkcs11.NewAttribute(pkcs11.CKA_LABEL, label), pkcs11.NewAttribute(pkcs11.CKA_ID, id), pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true)},
			[]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true), pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
				pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true), pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true),
				pkcs11.NewAttribute(pkcs11.CKA_SIGN, true), pkcs11.NewAttribute(pkcs11.CKA_LABEL, label), pkcs11.NewAttribute(pkcs11.CKA_ID, id)})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func emptyTarget(b *testing.B, opts MoveOptions) {
	s, err := openSide(opts.Target, opts.TargetToken, userPIN, true)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	hs, err := s.FindAll(nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, h := range hs {
		if err := s.M.DestroyObject(s.H, h); err != nil {
			b.Fatal(err)
		}
	}
}
