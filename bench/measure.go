package main

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// stats accumulates one (row, variant) cell over all rounds.
type stats struct {
	Durs []time.Duration // per-operation latencies
	Ops  int
	Busy time.Duration // wall time of the slices (throughput = Ops/Busy)
}

func (s *stats) median() time.Duration { return s.quantile(0.5) }
func (s *stats) p99() time.Duration    { return s.quantile(0.99) }

func (s *stats) quantile(q float64) time.Duration {
	if s == nil || len(s.Durs) == 0 {
		return 0
	}
	d := slices.Clone(s.Durs)
	slices.Sort(d)
	i := int(math.Ceil(q*float64(len(d)))) - 1
	return d[min(max(i, 0), len(d)-1)]
}

func (s *stats) opsPerSec() float64 {
	if s == nil || s.Busy <= 0 {
		return 0
	}
	return float64(s.Ops) / s.Busy.Seconds()
}

// slice runs ops for about budget (at least minIters per op function):
// one function runs on this goroutine; several run concurrently, one
// goroutine each (the multi-threaded rows, one PKCS#11 session each).
func slice(ops []opFn, budget time.Duration, minIters int, into *stats) error {
	type res struct {
		durs []time.Duration
		err  error
	}
	out := make([]res, len(ops))
	run := func(i int, deadline time.Time) {
		op := out[i].durs[:0]
		for n := 0; n < minIters || time.Now().Before(deadline); n++ {
			t0 := time.Now()
			after, err := ops[i]()
			d := time.Since(t0)
			if after != nil {
				after()
			}
			if err != nil {
				out[i].err = err
				break
			}
			op = append(op, d)
		}
		out[i].durs = op
	}
	start := time.Now()
	deadline := start.Add(budget)
	if len(ops) == 1 {
		run(0, deadline)
	} else {
		var wg sync.WaitGroup
		for i := range ops {
			wg.Go(func() { run(i, deadline) })
		}
		wg.Wait()
	}
	into.Busy += time.Since(start)
	for _, r := range out {
		if r.err != nil {
			return r.err
		}
		into.Durs = append(into.Durs, r.durs...)
		into.Ops += len(r.durs)
	}
	return nil
}

func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < 10*time.Microsecond:
		return fmt.Sprintf("%.2f µs", float64(d)/1e3)
	case d < time.Millisecond:
		return fmt.Sprintf("%.1f µs", float64(d)/1e3)
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func fmtRate(r float64) string {
	switch {
	case r <= 0:
		return "—"
	case r >= 10000:
		return fmt.Sprintf("%.0f", r)
	case r >= 100:
		return fmt.Sprintf("%.0f", r)
	case r >= 10:
		return fmt.Sprintf("%.1f", r)
	}
	return fmt.Sprintf("%.2f", r)
}
