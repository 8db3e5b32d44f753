package trend

import (
	"encoding/csv"
	"math"
	"math/rand/v2"
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

// retailSeries is a synthetic daily sales series of n days from 2020-01-01:
// a trend that breaks upward at 60% of the history, a weekly and a yearly
// cycle (added, or multiplied into the trend when mult), and Gaussian noise
// of sd noise. It returns the dates, the values and the noise-free values.
func retailSeries(n int, seed uint64, noise float64, mult bool) (ds []time.Time, y, clean []float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	ds = days("2020-01-01", n)
	brk := int(0.6 * float64(n))
	for i := range n {
		tr := 100 + 0.05*float64(i)
		if i > brk {
			tr += 0.25 * float64(i-brk)
		}
		w := 10 * math.Sin(2*math.Pi*float64(i)/7)
		yr := 20 * math.Cos(2*math.Pi*float64(i)/365.25)
		v := tr + w + yr
		if mult {
			v = tr * (1 + w/100 + yr/100)
		}
		clean = append(clean, v)
		y = append(y, v+noise*rng.NormFloat64())
	}
	return ds, y, clean
}
