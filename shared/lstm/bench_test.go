//go:build unix

package lstm

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/stockcast/stockcast/shared/cputime"
	"github.com/stockcast/stockcast/shared/training"
)

// flopsPerWindow counts the multiply-adds of the matrix products of one
// window's forward and backward pass (2 FLOPs each): per layer and step,
// the gate products x·W and h·U forward, and twice that backward (the
// gradients w.r.t. the weights and w.r.t. the inputs). Element-wise work is
// not counted.
func flopsPerWindow(cfg Config) float64 {
	var f float64
	in := cfg.inputs()
	for _, h := range cfg.Layers {
		f += float64(cfg.Window) * 2 * float64((in+h)*4*h)
		in = h
	}
	f += 2 * float64(in*cfg.outputs())
	return 3 * f
}

// prototypeShape is the default network cut to the prototype's shape: 10
// days of context, one day ahead, the median only. It measures the kernels
// on the same matrix sizes as before the multi-day network.
func prototypeShape() Config {
	c := DefaultConfig()
	c.Window, c.Horizon, c.Quantiles = 10, 1, []float64{0.5}
	return c
}

// BenchmarkTrainStep is one training step (loading the windows' features,
// forward, backward through time, Adam) of the default network on a batch
// of 32 windows, with dropout, for each cell activation (Keras's tanh, the
// prototype's relu), and of the prototype's shape.
func BenchmarkTrainStep(b *testing.B) {
	proto := prototypeShape()
	for _, tc := range []struct {
		name string
		cfg  Config
	}{{"tanh", DefaultConfig()}, {"relu", func() Config { c := DefaultConfig(); c.Activation = ReLU; return c }()}, {"prototype-shape", proto}} {
		b.Run(tc.name, func(b *testing.B) {
			m, t, batch := setupWith(b, tc.cfg)
			b.ReportAllocs()
			var cpu time.Duration
			for b.Loop() {
				c0 := cputime.Used(b)
				t.step(batch)
				cpu += cputime.Used(b) - c0
			}
			reportThroughput(b, m.cfg, len(batch)*b.N, cpu)
		})
	}
}

// reportThroughput reports windows and GFLOP (of flopsPerWindow) per
// wall-clock second and per CPU second.
func reportThroughput(b *testing.B, cfg Config, windows int, cpu time.Duration) {
	w := float64(windows) / b.Elapsed().Seconds()
	wc := float64(windows) / cpu.Seconds()
	b.ReportMetric(w, "windows/s")
	b.ReportMetric(w*flopsPerWindow(cfg)/1e9, "GFLOP/s")
	b.ReportMetric(wc, "windows/cpu-s")
	b.ReportMetric(wc*flopsPerWindow(cfg)/1e9, "GFLOP/cpu-s")
}

// BenchmarkTrainStepNaive is the baseline: the same batch through the
// per-window reference implementation (float64, one matrix-vector product
// per gate and step), and an Adam step.
func BenchmarkTrainStepNaive(b *testing.B) {
	m, t, batch := benchSetup(b, Tanh)
	wins := naiveWindows(t, batch)
	params := make([]float64, len(m.params))
	for i, v := range m.params {
		params[i] = float64(v)
	}
	grad := make([]float64, len(params))
	opt := newAdam[float64](len(params))
	nn := naiveNet{w: bindFor(m.cfg, params), relu: m.cfg.Activation == ReLU, quantiles: m.cfg.Quantiles}
	gw := bindFor(m.cfg, grad)
	b.ReportAllocs()
	var cpu time.Duration
	for b.Loop() {
		c0 := cputime.Used(b)
		clear(grad)
		nn.batchLossAndGrad(wins, gw)
		opt.update(m.cfg, params, grad)
		cpu += cputime.Used(b) - c0
	}
	reportThroughput(b, m.cfg, len(batch)*b.N, cpu)
}

// naiveWindows are the batch's windows as the trainer loads them, for the
// reference implementation.
func naiveWindows(t *trainer, batch []windowRef) []naiveWindow {
	t.load(batch)
	ws, n := t.ws, len(batch)
	T, nf, H := ws.window, ws.inputs, ws.horizon
	wins := make([]naiveWindow, n)
	for r := range wins {
		w := naiveWindow{x: make([][]float64, T), y: make([]float64, H), observed: make([]bool, H)}
		for i := range T {
			for _, v := range ws.x[(i*n+r)*nf : (i*n+r+1)*nf] {
				w.x[i] = append(w.x[i], float64(v))
			}
		}
		for d := range H {
			w.y[d], w.observed[d] = float64(ws.y[r*H+d]), ws.observed[r*H+d] != 0
		}
		wins[r] = w
	}
	return wins
}

// BenchmarkFineTuneVsFull compares, on 32 series × 1,000 days shaped like
// the generated dataset, fine-tuning a checkpoint trained on the first 970
// days with a full retrain, after the last 30 days arrive. Both hold out
// the same last 7 days (a quarter of the new days; every window with one of
// them as a target: 34 per series) for validation. Everything else is the
// default network and policy, but a full epoch samples 20,000 of the 31,000
// windows and runs at most 30 epochs, so that the benchmark ends in minutes
// on a shared machine. It
// reports the ratios of wall-clock and of CPU time (speedup, speedup-cpu)
// and of validation loss (val-ratio, fine-tuned over full).
func BenchmarkFineTuneVsFull(b *testing.B) {
	const products, total, fresh = 32, 1000, 30
	data := synthSeries(products, total, 11)
	pol := DefaultPolicy()
	pol.FullEpochs, pol.MaxWindows, pol.ValidationDays = 30, 20_000, 7
	ctx := context.Background()
	pre := mustNew(b, DefaultConfig())
	if _, err := pre.Train(ctx, upTo(data, total-fresh), TrainOptions{Policy: pol}); err != nil {
		b.Fatal(err)
	}
	var ckpt bytes.Buffer
	if _, err := pre.WriteTo(&ckpt); err != nil {
		b.Fatal(err)
	}
	var fineTime, fullTime, fineCPU, fullCPU time.Duration
	var fine, full Report
	for b.Loop() {
		m, err := Read(bytes.NewReader(ckpt.Bytes()))
		if err != nil {
			b.Fatal(err)
		}
		start, c0 := time.Now(), cputime.Used(b)
		if fine, err = m.Train(ctx, data, TrainOptions{Policy: pol}); err != nil {
			b.Fatal(err)
		}
		fineTime, fineCPU = fineTime+time.Since(start), fineCPU+cputime.Used(b)-c0
		start, c0 = time.Now(), cputime.Used(b)
		if full, err = mustNew(b, DefaultConfig()).Train(ctx, data, TrainOptions{Mode: training.Full, Policy: pol}); err != nil {
			b.Fatal(err)
		}
		fullTime, fullCPU = fullTime+time.Since(start), fullCPU+cputime.Used(b)-c0
	}
	if fine.Mode != training.FineTune || full.Mode != training.Full || fine.ValWindows != full.ValWindows {
		b.Fatalf("fine-tune %s on %d validation windows, full %s on %d", fine.Mode, fine.ValWindows, full.Mode, full.ValWindows)
	}
	b.ReportMetric(fineTime.Seconds()/float64(b.N), "finetune-s")
	b.ReportMetric(fullTime.Seconds()/float64(b.N), "full-s")
	b.ReportMetric(fullTime.Seconds()/fineTime.Seconds(), "speedup")
	b.ReportMetric(fullCPU.Seconds()/fineCPU.Seconds(), "speedup-cpu")
	b.ReportMetric(fine.ValLoss, "finetune-val")
	b.ReportMetric(full.ValLoss, "full-val")
	b.ReportMetric(fine.ValLoss/full.ValLoss, "val-ratio")
	b.ReportMetric(float64(fine.Epochs), "finetune-epochs")
	b.ReportMetric(float64(full.Epochs), "full-epochs")
	b.ReportMetric(float64(fine.BestEpoch), "finetune-best-epoch")
	b.ReportMetric(float64(full.BestEpoch), "full-best-epoch")
}

// BenchmarkGemm compares gemm (float32, as training runs it, and the
// portable float64 instantiation) with gonum's blas32/blas64 Gemm and the
// naive loop, on the shapes one training batch of the prototype's network
// multiplies.
func BenchmarkGemm(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, s := range [][3]int{{32, 200, 50}, {32, 50, 200}, {50, 200, 288}, {320, 200, 50}} {
		m, n, k := s[0], s[1], s[2]
		a, bm, c := randSlice(rng, m*k), randSlice(rng, k*n), randSlice(rng, m*n)
		a32, b32, c32 := to32(a), to32(bm), to32(c)
		flops := float64(2 * m * n * k)
		run := func(name string, f func()) {
			b.Run(fmt.Sprintf("%s/%dx%dx%d", name, m, n, k), func(b *testing.B) {
				c0 := cputime.Used(b)
				for b.Loop() {
					f()
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				b.ReportMetric(flops*float64(b.N)/(cputime.Used(b)-c0).Seconds()/1e9, "GFLOP/cpu-s")
			})
		}
		run("lstm32", func() { gemm(m, n, k, a32, k, b32, n, c32, n) })
		run("lstm64", func() { gemm(m, n, k, a, k, bm, n, c, n) })
		run("gonum32", func() {
			blas32.Gemm(blas.NoTrans, blas.NoTrans, 1,
				blas32.General{Rows: m, Cols: k, Stride: k, Data: a32},
				blas32.General{Rows: k, Cols: n, Stride: n, Data: b32}, 1,
				blas32.General{Rows: m, Cols: n, Stride: n, Data: c32})
		})
		run("gonum64", func() {
			blas64.Gemm(blas.NoTrans, blas.NoTrans, 1,
				blas64.General{Rows: m, Cols: k, Stride: k, Data: a},
				blas64.General{Rows: k, Cols: n, Stride: n, Data: bm}, 1,
				blas64.General{Rows: m, Cols: n, Stride: n, Data: c})
		})
		run("naive64", func() { naiveGemm(m, n, k, a, k, bm, n, c, n) })
	}
}

// BenchmarkForecast is serving: 30-day forecasts (one 28-day pass, rolled
// forward once) from one loaded model, for one series and for a batch of 100.
func BenchmarkForecast(b *testing.B) {
	m := mustNew(b, DefaultConfig())
	data := synthSeries(100, 60, 3)
	var qs []Query
	for _, s := range data {
		qs = append(qs, Query{ID: s.ID, History: s.Values, Last: s.End(), Horizon: 30})
	}
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("series=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.ForecastBatch(qs[:n]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/series")
		})
	}
}
