package trend

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"
)

// Benchmarks. Run with
//
//	go test ./shared/trend -run '^$' -bench . -count 5 -cpu 1
//
// and read each one against its baseline in the same run:
//   - BenchmarkFit/<n>/model is a whole Fit (defaults: linear growth,
//     additive, auto seasonalities) of a daily series; .../ols is one
//     ordinary least squares solve (Householder QR) of the same design
//     matrix, the cheapest possible "fit" of that model; .../numeric-gradient
//     is the same MAP search with the gradient taken by central differences
//     of the direct objective instead of analytically.
//   - BenchmarkFitShort/<mode>/newton is a whole Fit of a 60-day series,
//     which Prophet's rule (under 100 rows) sends to Newton's method;
//     .../lbfgs is the same fit forced to L-BFGS, the baseline.
//   - BenchmarkNewtonHessian is the matrix of one Newton step on that
//     series: analytic (as Fit computes it) against Stan's finite
//     differences of the gradient (gradHessLogProb, 4 gradients per
//     parameter).
//   - BenchmarkObjective compares one evaluation of objective and gradient:
//     the QR-reduced form used for additive fits, the direct O(T·K) form,
//     and the central-difference gradient.
//   - BenchmarkPredict is a forecast with 1000 simulated paths; .../prophet-loop
//     is Prophet's non-vectorised algorithm (a Poisson draw of future
//     changepoints and a piecewise trend per path, sorted percentiles).

var fitSizes = []struct {
	name string
	days int
}{{"2y", 731}, {"10y", 3653}} // 731 days span two full years: yearly seasonality is on

// fitDesign prepares the additive design Fit would build for a series.
func fitDesign(tb testing.TB, ds []time.Time, y []float64, o Options) (*design, []float64) {
	tb.Helper()
	h, err := prepare(ds, y, o.Scaling)
	if err != nil {
		tb.Fatal(err)
	}
	ss := autoSeasonalities(o, h.tScale, minSpacing(h.ds))
	cps := changepointsOrDummy(placeChangepoints(h.t, o.NChangepoints, o.ChangepointRange))
	d := newDesign(h.t, h.yScaled, seasonalFeatures(h.ds, ss), cps, priorPrecisions(ss),
		o.ChangepointPriorScale, o.Growth, o.SeasonalityMode)
	x0 := make([]float64, d.layout().params())
	x0[0], x0[1] = linearGrowthInit(h.t, h.yScaled)
	return d, x0
}

// olsDesign is the additive design matrix [t, 1, (t−s_j)+, X] of d.
func olsDesign(d *design) *mat.Dense {
	l := d.layout()
	p := 2 + l.s + l.k
	a := mat.NewDense(len(d.t), p, nil)
	for i, t := range d.t {
		a.Set(i, 0, t)
		a.Set(i, 1, 1)
		for j, s := range d.cps {
			a.Set(i, 2+j, math.Max(t-s, 0))
		}
		for b := range l.k {
			a.Set(i, 2+l.s+b, d.x[i*l.k+b])
		}
	}
	return a
}

// numericSSR differentiates the direct sum of squares by central
// differences (its Hessian is the direct one's).
type numericSSR struct {
	*directSSR
	x, g []float64
}

func (n *numericSSR) ssr(theta, grad []float64) float64 {
	n.x = append(n.x[:0], theta...)
	if n.g == nil {
		n.g = make([]float64, len(theta))
	}
	f := n.directSSR.ssr(theta, n.g)
	sigma := n.directSSR.d.layout().sigma()
	for i := range theta {
		grad[i] = 0
		if i == sigma {
			continue
		}
		h := 1e-6 * math.Max(1, math.Abs(theta[i]))
		n.x[i] = theta[i] + h
		fp := n.directSSR.ssr(n.x, n.g)
		n.x[i] = theta[i] - h
		fm := n.directSSR.ssr(n.x, n.g)
		n.x[i] = theta[i]
		grad[i] = (fp - fm) / (2 * h)
	}
	return f
}

func BenchmarkFit(b *testing.B) {
	o := DefaultOptions()
	for _, size := range fitSizes {
		ds, y, _ := retailSeries(size.days, 7, 5, false)
		b.Run(size.name+"/model", func(b *testing.B) {
			var info FitInfo
			for b.Loop() {
				m, err := Fit(context.Background(), ds, y, o)
				if err != nil {
					b.Fatal(err)
				}
				info = m.FitInfo()
			}
			b.ReportMetric(float64(info.Iterations), "iters")
			b.ReportMetric(float64(info.Evaluations), "evals")
		})
		b.Run(size.name+"/ols", func(b *testing.B) {
			d, _ := fitDesign(b, ds, y, o)
			a := olsDesign(d)
			yv := mat.NewVecDense(len(d.y), d.y)
			for b.Loop() {
				var qr mat.QR
				qr.Factorize(a)
				var beta mat.VecDense
				if err := qr.SolveVecTo(&beta, false, yv); err != nil {
					b.Fatal(err)
				}
			}
		})
		if size.days > 731 {
			continue // the numeric gradient takes seconds per fit
		}
		b.Run(size.name+"/numeric-gradient", func(b *testing.B) {
			d, x0 := fitDesign(b, ds, y, o)
			var info FitInfo
			for b.Loop() {
				obj := newNegLogPosterior(d, &numericSSR{directSSR: newDirectSSR(d)})
				_, fi, err := minimise(context.Background(), obj, x0)
				if err != nil {
					b.Fatal(err)
				}
				info = fi
			}
			b.ReportMetric(float64(info.Iterations), "iters")
			b.ReportMetric(float64(info.Evaluations), "evals")
		})
	}
}

func BenchmarkFitShort(b *testing.B) {
	for _, mode := range []Mode{Additive, Multiplicative} {
		ds, y, _ := retailSeries(60, 7, 5, mode == Multiplicative)
		for _, alg := range []Algorithm{AlgorithmNewton, AlgorithmLBFGS} {
			o := DefaultOptions()
			o.SeasonalityMode = mode
			o.Algorithm = alg
			b.Run(string(mode)+"/"+string(alg), func(b *testing.B) {
				var info FitInfo
				for b.Loop() {
					m, err := Fit(context.Background(), ds, y, o)
					if err != nil {
						b.Fatal(err)
					}
					info = m.FitInfo()
				}
				b.ReportMetric(float64(info.Iterations), "iters")
				b.ReportMetric(float64(info.Evaluations), "evals")
			})
		}
	}
}

func BenchmarkNewtonHessian(b *testing.B) {
	ds, y, _ := retailSeries(60, 7, 5, false)
	d, x0 := fitDesign(b, ds, y, DefaultOptions())
	obj := newNegLogPosterior(d, newReducedSSR(d))
	s := newNewtonSolver(obj)
	b.Run("analytic", func(b *testing.B) {
		for b.Loop() {
			s.stanHessian(x0)
		}
	})
	b.Run("grad-hess-log-prob", func(b *testing.B) {
		for b.Loop() {
			gradHessLogProb(obj, s.free, x0)
		}
	})
}

func BenchmarkObjective(b *testing.B) {
	o := DefaultOptions()
	for _, size := range fitSizes {
		ds, y, _ := retailSeries(size.days, 7, 5, false)
		d, x0 := fitDesign(b, ds, y, o)
		for _, c := range []struct {
			name string
			rss  sumSquares
		}{
			{"reduced", newReducedSSR(d)},
			{"direct", newDirectSSR(d)},
			{"numeric", &numericSSR{directSSR: newDirectSSR(d)}},
		} {
			b.Run(size.name+"/"+c.name, func(b *testing.B) {
				obj := newNegLogPosterior(d, c.rss)
				g := make([]float64, len(x0))
				for b.Loop() {
					obj.eval(x0, g)
				}
			})
		}
	}
}

// prophetLoopIntervals is Prophet's non-vectorised predict_uncertainty
// (sample_predictive_trend per path) with MAP parameters: the baseline of
// BenchmarkPredict and an independent check of the vectorised intervals.
func prophetLoopIntervals(m *Model, dates []time.Time, u Uncertainty) (lower, upper []float64) {
	rng := rand.New(rand.NewPCG(u.Seed, 99))
	point, _ := m.PredictWith(dates, Uncertainty{})
	n := len(dates)
	t := make([]float64, n)
	for i, d := range dates {
		t[i] = scaledTime(d, m.first, m.tScale)
	}
	tMax := slices.Max(t)
	samples := make([][]float64, n)
	for range u.Samples {
		cps, deltas := slices.Clone(m.cps), slices.Clone(m.params.Delta)
		if tMax > 1 && m.growth == GrowthLinear {
			for range poisson(rng, float64(len(m.cps))*(tMax-1)) {
				cps = append(cps, 1+rng.Float64()*(tMax-1))
				deltas = append(deltas, laplace(rng, m.meanAbsDelta))
			}
		}
		for i := range n {
			tr := m.params.M
			if m.growth == GrowthLinear {
				tr = piecewiseLinear(t[i], deltas, m.params.K, m.params.M, cps)
			}
			tr = tr*m.yScale + m.yMin
			mult := point.Components["multiplicative_terms"][i]
			add := point.Components["additive_terms"][i]
			samples[i] = append(samples[i], tr*(1+mult)+add+rng.NormFloat64()*m.params.SigmaObs*m.yScale)
		}
	}
	lo, hi := 100*(1-u.IntervalWidth)/2, 100*(1+u.IntervalWidth)/2
	for i := range n {
		lower = append(lower, numpyPercentile(samples[i], lo))
		upper = append(upper, numpyPercentile(samples[i], hi))
	}
	return lower, upper
}

// poisson draws by Knuth's multiplication method (small means only).
func poisson(rng *rand.Rand, mean float64) int {
	limit, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= limit {
			return k
		}
		k++
	}
}

// The vectorised intervals agree with Prophet's original per-path algorithm
// (both simulate the same generative model).
func TestVectorisedIntervalsMatchProphetLoop(t *testing.T) {
	m := fittedRetail(t, Additive)
	dates := m.FutureDates(90)
	u := Uncertainty{Samples: 4000, IntervalWidth: 0.8, Seed: 3}
	f, err := m.PredictWith(dates, u)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := prophetLoopIntervals(m, dates, u)
	for _, i := range []int{0, 29, 89} {
		vec, loop := f.Upper[i]-f.Lower[i], hi[i]-lo[i]
		t.Logf("day %d: width %.3f vectorised, %.3f per-path", i+1, vec, loop)
		if math.Abs(vec/loop-1) > 0.1 {
			t.Errorf("day %d: interval width %.3f vectorised, %.3f per-path", i+1, vec, loop)
		}
	}
}

func BenchmarkPredict(b *testing.B) {
	ds, y, _ := retailSeries(730, 7, 5, false)
	m, err := Fit(context.Background(), ds, y, DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	for _, horizon := range []int{7, 30} {
		dates := m.FutureDates(horizon)
		name := map[int]string{7: "7d", 30: "30d"}[horizon]
		b.Run(name+"/model", func(b *testing.B) {
			for b.Loop() {
				if _, err := m.Predict(dates); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/prophet-loop", func(b *testing.B) {
			for b.Loop() {
				prophetLoopIntervals(m, dates, m.Uncertainty())
			}
		})
	}
}
