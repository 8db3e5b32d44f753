package lstm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// tinyConfig is a small network for exact checks.
func tinyConfig(act Activation, dropout float64) Config {
	c := DefaultConfig()
	c.Window, c.Layers, c.Activation, c.Dropout = 4, []int{3, 2}, act, dropout
	return c
}

// randomBatch fills ws with n random windows and targets.
func randomBatch(ws *workspace[float64], n int, rng *rand.Rand) (xs [][]float64, ys []float64) {
	T := ws.window
	for r := range n {
		x := make([]float64, T)
		for t := range T {
			x[t] = rng.Float64()
			ws.x[t*n+r] = x[t]
		}
		ws.y[r] = rng.Float64()
		xs, ys = append(xs, x), append(ys, ws.y[r])
	}
	return xs, ys
}

func TestGradientMatchesFiniteDifferences(t *testing.T) {
	for _, tc := range []struct {
		act     Activation
		dropout float64
	}{{Tanh, 0}, {ReLU, 0}, {Tanh, 0.3}, {ReLU, 0.3}} {
		t.Run(fmt.Sprintf("%s/dropout=%v", tc.act, tc.dropout), func(t *testing.T) {
			cfg := tinyConfig(tc.act, tc.dropout)
			rng := rand.New(rand.NewPCG(7, 8))
			theta := make([]float64, paramCount(cfg.Layers))
			w := bindWeights(cfg.Layers, theta)
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
				return backward(ws, w, bindWeights(cfg.Layers, make([]float64, len(theta))), relu)
			}
			grad := make([]float64, len(theta))
			forward(ws, w, n, relu, cfg.Dropout, rand.New(rand.NewPCG(9, 9)))
			backward(ws, w, bindWeights(cfg.Layers, grad), relu)
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
		window int
		layers []int
		act    Activation
		n      int
	}{{10, []int{50, 50}, Tanh, 32}, {10, []int{50, 50}, ReLU, 7}, {1, []int{5}, Tanh, 1}, {6, []int{9, 4, 13}, Tanh, 5}} {
		cfg := DefaultConfig()
		cfg.Window, cfg.Layers, cfg.Activation = tc.window, tc.layers, tc.act
		theta := make([]float64, paramCount(cfg.Layers))
		w := bindWeights(cfg.Layers, theta)
		initWeights(w, rng)
		ws := newWorkspace[float64](cfg, tc.n+3)
		xs, ys := randomBatch(ws, tc.n, rng)
		got := make([]float64, len(theta))
		forward(ws, w, tc.n, tc.act == ReLU, 0, nil)
		gotLoss := backward(ws, w, bindWeights(cfg.Layers, got), tc.act == ReLU)
		want := make([]float64, len(theta))
		wantLoss := naiveNet{w: w, relu: tc.act == ReLU}.batchLossAndGrad(xs, ys, bindWeights(cfg.Layers, want))
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
		theta := make([]float64, paramCount(cfg.Layers))
		w64 := bindWeights(cfg.Layers, theta)
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
			ws32.y[i] = float32(ws64.y[i])
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
		forward(ws32, bindWeights(cfg.Layers, theta32), n, relu, 0, nil)
		for r := range n {
			if d := math.Abs(float64(ws32.pred[r]) - ws64.pred[r]); d > 1e-5*(1+math.Abs(ws64.pred[r])) {
				t.Fatalf("%s: prediction %d: float32 %v, float64 %v", act, r, ws32.pred[r], ws64.pred[r])
			}
		}
		l64 := backward(ws64, w64, bindWeights(cfg.Layers, g64), relu)
		l32 := backward(ws32, bindWeights(cfg.Layers, theta32), bindWeights(cfg.Layers, g32), relu)
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
