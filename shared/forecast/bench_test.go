package forecast

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/datagen"
	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/trend"
)

// Benchmarks. Run with
//
//	go test ./shared/forecast -run '^$' -bench Forecast -count 5
//
// on the generated 1,000 products × 1,000 days (1,000,000 rows; -short
// shrinks it to 100 × 400), loaded once per process. Each request runs
// warm (the engine's cache holds the series) and, as the baseline in the
// same run, cold (a new engine per call, as after a model change: the series
// is aggregated from the table and, for an ad-hoc filter, its trend model
// fitted). Both use the blend with a default-size LSTM (untrained: the
// weights do not change the cost). In between, predict: the series is
// cached but its predictions for the request's horizon are not (the engine
// keeps them for memoHorizons horizons, here filled with others), so every
// call runs the trend model's 1000 simulated paths and the LSTM. Besides
// ns/op each reports the p50 and p99 latency of its calls.
//   - product: product/P0050, whose trend model is precomputed.
//   - filter: category=Electronics&region=North, an ad-hoc series.

type benchData struct {
	table *series.Table
	set   *trend.Set
	net   *lstm.Model
}

var benchSetup = sync.OnceValues(func() (benchData, error) {
	cfg := datagen.Config{Products: 1000, Days: 1000, Seed: 1}
	if testing.Short() {
		cfg.Products, cfg.Days = 100, 400
	}
	var buf bytes.Buffer
	if err := datagen.Write(context.Background(), &buf, cfg); err != nil {
		return benchData{}, err
	}
	table, err := series.Load(context.Background(), &buf)
	if err != nil {
		return benchData{}, err
	}
	s, err := table.Filtered(benchProduct.Filter())
	if err != nil {
		return benchData{}, err
	}
	m, reason, err := trend.FitWithFallback(context.Background(), s.Dates, s.Values, trend.DefaultOptions())
	if err != nil {
		return benchData{}, err
	}
	set := trend.NewSet(time.Now())
	set.Add(s.Key, m, reason)
	net, err := lstm.New(lstm.DefaultConfig())
	return benchData{table: table, set: set, net: net}, err
})

var (
	benchProduct = request(func(r *Request) { r.ProductID = "P0050" })
	benchFilter  = request(func(r *Request) { r.Category, r.Region = "Electronics", "North" })
	// benchAuto is the default request (model=auto) of the same product; cold, the engine
	// backtests it (no refit selection is loaded).
	benchAuto = func() Request { r := DefaultRequest(); r.ProductID = "P0050"; return r }()
)

func BenchmarkForecast(b *testing.B) {
	data, err := benchSetup()
	if err != nil {
		b.Fatal(err)
	}
	newEngine := func() *Engine {
		e, err := NewEngine(data.table, data.set, data.net, Metadata{Version: "bench"}, DefaultConfig())
		if err != nil {
			b.Fatal(err)
		}
		return e
	}
	for _, c := range []struct {
		name string
		r    Request
	}{{"product", benchProduct}, {"filter", benchFilter}, {"product-auto", benchAuto}} {
		b.Run(c.name+"/warm", func(b *testing.B) {
			e := newEngine()
			if _, err := e.Forecast(context.Background(), c.r); err != nil {
				b.Fatal(err)
			}
			measure(b, func() *Engine { return e }, c.r)
		})
		b.Run(c.name+"/predict", func(b *testing.B) {
			e := newEngine()
			for days := range memoHorizons + 1 {
				if days+1 == c.r.Days {
					continue
				}
				other := c.r
				other.Days, other.LeadTimeDays = days+1, 1
				if _, err := e.Forecast(context.Background(), other); err != nil {
					b.Fatal(err)
				}
			}
			measure(b, func() *Engine { return e }, c.r)
		})
		b.Run(c.name+"/cold", func(b *testing.B) { measure(b, newEngine, c.r) })
	}
}

// measure times e().Forecast(r) per call and reports p50 and p99.
func measure(b *testing.B, e func() *Engine, r Request) {
	ctx := context.Background()
	var took []time.Duration
	for b.Loop() {
		engine := e()
		start := time.Now()
		if _, err := engine.Forecast(ctx, r); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(took[len(took)*99/100].Nanoseconds()), "p99-ns")
}
