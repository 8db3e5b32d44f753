package lstm

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

var day0 = time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)

// synthSeries makes series shaped like shared/datagen's products: a level
// between 5 and 200, a yearly trend, weekly and yearly seasonality and
// multiplicative noise, rounded to whole units, over days days from day0.
func synthSeries(products, days int, seed uint64) []Series {
	out := make([]Series, products)
	for p := range out {
		rng := rand.New(rand.NewPCG(seed, uint64(p)))
		u := rng.Float64()
		level, trend := 5+195*u*u, -0.1+0.4*rng.Float64()
		weekly, yearly, peak := 0.05+0.25*rng.Float64(), 0.1+0.4*rng.Float64(), 365*rng.Float64()
		noise := 0.05 + 0.1*rng.Float64()
		v := make([]float64, days)
		for d := range v {
			years := float64(d) / 365.25
			mean := level * math.Max(0.05, 1+trend*years) *
				(1 + weekly*math.Cos(2*math.Pi*float64(d%7)/7)) *
				(1 + yearly*math.Cos(2*math.Pi*(float64(d)-peak)/365.25))
			v[d] = math.Max(0, math.Round(mean*(1+noise*rng.NormFloat64())))
		}
		out[p] = Series{ID: string(rune('A'+p%26)) + string(rune('a'+p/26)), Start: day0, Values: v}
	}
	return out
}

// upTo cuts every series after the given number of days.
func upTo(all []Series, n int) []Series {
	out := make([]Series, len(all))
	for i, s := range all {
		out[i] = s
		out[i].Values = s.Values[:min(n, len(s.Values))]
	}
	return out
}

// smallConfig is a quick network for the training tests: two layers of 12
// units over 14 days, 7 days ahead.
func smallConfig() Config {
	c := DefaultConfig()
	c.Window, c.Horizon, c.Layers = 14, 7, []int{12, 12}
	return c
}

// quickPolicy keeps the training tests fast.
func quickPolicy() Policy {
	return Policy{FullEpochs: 8, FineTuneEpochs: 5, MaxWindows: 3000, ValidationDays: 7}
}

func mustNew(t testing.TB, cfg Config) *Model {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// horizonMAE is the mean absolute error, in raw units, of the model's
// forecasts of the Horizon days from each origin (an index into every
// series) through the serving path, over the observed days.
func horizonMAE(t testing.TB, m *Model, all []Series, origins ...int) float64 {
	t.Helper()
	H := m.Config().Horizon
	var qs []Query
	var want [][]float64
	for _, s := range all {
		for _, o := range origins {
			if o+H > len(s.Values) {
				t.Fatalf("origin %d + horizon %d beyond the %d days of %s", o, H, len(s.Values), s.ID)
			}
			qs = append(qs, Query{ID: s.ID, History: s.Values[:o], Last: s.Start.AddDate(0, 0, o-1), Horizon: H})
			want = append(want, s.Values[o:o+H])
		}
	}
	got, err := m.ForecastBatch(qs)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	n := 0
	for i, f := range got {
		for d, v := range want[i] {
			if !math.IsNaN(v) {
				sum += math.Abs(f.Point[d] - v)
				n++
			}
		}
	}
	return sum / float64(n)
}

// benchSetup is the default network with the given cell activation and a
// batch of 32 random windows of a random series.
func benchSetup(b testing.TB, act Activation) (*Model, *trainer, []windowRef) {
	cfg := DefaultConfig()
	cfg.Activation = act
	return setupWith(b, cfg)
}

// setupWith is benchSetup for any configuration.
func setupWith(b testing.TB, cfg Config) (*Model, *trainer, []windowRef) {
	m, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	s := Series{ID: "s", Start: day0, Values: make([]float64, 4096)}
	for i := range s.Values {
		s.Values[i] = 100 * rng.Float64()
	}
	t := &trainer{m: m, series: []Series{s}, startDay: []int64{epochDay(day0)}, fallback: []float64{1},
		ws: newWorkspace[float32](cfg, cfg.BatchSize), grad: make([]float32, len(m.params)), rng: rng}
	t.gw = bindFor(cfg, t.grad)
	batch := make([]windowRef, cfg.BatchSize)
	for i := range batch {
		o := cfg.Window + rng.IntN(len(s.Values)-cfg.Window-cfg.Horizon)
		batch[i] = windowRef{0, int32(o), int32(o), int32(o + cfg.Horizon)}
	}
	return m, t, batch
}
