// Command benchreport prints `go test -bench` output as one Markdown table per package, each
// benchmark with its time per operation, its own metrics, and its speed against the baseline
// measured beside it in the same run: a sibling sub-benchmark with a baseline's name
// (BenchmarkMerge/rows=1000000/streaming against …/in-memory), or BenchmarkXNaive for
// BenchmarkX. With -count above 1 the median of the runs is shown.
//
// Usage: go run ./infra/benchreport bench.txt
package main

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// baselines are the names the project gives its baseline sub-benchmarks, in order of preference.
var baselines = []string{"in-memory", "single-file", "naive", "naive64", "gocsv", "numeric-gradient", "numeric", "prophet-loop", "cold", "full-retrain", "1worker", "trend-only"}

type measurement struct {
	pkg, name string
	units     []string
	values    map[string][]float64
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: benchreport BENCH_OUTPUT_FILE")
		os.Exit(2)
	}
	file, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
	defer file.Close()
	results, err := read(file, os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
	write(os.Stdout, results)
}

// read collects the measurements of every benchmark, in the order they first appear.
func read(r io.Reader, name string) ([]*measurement, error) {
	reader := benchfmt.NewReader(r, name)
	byKey := map[string]*measurement{}
	var order []*measurement
	for reader.Scan() {
		result, ok := reader.Result().(*benchfmt.Result)
		if !ok {
			continue
		}
		base, parts := result.Name.Parts()
		full := strings.TrimPrefix(string(base), "Benchmark")
		for _, part := range parts {
			if !strings.HasPrefix(string(part), "-") { // drop the -GOMAXPROCS suffix
				full += string(part)
			}
		}
		key := result.GetConfig("pkg") + " " + full
		m := byKey[key]
		if m == nil {
			m = &measurement{pkg: result.GetConfig("pkg"), name: full, values: map[string][]float64{}}
			byKey[key] = m
			order = append(order, m)
		}
		for _, v := range result.Values {
			unit, value := v.Unit, v.Value
			if v.OrigUnit != "" && unit != "sec/op" {
				unit, value = v.OrigUnit, v.OrigValue // as the benchmark reported it: MB/s, not B/s
			}
			if _, seen := m.values[unit]; !seen {
				m.units = append(m.units, unit)
			}
			m.values[unit] = append(m.values[unit], value)
		}
	}
	return order, reader.Err()
}

func median(values []float64) float64 {
	sorted := slices.Sorted(slices.Values(values))
	return sorted[len(sorted)/2]
}

// baselineOf finds the benchmark m is compared with, if any: the benchmark whose name has a
// baseline's name in place of one of m's name elements (Merge/rows=1000000/in-memory for
// Merge/rows=1000000/streaming, Gemm/naive64/32x200x50 for Gemm/lstm32/32x200x50), or
// BenchmarkXNaive for BenchmarkX/….
func baselineOf(m *measurement, all []*measurement) *measurement {
	parts := strings.Split(m.name, "/")
	for _, part := range parts {
		if slices.Contains(baselines, part) {
			return nil
		}
	}
	find := func(name string) *measurement {
		for _, other := range all {
			if other.pkg == m.pkg && other.name == name {
				return other
			}
		}
		return nil
	}
	for _, candidate := range baselines {
		for i := 1; i < len(parts); i++ {
			replaced := slices.Clone(parts)
			replaced[i] = candidate
			if other := find(strings.Join(replaced, "/")); other != nil {
				return other
			}
		}
	}
	if other := find(parts[0] + "Naive"); other != nil {
		return other
	}
	return find(strings.Join(append([]string{parts[0] + "Naive"}, parts[1:]...), "/"))
}

func write(w io.Writer, all []*measurement) {
	packages := []string{}
	for _, m := range all {
		if !slices.Contains(packages, m.pkg) {
			packages = append(packages, m.pkg)
		}
	}
	for _, pkg := range packages {
		fmt.Fprintf(w, "\n%s\n\n| benchmark | time/op | metrics | against the baseline |\n| --- | --- | --- | --- |\n", cmp.Or(pkg, "(no package)"))
		for _, m := range all {
			if m.pkg != pkg {
				continue
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", m.name, duration(median(m.values["sec/op"])), metrics(m), versus(m, all))
		}
	}
}

func metrics(m *measurement) string {
	var parts []string
	for _, unit := range m.units {
		if unit == "sec/op" || unit == "allocs/op" && median(m.values[unit]) == 0 {
			continue
		}
		parts = append(parts, number(median(m.values[unit]))+" "+unit)
	}
	return strings.Join(parts, ", ")
}

func versus(m *measurement, all []*measurement) string {
	base := baselineOf(m, all)
	if base == nil {
		return ""
	}
	ratio := median(base.values["sec/op"]) / median(m.values["sec/op"])
	name := base.name // the element that differs names the baseline
	mine, theirs := strings.Split(m.name, "/"), strings.Split(base.name, "/")
	for i := range min(len(mine), len(theirs)) {
		if mine[i] != theirs[i] {
			name = theirs[i]
			break
		}
	}
	if ratio >= 1 {
		return fmt.Sprintf("%.1f× faster than %s", ratio, name)
	}
	return fmt.Sprintf("%.2f× the speed of %s", ratio, name)
}

func duration(seconds float64) string {
	switch {
	case seconds >= 1:
		return strconv.FormatFloat(seconds, 'f', 2, 64) + " s"
	case seconds >= 1e-3:
		return strconv.FormatFloat(seconds*1e3, 'f', 2, 64) + " ms"
	case seconds >= 1e-6:
		return strconv.FormatFloat(seconds*1e6, 'f', 2, 64) + " µs"
	}
	return strconv.FormatFloat(seconds*1e9, 'f', 0, 64) + " ns"
}

// number writes a value with four significant digits, without an exponent in the usual range.
func number(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	if v == 0 || (v >= 1e-3 && v < 1e9) || (v <= -1e-3 && v > -1e9) {
		digits := max(0, 3-int(math.Floor(math.Log10(math.Abs(v)))))
		return strconv.FormatFloat(v, 'f', min(digits, 6), 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}
