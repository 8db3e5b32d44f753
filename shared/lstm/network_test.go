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
func randomBatch(ws *workspace, n int, rng *rand.Rand) (xs [][]float64, ys []float64) {
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
			ws := newWorkspace(cfg, n)
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
		ws := newWorkspace(cfg, tc.n+3)
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
		m := make([]float64, 100_001)
		dropoutMask(m, p, rng)
		zeros := 0
		for _, v := range m {
			switch v {
			case 0:
				zeros++
			case 1 / (1 - p):
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
