package trend

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// loadCSV reads a Prophet-style ds,y file from testdata.
func loadCSV(t testing.TB, name string) ([]time.Time, []float64) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var ds []time.Time
	var y []float64
	for _, r := range rows[1:] {
		d, err := time.Parse(time.DateOnly, r[0])
		if err != nil {
			t.Fatal(err)
		}
		v, err := strconv.ParseFloat(r[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
		y = append(y, v)
	}
	return ds, y
}

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

// days returns n consecutive days from start.
func days(start string, n int) []time.Time {
	d0 := day(start)
	out := make([]time.Time, n)
	for i := range out {
		out[i] = d0.AddDate(0, 0, i)
	}
	return out
}

func rmse(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += (a[i] - b[i]) * (a[i] - b[i])
	}
	return math.Sqrt(s / float64(len(a)))
}
