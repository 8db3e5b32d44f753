package lstm

import (
	"context"
	"math"
	"sync"
	"testing"
)

func TestForecast(t *testing.T) {
	m := mustNew(t, smallConfig())
	data := synthSeries(3, 150, 8)
	if _, err := m.Train(context.Background(), data, TrainOptions{Policy: quickPolicy()}); err != nil {
		t.Fatal(err)
	}
	W := m.Config().Window

	// Recursive prediction: each day's forecast is the one-day forecast of
	// the window that ends with the previous forecasts.
	hist := data[0].Values[100:130]
	multi, err := m.Forecast(Query{ID: data[0].ID, History: hist, Horizon: 5})
	if err != nil {
		t.Fatal(err)
	}
	window := append([]float64(nil), hist...)
	for d := range 5 {
		one, err := m.Forecast(Query{ID: data[0].ID, History: window[len(window)-W:], Horizon: 1})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(one[0]-multi[d]) > 1e-9*math.Abs(multi[d]) {
			t.Fatalf("day %d: multi-step %v, recursive one-step %v", d, multi[d], one[0])
		}
		window = append(window, one[0])
	}

	// An ad-hoc series is scaled by its own history, so an affine change of
	// the history changes the forecast the same way.
	base, err := m.Forecast(Query{History: hist, Horizon: 4})
	if err != nil {
		t.Fatal(err)
	}
	moved := make([]float64, len(hist))
	for i, v := range hist {
		moved[i] = 3*v + 7
	}
	got, err := m.Forecast(Query{ID: "unknown", History: moved, Horizon: 4})
	if err != nil {
		t.Fatal(err)
	}
	for d := range base {
		if want := 3*base[d] + 7; math.Abs(got[d]-want) > 1e-9*math.Abs(want) {
			t.Errorf("day %d: %v for the moved history, want %v", d, got[d], want)
		}
	}

	for _, bad := range []Query{{History: hist[:W-1], Horizon: 1}, {History: hist, Horizon: -1}, {History: append([]float64{math.Inf(1)}, hist...), Horizon: 1}} {
		if _, err := m.Forecast(bad); err == nil {
			t.Errorf("query with %d days, horizon %d accepted", len(bad.History), bad.Horizon)
		}
	}
}

func TestForecastConcurrently(t *testing.T) {
	m, _ := trainedCheckpoint(t)
	data := synthSeries(40, 60, 7)
	var qs []Query
	for i, s := range data {
		qs = append(qs, Query{ID: s.ID, History: s.Values[i%20 : i%20+30], Horizon: 1 + i%9})
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
				for d := range got {
					if math.Float64bits(got[d]) != math.Float64bits(want[i][d]) {
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
