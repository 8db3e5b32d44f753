package stats

import (
	"context"
	"math"
	"slices"

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
// samples when there are, else of the normal with Sigma, else Mean.
func (f Forecast) Quantile(i int, p float64) float64 {
	switch {
	case f.Samples != nil:
		return Quantile(slices.Sorted(slices.Values(f.Samples[i])), p)
	case f.Sigma != nil:
		return f.Mean[i] + f.Sigma[i]*distuv.UnitNormal.Quantile(p)
	}
	return f.Mean[i]
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
