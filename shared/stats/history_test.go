package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func date(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestFromDatesDetectsFrequencyAndLeavesGapsUnobserved(t *testing.T) {
	cases := []struct {
		dates []string
		freq  Frequency
		len   int
	}{
		{[]string{"2024-01-01", "2024-01-02", "2024-01-04"}, Daily, 4},
		{[]string{"2024-01-05", "2024-01-12", "2024-01-26"}, Weekly, 4},
		{[]string{"2024-01-01", "2024-02-01", "2024-04-01"}, Monthly, 4},
	}
	for _, c := range cases {
		var dates []time.Time
		for _, d := range c.dates {
			dates = append(dates, date(d))
		}
		h, err := FromDates("x", dates, []float64{1, 0, 3})
		if err != nil {
			t.Fatal(err)
		}
		if h.Freq != c.freq || h.Len() != c.len {
			t.Fatalf("%v: %s with %d steps, want %s with %d", c.dates, h.Freq, h.Len(), c.freq, c.len)
		}
		// The absent date is not observed; the zero the data gives stays a zero.
		if h.Values[1] != 0 || !math.IsNaN(h.Values[2]) || h.Values[3] != 3 || h.Observed() != 3 {
			t.Errorf("%v: values %v", c.dates, h.Values)
		}
		if !h.Date(3).Equal(dates[2]) {
			t.Errorf("%v: step 3 is %s", c.dates, h.Date(3))
		}
	}
}

func TestFromDatesAtRejectsOffGridDates(t *testing.T) {
	_, err := FromDatesAt("x", []time.Time{date("2024-01-05"), date("2024-01-08")}, []float64{1, 2}, Weekly)
	if err == nil {
		t.Fatal("a date 3 days after a weekly start was accepted")
	}
	if _, err := FromDates("x", nil, nil); err == nil {
		t.Fatal("an empty series was accepted")
	}
}

func TestInterpolate(t *testing.T) {
	nan := math.NaN()
	got, filled := Interpolate([]float64{nan, 2, nan, nan, 8, nan})
	want := []float64{2, 2, 4, 6, 8, 8}
	if filled != 4 {
		t.Errorf("filled %d, want 4", filled)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestQuantile(t *testing.T) {
	s := []float64{1, 2, 3, 4, 5}
	for p, want := range map[float64]float64{0: 1, 0.25: 2, 0.5: 3, 0.9: 4.6, 1: 5} {
		if got := Quantile(s, p); math.Abs(got-want) > 1e-12 {
			t.Errorf("Quantile(%v) = %v, want %v (R's type 7)", p, got, want)
		}
	}
	f := Forecast{Mean: []float64{10}, Sigma: []float64{2}}
	if got := f.Quantile(0, 0.975); math.Abs(got-(10+2*1.959963984540054)) > 1e-9 {
		t.Errorf("normal quantile %v", got)
	}
}

// TestSampleQuantiles checks the selection against Quantile of the sorted
// samples, with ties and unobserved (NaN) samples, which sort first.
func TestSampleQuantiles(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 200 {
		n := 1 + r.IntN(300)
		samples := make([]float64, n)
		for i := range samples {
			switch {
			case trial%3 == 0:
				samples[i] = float64(r.IntN(5)) // many ties
			case trial%7 == 0 && r.IntN(10) == 0:
				samples[i] = math.NaN()
			default:
				samples[i] = r.NormFloat64()
			}
		}
		f := Forecast{Mean: []float64{0}, Samples: [][]float64{samples}}
		sorted := slices.Sorted(slices.Values(samples))
		same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
		for _, p := range []float64{0, 0.1, 0.25, 0.5, 0.9, 1} {
			want := Quantile(sorted, p)
			if got := f.Quantile(0, p); !same(got, want) {
				t.Fatalf("trial %d, n %d: Quantile(%v) = %v, want %v", trial, n, p, got, want)
			}
		}
		level := 0.8
		lo, hi := f.Interval(0, level)
		if wl, wh := Quantile(sorted, (1-level)/2), Quantile(sorted, (1+level)/2); !same(lo, wl) || !same(hi, wh) {
			t.Fatalf("trial %d: Interval = %v, %v, want %v, %v", trial, lo, hi, wl, wh)
		}
	}
}
