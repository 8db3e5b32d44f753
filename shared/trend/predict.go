package trend

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Uncertainty controls the simulated intervals of a prediction.
type Uncertainty struct {
	// Samples is the number of simulated paths; 0 disables intervals.
	Samples int
	// IntervalWidth is the central probability of the intervals, in (0, 1).
	IntervalWidth float64
	// Seed fixes the simulation: equal seeds give equal intervals.
	Seed uint64
}

// Forecast is a prediction, one entry per date, dates ascending.
type Forecast struct {
	Dates []time.Time
	Yhat  []float64
	// Lower and Upper bound the interval of yhat; nil when Samples is 0.
	Lower, Upper []float64
	Trend        []float64
	// TrendLower and TrendUpper bound the trend's interval; nil when Samples is 0.
	TrendLower, TrendUpper []float64
	// Components holds each seasonality by name ("yearly", "weekly",
	// "daily"), plus "additive_terms" and "multiplicative_terms", as Prophet
	// reports them: additive ones in original units, multiplicative ones as
	// fractions of the trend. yhat = trend·(1 + multiplicative_terms) + additive_terms.
	Components map[string][]float64
}

// Predict forecasts the given dates (any order; the result is sorted, as
// Prophet sorts) with the model's own interval settings.
func (m *Model) Predict(ds []time.Time) (*Forecast, error) {
	return m.PredictWith(ds, m.unc)
}

// PredictWith forecasts the given dates with explicit interval settings.
// Intervals are Prophet's predict_uncertainty with MAP parameters: for each
// simulated path, future trend changes arrive at every future step with
// probability S·Δt (S potential changepoints, Δt the mean step of the
// future dates) with Laplace magnitudes of scale mean|δ|, as Prophet's
// vectorised sample_predictive_trend does, and Gaussian observation noise
// of sd sigma_obs is added; the bounds are the linear-interpolated
// percentiles of the paths.
func (m *Model) PredictWith(ds []time.Time, u Uncertainty) (*Forecast, error) {
	if m == nil || m.segK == nil {
		return nil, errors.New("trend: model is not fitted (use Fit, FitWithFallback or json.Unmarshal)")
	}
	if len(ds) == 0 {
		return nil, fmt.Errorf("%w: no dates to predict", ErrInvalidInput)
	}
	if u.Samples < 0 {
		return nil, fmt.Errorf("%w: %d uncertainty samples", ErrInvalidInput, u.Samples)
	}
	if u.Samples > 0 && !(u.IntervalWidth > 0 && u.IntervalWidth < 1) {
		return nil, fmt.Errorf("%w: interval width %v is not in (0, 1)", ErrInvalidInput, u.IntervalWidth)
	}
	for i, d := range ds {
		if d.IsZero() {
			return nil, fmt.Errorf("%w: date at index %d is the zero time", ErrInvalidInput, i)
		}
	}
	dates := make([]time.Time, len(ds))
	for i, d := range ds {
		dates[i] = d.UTC()
	}
	slices.SortStableFunc(dates, time.Time.Compare)

	n := len(dates)
	f := &Forecast{Dates: dates, Yhat: make([]float64, n), Trend: make([]float64, n),
		Components: make(map[string][]float64, len(m.seasons)+2)}
	t := make([]float64, n)
	expected := make([]float64, n) // scaled trend
	for i, d := range dates {
		t[i] = scaledTime(d, m.first, m.tScale)
		expected[i] = m.trendAt(t[i])
		f.Trend[i] = expected[i]*m.yScale + m.yMin
	}

	add := make([]float64, n)  // additive terms, original units
	mult := make([]float64, n) // multiplicative terms, fractions
	k := featureColumns(m.seasons)
	row := make([]float64, k)
	for _, s := range m.seasons {
		f.Components[s.Name] = make([]float64, n)
	}
	for i, d := range dates {
		beta := m.params.Beta
		for _, s := range m.seasons {
			fr := row[:s.columns()]
			fourierRow(fr, d, s.Period, s.Order)
			var v float64
			for c, x := range fr {
				v += x * beta[c]
			}
			beta = beta[s.columns():]
			if m.mode == Multiplicative {
				mult[i] += v
			} else {
				v *= m.yScale
				add[i] += v
			}
			f.Components[s.Name][i] = v
		}
		f.Yhat[i] = f.Trend[i]*(1+mult[i]) + add[i]
	}
	f.Components["additive_terms"] = add
	f.Components["multiplicative_terms"] = mult
	if u.Samples > 0 {
		m.intervals(f, t, expected, add, mult, u)
	}
	return f, nil
}

// pcgStream is the fixed second word of the PCG state; the seed is the first.
const pcgStream = 0x9e3779b97f4a7c15

// intervals simulates u.Samples paths and fills the interval bounds.
func (m *Model) intervals(f *Forecast, t, expected, add, mult []float64, u Uncertainty) {
	n, ns := len(t), u.Samples
	rng := rand.New(rand.NewPCG(u.Seed, pcgStream))

	// Future rows are those past the history (t > 1); dates are sorted.
	firstFuture := n
	for i, v := range t {
		if v > 1 {
			firstFuture = i
			break
		}
	}
	nf := n - firstFuture
	var step float64 // mean step of the future rows; of the history for a single one
	switch {
	case nf > 1:
		step = (t[n-1] - t[firstFuture]) / float64(nf-1)
	case m.n > 1:
		step = 1 / float64(m.n-1)
	}
	likelihood := float64(len(m.cps)) * step
	simulateTrend := m.growth == GrowthLinear && nf > 0
	sigma := m.params.SigmaObs * m.yScale
	lo := 100 * (1 - u.IntervalWidth) / 2
	hi := 100 * (1 + u.IntervalWidth) / 2

	// Paths advance date by date; each path keeps its last rate change,
	// slope deviation and level deviation (scaled units).
	buf := make([]float64, 5*ns)
	prevShift, slope, level := buf[:ns], buf[ns:2*ns], buf[2*ns:3*ns]
	yhat, trend := buf[3*ns:4*ns], buf[4*ns:]
	f.Lower, f.Upper = make([]float64, n), make([]float64, n)
	f.TrendLower, f.TrendUpper = make([]float64, n), make([]float64, n)
	for i := range n {
		future := simulateTrend && i >= firstFuture
		for s := range ns {
			var offset float64
			if future {
				var shift float64
				if rng.Float64() < likelihood {
					shift = laplace(rng, m.meanAbsDelta)
				}
				// Prophet splits each rate change over two steps, then
				// integrates twice (slope, then level) in units of the step.
				slope[s] += (prevShift[s] + shift) / 2
				prevShift[s] = shift
				level[s] += slope[s]
				offset = level[s] * step
			}
			tr := (expected[i]+offset)*m.yScale + m.yMin
			trend[s] = tr
			yhat[s] = tr*(1+mult[i]) + add[i] + rng.NormFloat64()*sigma
		}
		f.Lower[i], f.Upper[i] = percentiles(yhat, lo, hi)
		f.TrendLower[i], f.TrendUpper[i] = percentiles(trend, lo, hi)
	}
}

// laplace draws from a Laplace(0, scale) distribution.
func laplace(rng *rand.Rand, scale float64) float64 {
	v := rng.ExpFloat64() * scale
	if rng.Uint64()&1 == 0 {
		return -v
	}
	return v
}

// percentiles returns numpy's percentile (linear interpolation) of a at
// lo and hi (in percent, lo ≤ hi), reordering a. The second selection
// reuses the partition left by the first.
func percentiles(a []float64, lo, hi float64) (float64, float64) {
	iLo := rank(len(a), lo)
	vLo := orderStatistic(a, 0, lo)
	return vLo, orderStatistic(a, iLo, hi)
}

// percentile is numpy.percentile(a, p) with the default linear method,
// using selection instead of a full sort. It reorders a.
func percentile(a []float64, p float64) float64 {
	return orderStatistic(a, 0, p)
}

// rank is the index of the order statistic below percentile p of n values.
func rank(n int, p float64) int {
	return int(math.Floor(float64(n-1) * p / 100))
}

// orderStatistic interpolates percentile p of a, knowing that a[from:]
// holds the largest len(a)-from values (so the rank is at least from).
func orderStatistic(a []float64, from int, p float64) float64 {
	h := float64(len(a)-1) * p / 100
	i := int(math.Floor(h))
	frac := h - float64(i)
	below := selectKth(a[from:], i-from)
	if frac == 0 || i+1 >= len(a) {
		return below
	}
	return lerp(below, slices.Min(a[i+1:]), frac)
}

// lerp is numpy's _lerp: exact at both ends, monotone in between.
func lerp(a, b, w float64) float64 {
	d := b - a
	if w >= 0.5 {
		return b - d*(1-w)
	}
	return a + d*w
}

// selectKth reorders a so that a[k] is its k-th smallest element, everything
// before it no larger and everything after it no smaller (quickselect with
// three-way partitioning, so runs of equal values cost nothing extra).
func selectKth(a []float64, k int) float64 {
	lo, hi := 0, len(a)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		pivot := median3(a[lo], a[mid], a[hi])
		lt, i, gt := lo, lo, hi
		for i <= gt {
			switch {
			case a[i] < pivot:
				a[lt], a[i] = a[i], a[lt]
				lt++
				i++
			case a[i] > pivot:
				a[i], a[gt] = a[gt], a[i]
				gt--
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt - 1
		case k > gt:
			lo = gt + 1
		default:
			return a[k]
		}
	}
	return a[k]
}

func median3(a, b, c float64) float64 {
	if a > b {
		a, b = b, a
	}
	if b > c {
		b = c
	}
	return max(a, b)
}
