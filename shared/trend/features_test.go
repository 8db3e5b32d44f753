package trend

import (
	"math"
	"slices"
	"testing"
	"time"
)

// Prophet's test_fourier_series_weekly and _yearly: the first date of
// Prophet's test data, values "from the R forecast package directly".
func TestFourierSeriesMatchesProphet(t *testing.T) {
	ds, _ := loadCSV(t, "prophet_data.csv")
	cases := []struct {
		period float64
		want   []float64
	}{
		{7, []float64{0.7818315, 0.6234898, 0.9749279, -0.2225209, 0.4338837, -0.9009689}},
		{365.25, []float64{0.7006152, -0.7135393, -0.9998330, 0.01827656, 0.7262249, 0.6874572}},
	}
	for _, c := range cases {
		got := make([]float64, 6)
		fourierRow(got, ds[0], c.period, 3)
		var sq float64
		for i := range got {
			sq += (got[i] - c.want[i]) * (got[i] - c.want[i])
		}
		if sq > 1e-12 {
			t.Errorf("period %v: %v, want %v", c.period, got, c.want)
		}
	}
}

// Features use whole seconds since the epoch, so a time of day matters.
func TestFourierUsesTimeOfDay(t *testing.T) {
	a, b := make([]float64, 2), make([]float64, 2)
	fourierRow(a, day("2020-01-01"), 1, 1)
	fourierRow(b, day("2020-01-01").Add(6*time.Hour), 1, 1)
	if math.Abs(a[0]) > 1e-9 || math.Abs(b[0]-1) > 1e-9 {
		t.Errorf("daily sine at 00:00 %v and 06:00 %v, want 0 and 1", a[0], b[0])
	}
}

func TestSeasonalFeaturesLayout(t *testing.T) {
	ss := []seasonality{{Name: "yearly", Period: 365.25, Order: 2, PriorScale: 10}, {Name: "weekly", Period: 7, Order: 1, PriorScale: 3}}
	ds := days("2021-06-01", 3)
	x := seasonalFeatures(ds, ss)
	if len(x) != 3*6 {
		t.Fatalf("%d features, want 18", len(x))
	}
	row := make([]float64, 4)
	fourierRow(row, ds[2], 365.25, 2)
	if !slices.Equal(x[12:16], row) {
		t.Errorf("row 2 yearly %v, want %v", x[12:16], row)
	}
	fourierRow(row[:2], ds[2], 7, 1)
	if !slices.Equal(x[16:18], row[:2]) {
		t.Errorf("row 2 weekly %v, want %v", x[16:18], row[:2])
	}
	if p := priorPrecisions(ss); !slices.Equal(p, []float64{0.01, 0.01, 0.01, 0.01, 1.0 / 9, 1.0 / 9}) {
		t.Errorf("precisions %v", p)
	}
}

func names(ss []seasonality) []string {
	var n []string
	for _, s := range ss {
		n = append(n, s.Name)
	}
	return n
}

func hours(start string, n int, step time.Duration) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = day(start).Add(time.Duration(i) * step)
	}
	return out
}

// Prophet's test_auto_weekly_seasonality, test_auto_yearly_seasonality and
// test_auto_daily_seasonality, on the same rows of Prophet's test data.
func TestAutoSeasonalities(t *testing.T) {
	data, _ := loadCSV(t, "prophet_data.csv")
	var everySeventh []time.Time
	for i := 0; i < len(data); i += 7 {
		everySeventh = append(everySeventh, data[i])
	}
	on := func(s Seasonality) Seasonality { s.Enable = SwitchOn; return s }
	cases := []struct {
		name   string
		ds     []time.Time
		change func(*Options)
		want   []string
	}{
		{"15 rows: weekly", data[:15], nil, []string{"weekly"}},
		{"9 rows: too short", data[:9], nil, nil},
		{"9 rows, weekly forced", data[:9], func(o *Options) { o.Weekly = on(o.Weekly) }, []string{"weekly"}},
		{"weekly spacing: no weekly", everySeventh, nil, []string{"yearly"}},
		{"two years: yearly and weekly", data, nil, []string{"yearly", "weekly"}},
		{"240 rows: no yearly", data[:240], nil, []string{"weekly"}},
		{"240 rows, yearly forced", data[:240], func(o *Options) { o.Yearly = on(o.Yearly) }, []string{"yearly", "weekly"}},
		{"weekly off", data, func(o *Options) { o.Weekly.Enable = SwitchOff }, []string{"yearly"}},
		{"hourly, 3 days: daily", hours("2020-01-01", 72, time.Hour), nil, []string{"daily"}},
		{"hourly, 36 hours: too short", hours("2020-01-01", 36, time.Hour), nil, nil},
		{"hourly, 3 weeks", hours("2020-01-01", 24*21, time.Hour), nil, []string{"weekly", "daily"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := DefaultOptions()
			if c.change != nil {
				c.change(&o)
			}
			got := names(autoSeasonalities(o, c.ds[len(c.ds)-1].Sub(c.ds[0]), minSpacing(c.ds)))
			if !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

// Prophet's weekly_seasonality=2, seasonality_prior_scale=3 case, plus an
// own prior scale per seasonality.
func TestSeasonalityOrderAndPriorScale(t *testing.T) {
	data, _ := loadCSV(t, "prophet_data.csv")
	o := DefaultOptions()
	o.SeasonalityPriorScale = 3
	o.Weekly.Order = 2
	o.Yearly.PriorScale = 0.5
	got := autoSeasonalities(o, data[len(data)-1].Sub(data[0]), minSpacing(data))
	want := []seasonality{
		{Name: "yearly", Period: 365.25, Order: 10, PriorScale: 0.5},
		{Name: "weekly", Period: 7, Order: 2, PriorScale: 3},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}
