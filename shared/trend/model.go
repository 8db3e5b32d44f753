package trend

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"
)

// Params are the fitted parameters on Prophet's scaled axes, as Prophet's
// m.params: t in [0, 1] over the history, y divided by the y scale.
type Params struct {
	K        float64   `json:"k"`
	M        float64   `json:"m"`
	Delta    []float64 `json:"delta"`
	SigmaObs float64   `json:"sigma_obs"`
	Beta     []float64 `json:"beta"`
}

// Model is a fitted trend model. It is immutable, so one Model may serve
// any number of concurrent Predict calls.
type Model struct {
	growth      Growth
	mode        Mode
	scaling     Scaling
	first, last time.Time     // first and last history dates
	tScale      time.Duration // time normalisation: t = (d − first)/tScale
	n           int           // history rows
	yMin        float64       // Prophet's floor
	yScale      float64
	cps         []float64 // changepoint times (Prophet's changepoints_t, [0] if none)
	seasons     []seasonality
	params      Params
	tau         float64
	unc         Uncertainty
	info        FitInfo

	// Derived at construction, for cheap predictions.
	meanAbsDelta float64   // Laplace scale of simulated future rate changes
	segK, segM   []float64 // slope and offset after j changepoints, j = 0..S
}

// Fit fits Prophet's model to the history (dates and values, any order,
// gaps allowed) and returns the MAP model. It refuses fewer than two rows,
// non-finite values, zero dates and a history on a single date; every such
// error wraps ErrInvalidInput and names the offending index and date. A fit whose ctx ends
// stops at its next iteration with ctx's error.
func Fit(ctx context.Context, ds []time.Time, y []float64, opts Options) (*Model, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	h, err := prepare(ds, y, opts.Scaling)
	if err != nil {
		return nil, err
	}
	seasons := autoSeasonalities(opts, h.tScale, minSpacing(h.ds))
	placed := placeChangepoints(h.t, opts.NChangepoints, opts.ChangepointRange)
	cps := changepointsOrDummy(placed)
	d := newDesign(h.t, h.yScaled, seasonalFeatures(h.ds, seasons), cps,
		priorPrecisions(seasons), opts.ChangepointPriorScale, opts.Growth, opts.SeasonalityMode)
	l := d.layout()

	var k0, m0 float64
	if opts.Growth == GrowthFlat {
		k0, m0 = flatGrowthInit(h.yScaled)
	} else {
		k0, m0 = linearGrowthInit(h.t, h.yScaled)
	}
	p := Params{K: k0, M: m0, Delta: make([]float64, l.s), Beta: make([]float64, l.k)}
	var info FitInfo
	if slices.Min(h.y) == slices.Max(h.y) {
		// Prophet skips Stan for a constant history.
		p.SigmaObs = 1e-9
		info = FitInfo{Method: "constant", Status: "constant history: initial values kept"}
	} else {
		x0 := make([]float64, l.params())
		x0[0], x0[1] = k0, m0
		x, fi, err := maximumAPosteriori(ctx, d, x0, opts.Algorithm)
		if err != nil {
			return nil, err
		}
		info = fi
		p.K, p.M = x[0], x[1]
		copy(p.Delta, x[l.delta():l.sigma()])
		p.SigmaObs = math.Exp(x[l.sigma()])
		copy(p.Beta, x[l.beta():])
	}
	if len(placed) == 0 {
		// Prophet folds the dummy changepoint's rate change into k.
		p.K += p.Delta[0]
		p.Delta[0] = 0
	}
	m := &Model{
		growth: opts.Growth, mode: opts.SeasonalityMode, scaling: opts.Scaling,
		first: h.start, last: h.ds[len(h.ds)-1], tScale: h.tScale, n: len(h.ds),
		yMin: h.yMin, yScale: h.yScale, cps: cps, seasons: seasons, params: p,
		tau: opts.ChangepointPriorScale, info: info,
		unc: Uncertainty{Samples: opts.UncertaintySamples, IntervalWidth: opts.IntervalWidth, Seed: opts.Seed},
	}
	if err := m.init(); err != nil {
		return nil, err
	}
	return m, nil
}

// init checks the model's internal consistency and derives the pieces
// prediction needs.
func (m *Model) init() error {
	s := len(m.cps)
	switch {
	case len(m.params.Delta) != s:
		return fmt.Errorf("%d rate changes for %d changepoints", len(m.params.Delta), s)
	case len(m.params.Beta) != featureColumns(m.seasons):
		return fmt.Errorf("%d seasonal coefficients for %d features", len(m.params.Beta), featureColumns(m.seasons))
	case !slices.IsSorted(m.cps):
		return fmt.Errorf("changepoints are not sorted")
	}
	m.segK = make([]float64, s+1)
	m.segM = make([]float64, s+1)
	m.segK[0], m.segM[0] = m.params.K, m.params.M
	var sum float64
	for j, dlt := range m.params.Delta {
		m.segK[j+1] = m.segK[j] + dlt
		m.segM[j+1] = m.segM[j] - dlt*m.cps[j]
		sum += math.Abs(dlt)
	}
	// Prophet: np.mean(np.abs(deltas)) + 1e-8.
	m.meanAbsDelta = sum/float64(s) + 1e-8
	return nil
}

// HistoryStart is the first date of the history the model was fitted on.
func (m *Model) HistoryStart() time.Time { return m.first }

// HistoryEnd is the last date of the history the model was fitted on.
func (m *Model) HistoryEnd() time.Time { return m.last }

// HistoryLen is the number of rows the model was fitted on.
func (m *Model) HistoryLen() int { return m.n }

// NoiseSigma is the observation noise standard deviation in original units
// (sigma_obs × y scale): the model's one-step error sigma.
func (m *Model) NoiseSigma() float64 { return m.params.SigmaObs * m.yScale }

// Params returns a copy of the fitted parameters (scaled axes).
func (m *Model) Params() Params {
	p := m.params
	p.Delta = slices.Clone(p.Delta)
	p.Beta = slices.Clone(p.Beta)
	return p
}

// Seasonalities names the fitted seasonal components, in Prophet's order.
func (m *Model) Seasonalities() []string {
	names := make([]string, len(m.seasons))
	for i, s := range m.seasons {
		names[i] = s.Name
	}
	return names
}

// FitInfo tells how the parameters were obtained.
func (m *Model) FitInfo() FitInfo { return m.info }

// Growth is the model's trend function.
func (m *Model) Growth() Growth { return m.growth }

// Mode is the model's seasonality mode.
func (m *Model) Mode() Mode { return m.mode }

// Uncertainty returns the interval settings Predict uses.
func (m *Model) Uncertainty() Uncertainty { return m.unc }

// trendAt is the expected scaled trend at scaled time t.
func (m *Model) trendAt(t float64) float64 {
	if m.growth == GrowthFlat {
		return m.params.M
	}
	j, _ := slices.BinarySearch(m.cps, t)
	for j < len(m.cps) && m.cps[j] <= t {
		j++
	}
	return m.segK[j]*t + m.segM[j]
}

// FutureDates returns the days calendar days after the last history date.
func (m *Model) FutureDates(days int) []time.Time {
	out := make([]time.Time, 0, max(days, 0))
	for i := 1; i <= days; i++ {
		out = append(out, m.last.AddDate(0, 0, i))
	}
	return out
}
