package lstm

import (
	"math/rand/v2"
	"testing"
)

// flopsPerWindow counts the multiply-adds of the matrix products of one
// window's forward and backward pass (2 FLOPs each): per layer and step,
// the gate products x·W and h·U forward, and twice that backward (the
// gradients w.r.t. the weights and w.r.t. the inputs). Element-wise work is
// not counted.
func flopsPerWindow(cfg Config) float64 {
	var f float64
	in := 1
	for _, h := range cfg.Layers {
		f += float64(cfg.Window) * 2 * float64((in+h)*4*h)
		in = h
	}
	f += 2 * float64(in)
	return 3 * f
}

// benchSetup is the prototype's network and a batch of 32 random windows.
func benchSetup(b testing.TB) (*Model, *trainer, []windowRef) {
	cfg := DefaultConfig()
	m, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	s := make([]float64, 4096)
	for i := range s {
		s[i] = rng.Float64()
	}
	t := &trainer{m: m, scaled: [][]float64{s}, ws: newWorkspace(cfg, cfg.BatchSize), grad: make([]float64, len(m.params)), rng: rng}
	t.gw = bindWeights(cfg.Layers, t.grad)
	batch := make([]windowRef, cfg.BatchSize)
	for i := range batch {
		batch[i] = windowRef{0, int32(cfg.Window + rng.IntN(len(s)-cfg.Window))}
	}
	return m, t, batch
}

// BenchmarkTrainStep is one training step (forward, backward through time,
// Adam) of the prototype's network on a batch of 32 windows, with dropout.
func BenchmarkTrainStep(b *testing.B) {
	m, t, batch := benchSetup(b)
	b.ReportAllocs()
	for b.Loop() {
		t.step(batch)
	}
	w := float64(len(batch)*b.N) / b.Elapsed().Seconds()
	b.ReportMetric(w, "windows/s")
	b.ReportMetric(w*flopsPerWindow(m.cfg)/1e9, "GFLOP/s")
}

// BenchmarkTrainStepNaive is the baseline: the same batch through the
// per-window reference implementation, and the same Adam step.
func BenchmarkTrainStepNaive(b *testing.B) {
	m, t, batch := benchSetup(b)
	xs := make([][]float64, len(batch))
	ys := make([]float64, len(batch))
	for i, ref := range batch {
		xs[i] = t.scaled[0][int(ref.target)-m.cfg.Window : ref.target]
		ys[i] = t.scaled[0][ref.target]
	}
	nn := naiveNet{w: m.w, relu: m.cfg.Activation == ReLU}
	b.ReportAllocs()
	for b.Loop() {
		clear(t.grad)
		nn.batchLossAndGrad(xs, ys, t.gw)
		m.opt.update(m.cfg, m.params, t.grad)
	}
	w := float64(len(batch)*b.N) / b.Elapsed().Seconds()
	b.ReportMetric(w, "windows/s")
	b.ReportMetric(w*flopsPerWindow(m.cfg)/1e9, "GFLOP/s")
}
