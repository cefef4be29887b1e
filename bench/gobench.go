package main

import (
	"bufio"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// goBenchResult is the output of the repository's Go benchmarks.
type goBenchResult struct {
	Cmds  []string
	Lines []goBenchLine
	Took  time.Duration
}

type goBenchLine struct {
	Pkg, Name string
	N         string
	Metrics   []string // "123 ns/op", "4 allocs/op", "45 keys/s", …
}

// goBenchmarks runs `go test -bench` over the engine, inventory and
// wrapmove packages (wrapmove's Move1000 once: it moves 1,000 keys per
// iteration).
func goBenchmarks() (*goBenchResult, error) {
	res := &goBenchResult{}
	start := time.Now()
	for _, args := range [][]string{
		{"test", "-run", "^$", "-bench", ".", "-benchtime", "300ms", "-benchmem", "./hsm/...", "./inventory"},
		{"test", "-run", "^$", "-bench", ".", "-benchtime", "1x", "-benchmem", "./wrapmove"},
	} {
		res.Cmds = append(res.Cmds, "go "+strings.Join(args, " "))
		logf("gobench: go %s", strings.Join(args, " "))
		out, err := exec.Command("go", args...).CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, tail(string(out), 3000))
		}
		res.Lines = append(res.Lines, parseBench(string(out))...)
	}
	res.Took = time.Since(start)
	return res, nil
}

func parseBench(out string) []goBenchLine {
	var lines []goBenchLine
	pkg := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		l := sc.Text()
		if p, ok := strings.CutPrefix(l, "pkg: "); ok {
			pkg = strings.TrimPrefix(p, "github.com/craton-co/craton/")
			continue
		}
		if !strings.HasPrefix(l, "Benchmark") {
			continue
		}
		f := strings.Fields(l)
		if len(f) < 4 {
			continue
		}
		bl := goBenchLine{Pkg: pkg, Name: f[0], N: f[1]}
		for i := 2; i+1 < len(f); i += 2 {
			bl.Metrics = append(bl.Metrics, f[i]+" "+f[i+1])
		}
		lines = append(lines, bl)
	}
	return lines
}
