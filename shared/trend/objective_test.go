package trend

import (
	"math"
	"math/rand/v2"
	"testing"
)

// testDesign builds the scaled design of a synthetic series.
func testDesign(t testing.TB, n int, growth Growth, mode Mode) *design {
	t.Helper()
	ds, y, _ := retailSeries(n, 3, 5, mode == Multiplicative)
	o := DefaultOptions()
	o.Yearly.Enable = SwitchOn
	h, err := prepare(ds, y, o.Scaling)
	if err != nil {
		t.Fatal(err)
	}
	ss := autoSeasonalities(o, h.tScale, minSpacing(h.ds))
	cps := changepointsOrDummy(placeChangepoints(h.t, o.NChangepoints, o.ChangepointRange))
	return newDesign(h.t, h.yScaled, seasonalFeatures(h.ds, ss), cps, priorPrecisions(ss),
		o.ChangepointPriorScale, growth, mode)
}

// randomParams draws parameters with every rate change away from zero, where
// the Laplace term is differentiable.
func randomParams(l layout, rng *rand.Rand) []float64 {
	x := make([]float64, l.params())
	for i := range x {
		x[i] = rng.NormFloat64() * 0.3
	}
	for j := range l.s {
		x[l.delta()+j] = math.Copysign(0.05+0.2*rng.Float64(), rng.NormFloat64())
	}
	x[l.sigma()] = math.Log(0.2)
	return x
}

func TestGradientMatchesFiniteDifferences(t *testing.T) {
	cases := []struct {
		name    string
		growth  Growth
		mode    Mode
		reduced bool
	}{
		{"additive direct", GrowthLinear, Additive, false},
		{"additive reduced", GrowthLinear, Additive, true},
		{"multiplicative", GrowthLinear, Multiplicative, false},
		{"flat additive reduced", GrowthFlat, Additive, true},
		{"flat multiplicative", GrowthFlat, Multiplicative, false},
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := testDesign(t, 400, c.growth, c.mode)
			var rss sumSquares = newDirectSSR(d)
			if c.reduced {
				rss = newReducedSSR(d)
			}
			obj := newNegLogPosterior(d, rss)
			l := d.layout()
			for range 3 {
				x := randomParams(l, rng)
				grad := make([]float64, len(x))
				obj.eval(x, grad)
				for i := range x {
					h := 1e-6 * math.Max(1, math.Abs(x[i]))
					xp := append([]float64(nil), x...)
					xm := append([]float64(nil), x...)
					xp[i] += h
					xm[i] -= h
					fd := (obj.eval(xp, nil) - obj.eval(xm, nil)) / (2 * h)
					if math.Abs(fd-grad[i]) > 1e-5*math.Max(1, math.Abs(fd)) {
						t.Errorf("parameter %d: analytic %v, finite difference %v", i, grad[i], fd)
					}
				}
			}
		})
	}
}

// The QR-reduced sum of squares equals the direct one, value and gradient.
func TestReducedMatchesDirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, growth := range []Growth{GrowthLinear, GrowthFlat} {
		for _, n := range []int{30, 400} { // 30 rows: fewer rows than parameters
			d := testDesign(t, n, growth, Additive)
			direct, reduced := newDirectSSR(d), newReducedSSR(d)
			l := d.layout()
			for range 5 {
				x := randomParams(l, rng)
				gd, gr := make([]float64, len(x)), make([]float64, len(x))
				fd, fr := direct.ssr(x, gd), reduced.ssr(x, gr)
				if math.Abs(fd-fr) > 1e-9*math.Max(1, fd) {
					t.Errorf("%s n=%d: direct %v, reduced %v", growth, n, fd, fr)
				}
				for i := range gd {
					if math.Abs(gd[i]-gr[i]) > 1e-8*math.Max(1, math.Abs(gd[i])) {
						t.Errorf("%s n=%d: gradient %d direct %v, reduced %v", growth, n, i, gd[i], gr[i])
					}
				}
			}
		}
	}
}

// The objective is Stan's log density with constants dropped: check it
// term by term on a two-row problem computed by hand.
func TestObjectiveByHand(t *testing.T) {
	d := newDesign([]float64{0, 1}, []float64{0.5, 1}, []float64{1, 0}, []float64{0.5},
		[]float64{1.0 / 4}, 0.05, GrowthLinear, Additive)
	obj := newNegLogPosterior(d, newDirectSSR(d))
	// k=0.2, m=0.3, δ=0.1, σ=0.5, β=0.4: yhat = [0.3+0.4, 0.2+0.3+0.1·0.5] = [0.7, 0.55].
	x := []float64{0.2, 0.3, 0.1, math.Log(0.5), 0.4}
	ssr := 0.2*0.2 + 0.45*0.45
	want := 0.04/50 + 0.09/50 + 0.1/0.05 + 2*0.25 + 0.16/(2*4) + 2*math.Log(0.5) + ssr/(2*0.25)
	if got := obj.eval(x, nil); math.Abs(got-want) > 1e-12 {
		t.Fatalf("objective %v, want %v", got, want)
	}
}
