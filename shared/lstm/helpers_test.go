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

// smallConfig is a quick network for the training tests.
func smallConfig() Config {
	c := DefaultConfig()
	c.Layers = []int{12, 12}
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

// oneStepMSE is the mean squared one-day-ahead error, in raw units, of the
// model's forecasts for the days from..to, through the serving path.
func oneStepMSE(t testing.TB, m *Model, all []Series, from, to time.Time) float64 {
	t.Helper()
	var qs []Query
	var want []float64
	W := m.Config().Window
	for _, s := range all {
		for i := W; i < len(s.Values); i++ {
			d := s.Start.AddDate(0, 0, i)
			if d.Before(from) || d.After(to) {
				continue
			}
			qs = append(qs, Query{ID: s.ID, History: s.Values[i-W : i], Horizon: 1})
			want = append(want, s.Values[i])
		}
	}
	got, err := m.ForecastBatch(qs)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for i, g := range got {
		e := g[0] - want[i]
		sum += e * e
	}
	return sum / float64(len(qs))
}

// benchSetup is the prototype's network with the given cell activation and
// a batch of 32 random windows.
func benchSetup(b testing.TB, act Activation) (*Model, *trainer, []windowRef) {
	cfg := DefaultConfig()
	cfg.Activation = act
	m, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	s := make([]float32, 4096)
	for i := range s {
		s[i] = rng.Float32()
	}
	t := &trainer{m: m, scaled: [][]float32{s}, ws: newWorkspace[float32](cfg, cfg.BatchSize), grad: make([]float32, len(m.params)), rng: rng}
	t.gw = bindWeights(cfg.Layers, t.grad)
	batch := make([]windowRef, cfg.BatchSize)
	for i := range batch {
		batch[i] = windowRef{0, int32(cfg.Window + rng.IntN(len(s)-cfg.Window))}
	}
	return m, t, batch
}
