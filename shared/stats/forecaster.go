package stats

import (
	"context"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Forecaster fits one kind of model to a history.
type Forecaster interface {
	// Name is the model's name in requests, artifacts and reports.
	Name() string
	// Fit fits the model to h, whose NaN steps are not observed. A fit
	// that takes long (a model search, an optimiser) stops when ctx ends
	// and returns an error wrapping ctx's.
	Fit(ctx context.Context, h History) (Model, error)
}

// Refitter is a Forecaster that refits a model it fitted on an earlier,
// shorter history of the same series (h extends that history) faster than
// a fresh Fit: keeping the model's form and starting from its parameters.
// The backtest uses it at every origin after the first one it fits.
type Refitter interface {
	Refit(ctx context.Context, prev Model, h History) (Model, error)
}

// Model is a fitted model.
type Model interface {
	// Forecast predicts the horizon steps after the history's last step.
	Forecast(horizon int) (Forecast, error)
	// Describe names the fitted model, e.g. "ETS(M,Ad,M)".
	Describe() string
}

// Forecast is a model's prediction of the steps after its history.
type Forecast struct {
	// Mean is the point forecast of each step.
	Mean []float64
	// Sigma is the standard deviation of each step's forecast distribution
	// (normal approximation); nil when the model has none or gives Samples.
	Sigma []float64
	// Samples are simulated values of each step: Samples[i] for step i+1;
	// nil when the model does not simulate.
	Samples [][]float64
}

// HasDistribution reports whether the forecast has a distribution.
func (f Forecast) HasDistribution() bool { return f.Sigma != nil || f.Samples != nil }

// Quantile returns the p-quantile of step i's forecast distribution: of its
// samples when there are (R's type 7, as Quantile of the sorted samples),
// else of the normal with Sigma, else Mean.
func (f Forecast) Quantile(i int, p float64) float64 {
	switch {
	case f.Samples != nil:
		return sampleQuantiles(f.Samples[i], p, p)[0]
	case f.Sigma != nil:
		return f.Mean[i] + f.Sigma[i]*distuv.UnitNormal.Quantile(p)
	}
	return f.Mean[i]
}

// Interval returns the central interval at level of step i's forecast
// distribution: its (1−level)/2 and (1+level)/2 quantiles, as Quantile
// gives them.
func (f Forecast) Interval(i int, level float64) (lo, hi float64) {
	pl, ph := (1-level)/2, (1+level)/2
	if f.Samples != nil {
		q := sampleQuantiles(f.Samples[i], pl, ph)
		return q[0], q[1]
	}
	return f.Quantile(i, pl), f.Quantile(i, ph)
}

// sampleQuantiles are the p- and p2-quantiles of values (unsorted, not
// modified) as Quantile of the sorted values gives them — NaN sorting
// first — found by selection rather than by sorting: a forecast's
// interval reads two quantiles of a thousand samples at every step.
func sampleQuantiles(values []float64, p, p2 float64) [2]float64 {
	buf := make([]float64, 0, len(values))
	for _, v := range values {
		if v == v {
			buf = append(buf, v)
		}
	}
	nans := len(values) - len(buf)
	var out [2]float64
	done := -1 // buf[:done+1] holds the done+1 smallest values, in order at done
	for j, q := range [2]float64{p, p2} {
		n := len(values)
		if n == 0 {
			out[j] = math.NaN()
			continue
		}
		h := q * float64(n-1)
		lo := int(math.Floor(h))
		switch {
		case lo < 0:
			lo, h = 0, 0
		case lo >= n-1:
			lo, h = n-1, float64(n-1)
		}
		if lo < nans {
			out[j] = math.NaN()
			continue
		}
		k := lo - nans
		switch {
		case k > done:
			nth(buf[done+1:], k-done-1)
		case k < done:
			nth(buf, k)
		}
		done = k
		v := buf[k]
		if lo < n-1 && h > float64(lo) {
			next := buf[k+1]
			for _, w := range buf[k+2:] {
				if w < next {
					next = w
				}
			}
			v += (h - float64(lo)) * (next - v)
		}
		out[j] = v
	}
	return out
}

// nth reorders v (no NaN) so that v[k] is its k-th smallest value, with no
// larger value before it and no smaller one after it (Hoare's selection).
func nth(v []float64, k int) {
	lo, hi := 0, len(v)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if v[mid] < v[lo] {
			v[mid], v[lo] = v[lo], v[mid]
		}
		if v[hi] < v[lo] {
			v[hi], v[lo] = v[lo], v[hi]
		}
		if v[hi] < v[mid] {
			v[hi], v[mid] = v[mid], v[hi]
		}
		pivot := v[mid]
		i, j := lo, hi
		for i <= j {
			for v[i] < pivot {
				i++
			}
			for v[j] > pivot {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return
		}
	}
}

// Quantile is the p-quantile of sorted values with linear interpolation
// between order statistics (R's type 7); NaN for no values.
func Quantile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	h := p * float64(n-1)
	lo := int(math.Floor(h))
	if lo < 0 {
		return sorted[0]
	}
	if lo >= n-1 {
		return sorted[n-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}
