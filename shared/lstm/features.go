package lstm

import (
	"math"
	"time"
)

// The features of one time step, in order: the value divided by the
// window's scale (0 where not observed), the observed mask (1 or 0), the day
// of the week one-hot (Monday first), the day of the year as sine and cosine,
// the log of the window's scale, then the covariates (0 where unknown).
const (
	featValue    = 0
	featObserved = 1
	featWeekday  = 2
	featYearSin  = featWeekday + 7
	featYearCos  = featYearSin + 1
	featLogScale = featYearCos + 1
	baseFeatures = featLogScale + 1
)

// epochDay is the number of days from 1970-01-01 to t's calendar day.
func epochDay(t time.Time) int64 { return Day(t).Unix() / 86400 }

// calendar writes the calendar features of the day epochDay into f (the
// features of one step).
func calendar[F float](f []F, day int64) {
	// 1970-01-01 was a Thursday: Monday is day 4 of the week then.
	wd := (day + 3) % 7
	if wd < 0 {
		wd += 7
	}
	for i := range 7 {
		f[featWeekday+i] = 0
	}
	f[featWeekday+wd] = 1
	yd := time.Unix(day*86400, 0).UTC().YearDay() - 1
	s, c := math.Sincos(2 * math.Pi * float64(yd) / 365.25)
	f[featYearSin], f[featYearCos] = F(s), F(c)
}

// windowScale is a window's scale: the mean absolute observed value of its
// context (values are NaN where not observed; indices before 0 are before
// the series' start), or fallback when the context has no observed non-zero
// value. Every value of a window is divided by it, as DeepAR does, so that a
// new high or a new series needs no refitting.
func windowScale(values []float64, from, to int, fallback float64) float64 {
	var sum float64
	n := 0
	for i := max(from, 0); i < min(to, len(values)); i++ {
		if v := values[i]; !math.IsNaN(v) {
			sum += math.Abs(v)
			n++
		}
	}
	if n == 0 || sum == 0 {
		return fallback
	}
	return sum / float64(n)
}

// level is a series' scale at its end: the scale of its last window days,
// or 1 for a series with no observed non-zero value. It is the scale a
// window whose context holds no observed non-zero value falls back to.
func level(values []float64, window int) float64 {
	return windowScale(values, len(values)-window, len(values), 1)
}

// fillContext writes the features of the window days before origin of a series
// into x, for row r of a batch of n (x is time-major, T·n×inputs): values
// (NaN where not observed) from the series' day startDay, cov its
// covariates (each as long as values, or nil), scale the window's scale.
// Days before the series' start are not observed.
func fillContext[F float](x []F, r, n, inputs, window int, values []float64, cov [][]float64, startDay int64, origin int, scale float64) {
	logScale := F(math.Log1p(scale) / 10)
	for t := range window {
		i := origin - window + t
		f := x[(t*n+r)*inputs : (t*n+r+1)*inputs]
		f[featValue], f[featObserved] = 0, 0
		if i >= 0 && i < len(values) && !math.IsNaN(values[i]) {
			f[featValue], f[featObserved] = F(values[i]/scale), 1
		}
		calendar(f, startDay+int64(i))
		f[featLogScale] = logScale
		for c := range inputs - baseFeatures {
			f[baseFeatures+c] = 0
			if c < len(cov) && i >= 0 && i < len(cov[c]) && isFinite(cov[c][i]) {
				f[baseFeatures+c] = F(cov[c][i])
			}
		}
	}
}
