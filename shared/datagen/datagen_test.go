package datagen

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func generate(t testing.TB, cfg Config) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(context.Background(), &buf, cfg); err != nil {
		t.Fatalf("Write(%+v): %v", cfg, err)
	}
	return buf.String()
}

func records(t testing.TB, s string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatalf("generated CSV does not parse: %v", err)
	}
	return recs
}

func TestWriteShapeAndValues(t *testing.T) {
	cfg := Config{Products: 12, Days: 400, Seed: 7, Start: time.Date(2023, 3, 1, 15, 0, 0, 0, time.UTC)}
	recs := records(t, generate(t, cfg))
	if got := strings.Join(recs[0], ","); got != Header {
		t.Fatalf("header = %q, want %q", got, Header)
	}
	rows := recs[1:]
	if len(rows) != cfg.Rows() || len(rows) != 12*400 {
		t.Fatalf("rows = %d, want %d", len(rows), 12*400)
	}
	if rows[0][0] != "2023-03-01" || rows[len(rows)-1][0] != "2024-04-03" {
		t.Errorf("date range %s … %s", rows[0][0], rows[len(rows)-1][0])
	}
	cats, regs := Categories(), Regions()
	for i, r := range rows {
		if i > 0 {
			prev := rows[i-1]
			if prev[0] > r[0] || (prev[0] == r[0] && prev[1] >= r[1]) {
				t.Fatalf("row %d (%s,%s) not after (%s,%s)", i, r[0], r[1], prev[0], prev[1])
			}
		}
		if _, err := time.Parse(time.DateOnly, r[0]); err != nil {
			t.Fatalf("row %d: bad date %q", i, r[0])
		}
		sales, err := strconv.ParseFloat(r[2], 64)
		if err != nil || sales < 0 || sales != math.Trunc(sales) {
			t.Fatalf("row %d: bad sales %q", i, r[2])
		}
		if !slices.Contains(cats, r[3]) || !slices.Contains(regs, r[4]) {
			t.Fatalf("row %d: unknown category/region %q/%q", i, r[3], r[4])
		}
		price, err1 := strconv.ParseFloat(r[5], 64)
		disc, err2 := strconv.Atoi(r[6])
		rating, err3 := strconv.ParseFloat(r[7], 64)
		if err1 != nil || err2 != nil || err3 != nil || price <= 0 || disc < 0 || disc > 25 || disc%5 != 0 || rating < 1 || rating > 5 {
			t.Fatalf("row %d: implausible price/discount/rating %v", i, r[5:])
		}
	}
}

func TestSeasonalityAndTrendAreVisible(t *testing.T) {
	// Weekly pattern: summed over many products, Saturdays sell more than Wednesdays.
	rows := records(t, generate(t, Config{Products: 50, Days: 7 * 20, Seed: 3}))[1:]
	byDay := map[time.Weekday]float64{}
	for _, r := range rows {
		d, _ := time.Parse(time.DateOnly, r[0])
		s, _ := strconv.ParseFloat(r[2], 64)
		byDay[d.Weekday()] += s
	}
	if byDay[time.Saturday] <= byDay[time.Wednesday] {
		t.Errorf("no weekly pattern: saturday %v, wednesday %v", byDay[time.Saturday], byDay[time.Wednesday])
	}
}

func TestDeterministic(t *testing.T) {
	cfg := Config{Products: 5, Days: 30, Seed: 42}
	first, second := generate(t, cfg), generate(t, cfg)
	if first != second {
		t.Fatal("same config gave different output")
	}
	other := cfg
	other.Seed = 43
	if generate(t, cfg) == generate(t, other) {
		t.Fatal("different seeds gave the same output")
	}
}

func TestPiecesContinueTheSameDataset(t *testing.T) {
	base := Config{Products: 6, Days: 20, Seed: 9}
	whole := generate(t, Config{Products: 6, Days: 25, Seed: 9})
	next := NextDays(base, 6*5)
	if next.Days != 5 || !next.Start.Equal(base.End()) {
		t.Fatalf("NextDays = %+v", next)
	}
	joined := generate(t, base) + strings.TrimPrefix(generate(t, next), Header+"\n")
	if joined != whole {
		t.Fatal("dataset + NextDays differs from the longer dataset")
	}

	wide := records(t, generate(t, Config{Products: 9, Days: 20, Seed: 9}))[1:]
	extra := records(t, generate(t, NewProducts(base, 3)))[1:]
	var want [][]string
	for _, r := range wide {
		if r[1] >= "P0007" {
			want = append(want, r)
		}
	}
	if !slices.EqualFunc(extra, want, slices.Equal) {
		t.Fatal("NewProducts rows differ from the same products in a wider dataset")
	}
}

func TestMaxRows(t *testing.T) {
	up := NextDays(Config{Products: 4, Days: 10, Seed: 1}, 10)
	rows := records(t, generate(t, up))[1:]
	if len(rows) != 10 || up.Rows() != 10 {
		t.Fatalf("rows = %d (Rows() %d), want 10", len(rows), up.Rows())
	}
	if rows[0][0] != "2022-01-11" || rows[9][0] != "2022-01-13" {
		t.Errorf("dates %s … %s", rows[0][0], rows[9][0])
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{Products: -1, Days: 1},
		{Products: 1, Days: -1},
		{Products: 2, Days: 1, FirstProduct: MaxProductNumber},
	} {
		if err := Write(context.Background(), io.Discard, cfg); err == nil {
			t.Errorf("Write(%+v) accepted", cfg)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Write(ctx, io.Discard, Config{Products: 1, Days: 1}); err == nil {
		t.Error("Write with a cancelled context succeeded")
	}
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// BenchmarkWrite generates 1,000 products × 1,000 days (1,000,000 rows).
func BenchmarkWrite(b *testing.B) {
	cfg := Config{Products: 1000, Days: 1000, Seed: 1}
	var cw countingWriter
	if err := Write(context.Background(), &cw, cfg); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(cw.n)
	for b.Loop() {
		if err := Write(context.Background(), io.Discard, cfg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cfg.Rows())*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// TestSampleDatasetFixture checks testdata/sample_dataset.csv is what the
// generator writes for the configuration testdata/README.md states.
func TestSampleDatasetFixture(t *testing.T) {
	want, err := os.ReadFile("../../testdata/sample_dataset.csv")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Products: 24, Days: 830, Seed: 2024, Start: time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)}
	if generate(t, cfg) != string(want) {
		t.Error("testdata/sample_dataset.csv differs from the generator's output")
	}

	// new_data.csv: the next 3 days of the 24 products plus new product P0025.
	newData, err := os.ReadFile("../../testdata/new_data.csv")
	if err != nil {
		t.Fatal(err)
	}
	product := NewProducts(cfg, 1)
	product.Start, product.Days = cfg.End(), 3
	rows := append(records(t, generate(t, NextDays(cfg, 24*3)))[1:], records(t, generate(t, product))[1:]...)
	slices.SortFunc(rows, func(a, b []string) int { return strings.Compare(a[0]+a[1], b[0]+b[1]) })
	if got := records(t, string(newData)); !slices.EqualFunc(got[1:], rows, slices.Equal) || len(rows) != 75 {
		t.Error("testdata/new_data.csv differs from the generator's next 3 days plus product P0025")
	}
}

func TestWideIDsAndSubsets(t *testing.T) {
	cfg := Config{Products: 12000, Days: 3, Seed: 5, IDDigits: IDDigitsFor(12000), FirstProduct: 1}
	if cfg.IDDigits != 5 || IDDigitsFor(10) != DefaultIDDigits {
		t.Fatalf("IDDigitsFor(12000) = %d, IDDigitsFor(10) = %d", cfg.IDDigits, IDDigitsFor(10))
	}
	whole := records(t, generate(t, cfg))[1:]
	if len(whole) != 36000 || whole[0][1] != "P00001" || whole[11999][1] != "P12000" {
		t.Fatalf("%d rows, first %s, last of day one %s", len(whole), whole[0][1], whole[11999][1])
	}
	sub := cfg
	sub.Start, sub.Days = DefaultStart.AddDate(0, 0, 1), 2
	var want [][]string
	for _, r := range whole {
		if r[0] != "2022-01-01" && slices.Contains([]string{"P00007", "P09999", "P10000", "P12000"}, r[1]) {
			want = append(want, r)
		}
	}
	var buf bytes.Buffer
	if err := WriteProducts(context.Background(), &buf, sub, []int{7, 9999, 10000, 12000}); err != nil {
		t.Fatal(err)
	}
	if got := records(t, buf.String())[1:]; !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("subset rows %v, want %v", got, want)
	}
	for _, only := range [][]int{{3, 2}, {0}, {12001}} {
		if err := WriteProducts(context.Background(), io.Discard, cfg, only); err == nil {
			t.Errorf("subset %v accepted", only)
		}
	}
	if err := Write(context.Background(), io.Discard, Config{Products: 10000, Days: 1}); err == nil {
		t.Error("10,000 products in 4-digit ids accepted")
	}
}

func TestIntermittentProducts(t *testing.T) {
	base := Config{Products: 200, Days: 365, Seed: 11}
	mixed := base
	mixed.Intermittent = 0.3
	zeros := map[string]int{}
	plain, inter := records(t, generate(t, base))[1:], records(t, generate(t, mixed))[1:]
	changed := map[string]bool{}
	for i, r := range inter {
		if r[2] == "0" {
			zeros[r[1]]++
		}
		if !slices.Equal(r, plain[i]) {
			changed[r[1]] = true
		}
	}
	intermittent := 0
	for id, n := range zeros {
		if n > 365/2 {
			intermittent++
		} else if changed[id] {
			t.Errorf("product %s changed but is not intermittent (%d zero days)", id, n)
		}
	}
	if intermittent < 40 || intermittent > 80 || len(changed) != intermittent {
		t.Fatalf("%d intermittent products of 200 (%d changed), want about 60", intermittent, len(changed))
	}
	if again := generate(t, mixed); again != generate(t, mixed) {
		t.Fatal("intermittent products not deterministic")
	}
	for _, share := range []float64{-0.1, 1.5} {
		if err := Write(context.Background(), io.Discard, Config{Products: 1, Days: 1, Intermittent: share}); err == nil {
			t.Errorf("intermittent share %v accepted", share)
		}
	}
}
