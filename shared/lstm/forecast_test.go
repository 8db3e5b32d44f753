package lstm

import (
	"context"
	"math"
	"slices"
	"sync"
	"testing"
)

func TestForecast(t *testing.T) {
	m := mustNew(t, smallConfig())
	data := synthSeries(3, 150, 8)
	if _, err := m.Train(context.Background(), data, TrainOptions{Policy: quickPolicy()}); err != nil {
		t.Fatal(err)
	}
	H := m.Config().Horizon
	s := data[0]
	q := Query{ID: s.ID, History: s.Values[:130], Last: s.Start.AddDate(0, 0, 129), Horizon: 2*H + 3}
	long, err := m.Forecast(q)
	if err != nil {
		t.Fatal(err)
	}
	// The first H days are one pass of the network.
	q.Horizon = H
	short, err := m.Forecast(q)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(short.Point, long.Point[:H]) {
		t.Fatalf("first %d days: %v, one pass %v", H, long.Point[:H], short.Point)
	}
	// Beyond H it rolls forward: the medians are read as observed days.
	q.History, q.Last = append(slices.Clone(q.History), short.Point...), q.Last.AddDate(0, 0, H)
	next, err := m.Forecast(q)
	if err != nil {
		t.Fatal(err)
	}
	for d := range H {
		if math.Abs(next.Point[d]-long.Point[H+d]) > 1e-9*(1+next.Point[d]) {
			t.Fatalf("day %d: rolled forecast %v, forecast from the extended history %v", H+d, long.Point[H+d], next.Point[d])
		}
	}
	for d := range long.Point {
		for k := range long.Levels {
			v := long.Quantiles[k][d]
			if v < 0 || (k > 0 && v < long.Quantiles[k-1][d]) {
				t.Fatalf("day %d: quantiles %v at %v", d, long.Levels, []float64{long.Quantiles[0][d], long.Quantiles[1][d], long.Quantiles[2][d]})
			}
		}
		if long.Point[d] != long.Quantiles[1][d] {
			t.Fatalf("day %d: point %v is not the median %v", d, long.Point[d], long.Quantiles[1][d])
		}
	}

	nan := math.NaN()
	for _, bad := range []Query{{History: []float64{nan, nan}, Horizon: 1}, {History: s.Values[:20], Horizon: -1},
		{History: append([]float64{math.Inf(1)}, s.Values[:20]...), Horizon: 1}} {
		if _, err := m.Forecast(bad); err == nil {
			t.Errorf("query with history %v, horizon %d accepted", bad.History[:2], bad.Horizon)
		}
	}
}

// TestForecastNeverNegative asks an untrained network and a trained one
// for forecasts of series with zeros, gaps and negative values: no quantile
// of any day is negative.
func TestForecastNeverNegative(t *testing.T) {
	trained, _ := trainedCheckpoint(t)
	for _, m := range []*Model{mustNew(t, smallConfig()), trained} {
		var qs []Query
		for i := range 40 {
			h := make([]float64, 30)
			for d := range h {
				switch (d + i) % 4 {
				case 0:
					h[d] = math.NaN()
				case 1:
					h[d] = 0
				case 2:
					h[d] = -float64(i)
				default:
					h[d] = float64(i * d)
				}
			}
			qs = append(qs, Query{History: h, Last: day0.AddDate(0, 0, i), Horizon: 40})
		}
		out, err := m.ForecastBatch(qs)
		if err != nil {
			t.Fatal(err)
		}
		for i, f := range out {
			for k := range f.Quantiles {
				if slices.Min(f.Quantiles[k]) < 0 {
					t.Fatalf("query %d: quantile %v forecast %v", i, f.Levels[k], f.Quantiles[k])
				}
			}
		}
	}
}

func TestForecastConcurrently(t *testing.T) {
	m, _ := trainedCheckpoint(t)
	data := synthSeries(40, 60, 7)
	var qs []Query
	for i, s := range data {
		qs = append(qs, Query{ID: s.ID, History: s.Values[i%20 : i%20+30], Last: s.Start.AddDate(0, 0, i%20+29), Horizon: 1 + i%9})
	}
	want, err := m.ForecastBatch(qs)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, len(qs))
	for g := range 8 {
		wg.Go(func() {
			for i := g; i < len(qs); i += 8 {
				got, err := m.Forecast(qs[i])
				if err != nil {
					errs <- err.Error()
					return
				}
				for d := range got.Point {
					if math.Float64bits(got.Point[d]) != math.Float64bits(want[i].Point[d]) {
						errs <- "concurrent forecast differs from the batched one"
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

// TestForecastBeatsSeasonalNaive trains a small network briefly on twelve
// generated products and forecasts the two weeks after its training data, never
// seen: its mean absolute error must be below the seasonal naive forecast's
// (the same weekday of the last week) on the same days.
func TestForecastBeatsSeasonalNaive(t *testing.T) {
	const days, held = 500, 14
	data := synthSeries(12, days, 21)
	m := mustNew(t, smallConfig())
	pol := Policy{FullEpochs: 20, MaxWindows: 3000, ValidationDays: 14}
	if _, err := m.Train(context.Background(), upTo(data, days-held), TrainOptions{Policy: pol}); err != nil {
		t.Fatal(err)
	}
	var lstmErr, naiveErr float64
	for _, s := range data {
		f, err := m.Forecast(Query{ID: s.ID, History: s.Values[:days-held], Last: s.Start.AddDate(0, 0, days-held-1), Horizon: held})
		if err != nil {
			t.Fatal(err)
		}
		for d := range held {
			y := s.Values[days-held+d]
			lstmErr += math.Abs(f.Point[d] - y)
			naiveErr += math.Abs(s.Values[days-held-7+d%7] - y)
		}
	}
	t.Logf("MAE: LSTM %.2f, seasonal naive %.2f", lstmErr/(12*held), naiveErr/(12*held))
	if !(lstmErr < naiveErr) {
		t.Errorf("LSTM MAE %.2f, seasonal naive %.2f", lstmErr/(12*held), naiveErr/(12*held))
	}
}
