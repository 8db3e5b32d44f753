package lstm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// tinyConfig is a small network for exact checks: 4 days of context with
// one covariate, 3 days ahead, three quantiles.
func tinyConfig(act Activation, dropout float64) Config {
	c := DefaultConfig()
	c.Window, c.Horizon, c.Layers, c.Activation, c.Dropout = 4, 3, []int{3, 2}, act, dropout
	c.Covariates = []string{"promo"}
	return c
}

// randomBatch fills ws with n random windows and targets, about a fifth of
// the targets not observed (the first window's are all observed).
func randomBatch(ws *workspace[float64], n int, rng *rand.Rand) []naiveWindow {
	T, nf, H := ws.window, ws.inputs, ws.horizon
	var wins []naiveWindow
	for r := range n {
		w := naiveWindow{x: make([][]float64, T), y: make([]float64, H), observed: make([]bool, H)}
		for t := range T {
			w.x[t] = make([]float64, nf)
			for f := range nf {
				w.x[t][f] = rng.Float64()
				ws.x[(t*n+r)*nf+f] = w.x[t][f]
			}
		}
		for d := range H {
			w.y[d], w.observed[d] = rng.Float64(), r == 0 || rng.Float64() > 0.2
			ws.y[r*H+d], ws.observed[r*H+d] = w.y[d], 0
			if w.observed[d] {
				ws.observed[r*H+d] = 1
			}
		}
		wins = append(wins, w)
	}
	return wins
}

// bindFor binds data as the weights of cfg's network.
func bindFor[F float](cfg Config, data []F) weights[F] {
	return bindWeights(cfg.Layers, cfg.inputs(), cfg.outputs(), data)
}

func TestGradientMatchesFiniteDifferences(t *testing.T) {
	for _, tc := range []struct {
		act     Activation
		dropout float64
	}{{Tanh, 0}, {ReLU, 0}, {Tanh, 0.3}, {ReLU, 0.3}} {
		t.Run(fmt.Sprintf("%s/dropout=%v", tc.act, tc.dropout), func(t *testing.T) {
			cfg := tinyConfig(tc.act, tc.dropout)
			rng := rand.New(rand.NewPCG(7, 8))
			theta := make([]float64, cfg.paramCount())
			w := bindFor(cfg, theta)
			initWeights(w, rng)
			for i := range theta { // move biases off their special values
				theta[i] += 0.1 * rng.NormFloat64()
			}
			const n = 3
			ws := newWorkspace[float64](cfg, n)
			randomBatch(ws, n, rng)
			relu := tc.act == ReLU
			// The same dropout masks for every evaluation make the loss a
			// deterministic function of the weights.
			loss := func() float64 {
				forward(ws, w, n, relu, cfg.Dropout, rand.New(rand.NewPCG(9, 9)))
				return backward(ws, w, bindFor(cfg, make([]float64, len(theta))), relu)
			}
			grad := make([]float64, len(theta))
			forward(ws, w, n, relu, cfg.Dropout, rand.New(rand.NewPCG(9, 9)))
			backward(ws, w, bindFor(cfg, grad), relu)
			const eps = 1e-6
			for i := range theta {
				v := theta[i]
				theta[i] = v + eps
				up := loss()
				theta[i] = v - eps
				down := loss()
				theta[i] = v
				num := (up - down) / (2 * eps)
				if math.Abs(num-grad[i]) > 1e-7+1e-5*math.Abs(num) {
					t.Errorf("parameter %d: backprop %.10g, finite differences %.10g", i, grad[i], num)
				}
			}
		})
	}
}

func TestBatchedMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	for _, tc := range []struct {
		window, horizon int
		quantiles       []float64
		layers          []int
		act             Activation
		n               int
	}{{56, 28, []float64{0.1, 0.5, 0.9}, []int{50, 50}, Tanh, 32}, {10, 28, []float64{0.5}, []int{50, 50}, ReLU, 7},
		{1, 1, []float64{0.5}, []int{5}, Tanh, 1}, {6, 5, []float64{0.25, 0.5}, []int{9, 4, 13}, Tanh, 5}} {
		cfg := DefaultConfig()
		cfg.Window, cfg.Horizon, cfg.Quantiles, cfg.Layers, cfg.Activation = tc.window, tc.horizon, tc.quantiles, tc.layers, tc.act
		theta := make([]float64, cfg.paramCount())
		w := bindFor(cfg, theta)
		initWeights(w, rng)
		ws := newWorkspace[float64](cfg, tc.n+3)
		wins := randomBatch(ws, tc.n, rng)
		got := make([]float64, len(theta))
		forward(ws, w, tc.n, tc.act == ReLU, 0, nil)
		gotLoss := backward(ws, w, bindFor(cfg, got), tc.act == ReLU)
		want := make([]float64, len(theta))
		wantLoss := naiveNet{w: w, relu: tc.act == ReLU, quantiles: tc.quantiles}.batchLossAndGrad(wins, bindFor(cfg, want))
		if math.Abs(gotLoss-wantLoss) > 1e-12*wantLoss {
			t.Errorf("%+v: loss %v, naive %v", tc, gotLoss, wantLoss)
		}
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-10*(1e-3+math.Abs(want[i])) {
				t.Fatalf("%+v: gradient %d = %v, naive %v", tc, i, got[i], want[i])
			}
		}
	}
}

func TestDropoutMask(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 15))
	for _, p := range []float64{0.2, 0.5} {
		m := make([]float32, 100_001)
		dropoutMask(m, p, rng)
		zeros := 0
		for _, v := range m {
			switch v {
			case 0:
				zeros++
			case float32(1 / (1 - p)):
			default:
				t.Fatalf("p=%v: multiplier %v", p, v)
			}
		}
		// Five standard deviations of the binomial count.
		if rate := float64(zeros) / float64(len(m)); math.Abs(rate-p) > 5*math.Sqrt(p*(1-p)/float64(len(m))) {
			t.Errorf("p=%v: dropped %v of the elements", p, rate)
		}
	}
}

// TestFloat32MatchesFloat64 runs the prototype's network in both precisions
// on the same weights and batch: predictions, loss and gradients agree to
// float32's precision.
func TestFloat32MatchesFloat64(t *testing.T) {
	for _, act := range []Activation{Tanh, ReLU} {
		cfg := DefaultConfig()
		cfg.Activation = act
		rng := rand.New(rand.NewPCG(16, 17))
		theta := make([]float64, cfg.paramCount())
		w64 := bindFor(cfg, theta)
		initWeights(w64, rng)
		theta32 := to32(theta)
		const n = 32
		ws64 := newWorkspace[float64](cfg, n)
		randomBatch(ws64, n, rng)
		ws32 := newWorkspace[float32](cfg, n)
		for i := range ws64.x {
			ws32.x[i] = float32(ws64.x[i])
		}
		for i := range ws64.y {
			ws32.y[i], ws32.observed[i] = float32(ws64.y[i]), float32(ws64.observed[i])
		}
		// Inputs rounded to float32 on both sides.
		for i := range ws64.x {
			ws64.x[i] = float64(ws32.x[i])
		}
		for i := range ws64.y {
			ws64.y[i] = float64(ws32.y[i])
		}
		for i := range theta {
			theta[i] = float64(theta32[i])
		}
		g64, g32 := make([]float64, len(theta)), make([]float32, len(theta))
		relu := act == ReLU
		forward(ws64, w64, n, relu, 0, nil)
		forward(ws32, bindFor(cfg, theta32), n, relu, 0, nil)
		for r := range n * cfg.outputs() {
			if d := math.Abs(float64(ws32.pred[r]) - ws64.pred[r]); d > 1e-5*(1+math.Abs(ws64.pred[r])) {
				t.Fatalf("%s: prediction %d: float32 %v, float64 %v", act, r, ws32.pred[r], ws64.pred[r])
			}
		}
		l64 := backward(ws64, w64, bindFor(cfg, g64), relu)
		l32 := backward(ws32, bindFor(cfg, theta32), bindFor(cfg, g32), relu)
		if math.Abs(l32-l64) > 1e-5*l64 {
			t.Errorf("%s: loss float32 %v, float64 %v", act, l32, l64)
		}
		var norm, diff float64
		for i := range g64 {
			norm += g64[i] * g64[i]
			d := float64(g32[i]) - g64[i]
			diff += d * d
		}
		if math.Sqrt(diff) > 1e-4*math.Sqrt(norm) {
			t.Errorf("%s: gradient differs by %v relative", act, math.Sqrt(diff/norm))
		}
	}
}
