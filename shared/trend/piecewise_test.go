package trend

import (
	"math"
	"slices"
	"testing"
)

// Prophet's test_piecewise_linear.
func TestPiecewiseLinearMatchesProphet(t *testing.T) {
	want := []float64{0, 1, 2, 3, 4, 5, 6.5, 8, 9.5, 11, 12.5}
	for i, w := range want {
		if got := piecewiseLinear(float64(i), []float64{0.5}, 1, 0, []float64{5}); got != w {
			t.Errorf("t=%d: %v, want %v", i, got, w)
		}
	}
}

// The model's precomputed segments agree with the direct formula.
func TestTrendSegmentsMatchPiecewiseLinear(t *testing.T) {
	m := &Model{growth: GrowthLinear, cps: []float64{0.1, 0.4, 0.4, 0.7},
		params: Params{K: 0.3, M: -0.2, Delta: []float64{0.5, -1, 0.25, 2}}}
	if err := m.init(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []float64{-0.5, 0, 0.1, 0.25, 0.4, 0.55, 0.7, 1, 1.3} {
		want := piecewiseLinear(tt, m.params.Delta, m.params.K, m.params.M, m.cps)
		if got := m.trendAt(tt); math.Abs(got-want) > 1e-14 {
			t.Errorf("t=%v: %v, want %v", tt, got, want)
		}
	}
}

func linspaceT(n int) []float64 {
	t := make([]float64, n)
	for i := range t {
		t[i] = float64(i) / float64(n-1)
	}
	return t
}

func TestPlaceChangepoints(t *testing.T) {
	cases := []struct {
		name     string
		rows, n  int
		share    float64
		wantRows []int
	}{
		// floor(8·0.8)=6 rows; linspace(0, 5, 3) = [0, 2.5, 5] rounds half to even.
		{"round half to even", 8, 2, 0.8, []int{2, 5}},
		// floor(10·0.8)=8 rows hold at most 7 changepoints.
		{"short history", 10, 25, 0.8, []int{1, 2, 3, 4, 5, 6, 7}},
		{"two rows: none", 2, 25, 0.8, nil},
		{"three rows: one", 3, 25, 0.8, []int{1}},
		{"zero requested", 100, 0, 0.8, nil},
		{"zero range", 100, 25, 0, nil},
		// linspace(0, 79, 5) = [0, 19.75, 39.5, 59.25, 79] → 20, 40 (39.5 to even), 59, 79.
		{"hundred rows", 100, 4, 0.8, []int{20, 40, 59, 79}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tt := linspaceT(c.rows)
			var want []float64
			for _, r := range c.wantRows {
				want = append(want, tt[r])
			}
			if got := placeChangepoints(tt, c.n, c.share); !slices.Equal(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
	if got := changepointsOrDummy(nil); !slices.Equal(got, []float64{0}) {
		t.Errorf("dummy changepoints %v, want [0]", got)
	}
	if got := len(placeChangepoints(linspaceT(32), 25, 0.8)); got != 24 {
		t.Errorf("32 rows: %d changepoints, want 24", got)
	}
}

// Prophet's test_get_changepoints, test_set_changepoint_range and
// test_override_n_changepoints on the first half of Prophet's test data.
func TestChangepointsOnProphetData(t *testing.T) {
	ds, y := loadCSV(t, "prophet_data.csv")
	h, err := prepare(ds[:255], y[:255], ScalingAbsMax)
	if err != nil {
		t.Fatal(err)
	}
	for _, share := range []float64{0.8, 0.4} {
		cp := placeChangepoints(h.t, 25, share)
		limit := h.t[int(math.Ceil(share*float64(len(h.t))))]
		if len(cp) != 25 || cp[0] <= 0 || cp[24] > limit || !slices.IsSorted(cp) {
			t.Errorf("range %v: %d changepoints from %v to %v (limit %v)", share, len(cp), cp[0], cp[len(cp)-1], limit)
		}
	}
	h20, err := prepare(ds[:20], y[:20], ScalingAbsMax)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(placeChangepoints(h20.t, 15, 0.8)); got != 15 {
		t.Errorf("20 rows, 15 requested: %d", got)
	}
}

// Prophet's test_growth_init and test_growth_init_minmax: rows 0–467 of
// Prophet's test data.
func TestGrowthInitMatchesProphet(t *testing.T) {
	ds, y := loadCSV(t, "prophet_data.csv")
	cases := []struct {
		scaling     Scaling
		k, m, flatM float64
	}{
		{ScalingAbsMax, 0.3055671, 0.5307511, 0.49335657},
		{ScalingMinMax, 0.4053406, 0.3775322, 0.32792770},
	}
	for _, c := range cases {
		h, err := prepare(ds[:468], y[:468], c.scaling)
		if err != nil {
			t.Fatal(err)
		}
		k, m := linearGrowthInit(h.t, h.yScaled)
		if math.Abs(k-c.k) > 1e-6 || math.Abs(m-c.m) > 1e-6 {
			t.Errorf("%s linear: (%v, %v), want (%v, %v)", c.scaling, k, m, c.k, c.m)
		}
		k, m = flatGrowthInit(h.yScaled)
		if k != 0 || math.Abs(m-c.flatM) > 1e-4 {
			t.Errorf("%s flat: (%v, %v), want (0, %v)", c.scaling, k, m, c.flatM)
		}
	}
}

// With duplicate last dates, Prophet's idxmax picks the first of them.
func TestLinearGrowthInitDuplicates(t *testing.T) {
	k, m := linearGrowthInit([]float64{0, 0.5, 1, 1}, []float64{0.2, 0.1, 0.6, 0.9})
	if math.Abs(k-0.4) > 1e-15 || m != 0.2 {
		t.Errorf("(%v, %v), want (0.4, 0.2)", k, m)
	}
}
