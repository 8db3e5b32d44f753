package trend

import (
	"math"
	"time"
)

// seasonality is one fitted Fourier seasonality.
type seasonality struct {
	Name       string  `json:"name"`
	Period     float64 `json:"period_days"`
	Order      int     `json:"order"`
	PriorScale float64 `json:"prior_scale"`
}

// columns is the number of features (a sine and a cosine per order).
func (s seasonality) columns() int { return 2 * s.Order }

// builtin describes Prophet's three automatic seasonalities, in Prophet's order.
var builtin = []struct {
	name         string
	period       float64
	defaultOrder int
	pick         func(Options) Seasonality
	disabled     func(span, minDt time.Duration) bool
}{
	{"yearly", 365.25, 10, func(o Options) Seasonality { return o.Yearly },
		func(span, _ time.Duration) bool { return span < 730*24*time.Hour }},
	{"weekly", 7, 3, func(o Options) Seasonality { return o.Weekly },
		func(span, minDt time.Duration) bool { return span < 14*24*time.Hour || minDt >= 7*24*time.Hour }},
	{"daily", 1, 4, func(o Options) Seasonality { return o.Daily },
		func(span, minDt time.Duration) bool { return span < 2*24*time.Hour || minDt >= 24*time.Hour }},
}

// autoSeasonalities is Prophet's set_auto_seasonalities with
// parse_seasonality_args: on "auto", yearly needs two years of history,
// weekly two weeks with spacing under a week, daily two days with spacing
// under a day.
func autoSeasonalities(o Options, span, minDt time.Duration) []seasonality {
	var out []seasonality
	for _, b := range builtin {
		s := b.pick(o)
		on := s.Enable == SwitchOn || (s.Enable == SwitchAuto && !b.disabled(span, minDt))
		if !on {
			continue
		}
		order, ps := s.Order, s.PriorScale
		if order == 0 {
			order = b.defaultOrder
		}
		if ps == 0 {
			ps = o.SeasonalityPriorScale
		}
		out = append(out, seasonality{Name: b.name, Period: b.period, Order: order, PriorScale: ps})
	}
	return out
}

// epochDays is Prophet's time axis for Fourier terms: whole seconds since
// the Unix epoch (floor division of nanoseconds) divided by 86400.
func epochDays(d time.Time) float64 {
	return float64(d.Unix()) / (3600 * 24.)
}

// fourierRow writes Prophet's fourier_series for one date into dst
// (length 2*order): sin and cos of 2π(i+1)t/period, i = 0..order-1, with
// the same operation order as Prophet.
func fourierRow(dst []float64, d time.Time, period float64, order int) {
	xT := epochDays(d) * math.Pi * 2
	for i := range order {
		c := xT * float64(i+1) / period
		dst[2*i], dst[2*i+1] = math.Sincos(c)
	}
}

// featureColumns is the number of columns of the seasonal design matrix.
func featureColumns(ss []seasonality) int {
	k := 0
	for _, s := range ss {
		k += s.columns()
	}
	return k
}

// seasonalFeatures is the row-major len(ds)×K design matrix of all
// seasonalities, columns in seasonality order (Prophet's
// make_all_seasonality_features without holidays or regressors).
func seasonalFeatures(ds []time.Time, ss []seasonality) []float64 {
	k := featureColumns(ss)
	x := make([]float64, len(ds)*k)
	for i, d := range ds {
		row := x[i*k : (i+1)*k]
		for _, s := range ss {
			fourierRow(row[:s.columns()], d, s.Period, s.Order)
			row = row[s.columns():]
		}
	}
	return x
}

// priorPrecisions returns 1/σ² per feature column, σ the seasonality's prior scale.
func priorPrecisions(ss []seasonality) []float64 {
	var p []float64
	for _, s := range ss {
		for range s.columns() {
			p = append(p, 1/(s.PriorScale*s.PriorScale))
		}
	}
	return p
}
