package trend

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestFitRefusesBadInput(t *testing.T) {
	ds := days("2021-03-01", 5)
	ok := []float64{1, 2, 3, 4, 5}
	with := func(i int, v float64) []float64 {
		y := append([]float64(nil), ok...)
		y[i] = v
		return y
	}
	zeroDate := append([]time.Time(nil), ds...)
	zeroDate[2] = time.Time{}
	sameDay := []time.Time{ds[0], ds[0], ds[0]}
	cases := []struct {
		name string
		ds   []time.Time
		y    []float64
		want string
	}{
		{"empty", nil, nil, "empty history"},
		{"length mismatch", ds, ok[:4], "5 dates but 4 values"},
		{"single row", ds[:1], ok[:1], "history has 1 row; Prophet needs at least 2"},
		{"NaN", ds, with(3, math.NaN()), "value at index 3 (2021-03-04) is NaN"},
		{"+Inf", ds, with(0, math.Inf(1)), "value at index 0 (2021-03-01) is +Inf"},
		{"-Inf", ds, with(4, math.Inf(-1)), "value at index 4 (2021-03-05) is -Inf"},
		{"zero date", zeroDate, ok, "date at index 2 is the zero time"},
		{"one date", sameDay, ok[:3], "all 3 rows are on 2021-03-01"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Fit(context.Background(), c.ds, c.y, DefaultOptions())
			if m != nil || !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got (%v, %v), want ErrInvalidInput containing %q", m, err, c.want)
			}
		})
	}
}

// Prophet's test_setup_dataframe: t spans [0, 1] and y_scaled peaks at 1.
func TestPrepareNormalisesAsProphet(t *testing.T) {
	ds, y := loadCSV(t, "prophet_data.csv")
	h, err := prepare(ds[:255], y[:255], ScalingAbsMax)
	if err != nil {
		t.Fatal(err)
	}
	if h.t[0] != 0 || h.t[len(h.t)-1] != 1 {
		t.Errorf("t spans [%v, %v], want [0, 1]", h.t[0], h.t[len(h.t)-1])
	}
	if mx := maxOf(h.yScaled); mx != 1 {
		t.Errorf("max y_scaled %v, want 1", mx)
	}
	// minmax: floor at min y, scale max-min, so y_scaled spans [0, 1].
	h, err = prepare(ds[:255], y[:255], ScalingMinMax)
	if err != nil {
		t.Fatal(err)
	}
	if minOf(h.yScaled) != 0 || maxOf(h.yScaled) != 1 || h.yMin != minOf(y[:255]) {
		t.Errorf("minmax: y_scaled in [%v, %v], floor %v", minOf(h.yScaled), maxOf(h.yScaled), h.yMin)
	}
}

func TestYScales(t *testing.T) {
	cases := []struct {
		y             []float64
		scaling       Scaling
		wantMin, want float64
	}{
		{[]float64{2, -8, 4}, ScalingAbsMax, 0, 8},
		{[]float64{2, -8, 4}, ScalingMinMax, -8, 12},
		{[]float64{0, 0}, ScalingAbsMax, 0, 1},
		{[]float64{5, 5}, ScalingMinMax, 5, 1},
	}
	for _, c := range cases {
		lo, s := yScales(c.y, c.scaling)
		if lo != c.wantMin || s != c.want {
			t.Errorf("yScales(%v, %s) = (%v, %v), want (%v, %v)", c.y, c.scaling, lo, s, c.wantMin, c.want)
		}
	}
}

// Time is a ratio of nanosecond counts, as pandas divides Timedeltas.
func TestScaledTimeWithGaps(t *testing.T) {
	ds := []time.Time{day("2020-01-10"), day("2020-01-01"), day("2020-01-04")}
	h, err := prepare(ds, []float64{3, 1, 2}, ScalingAbsMax)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0, 3.0 / 9, 1}
	for i := range want {
		if h.t[i] != want[i] || h.y[i] != float64(i+1) {
			t.Fatalf("t=%v y=%v, want t=%v sorted by date", h.t, h.y, want)
		}
	}
}

func maxOf(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = math.Max(m, x)
	}
	return m
}

func minOf(v []float64) float64 {
	m := math.Inf(1)
	for _, x := range v {
		m = math.Min(m, x)
	}
	return m
}
