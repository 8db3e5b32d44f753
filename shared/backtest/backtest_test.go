package backtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/stats"
)

// flat forecasts a constant and records the lengths of the histories it saw.
type flat struct {
	name  string
	value float64
	mu    sync.Mutex
	seen  []int
}

func (f *flat) Name() string { return f.name }

func (f *flat) Fit(_ context.Context, h stats.History) (stats.Model, error) {
	f.mu.Lock()
	f.seen = append(f.seen, h.Len())
	f.mu.Unlock()
	return flatModel(f.value), nil
}

type flatModel float64

func (m flatModel) Describe() string { return "flat" }

func (m flatModel) Forecast(h int) (stats.Forecast, error) {
	f := stats.Forecast{Mean: make([]float64, h)}
	for i := range f.Mean {
		f.Mean[i] = float64(m)
	}
	return f, nil
}

func noisy(seed uint64, n int, level, sd float64) stats.History {
	r := rand.New(rand.NewPCG(seed, 7))
	h := stats.History{Key: "s", Start: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Freq: stats.Daily, Values: make([]float64, n)}
	for i := range h.Values {
		h.Values[i] = level + sd*r.NormFloat64()
	}
	return h
}

func TestPlanShortensForShortHistories(t *testing.T) {
	cfg := Config{}.withDefaults(stats.Daily)
	for _, c := range []struct{ n, origins, horizon int }{
		{500, 3, 28}, {140, 3, 28}, {139, 2, 28}, {84, 1, 28}, {60, 1, 20}, {10, 1, 2},
	} {
		cuts, h, err := plan(c.n, 7, cfg)
		if err != nil || len(cuts) != c.origins || h != c.horizon || cuts[len(cuts)-1]+h != c.n {
			t.Errorf("n=%d: cuts %v horizon %d (%v), want %d origins of %d ending at n", c.n, cuts, h, err, c.origins, c.horizon)
		}
	}
	if _, _, err := plan(8, 7, cfg); err == nil {
		t.Error("8 steps were backtested with period 7")
	}
}

func TestDailyOriginsAreTheLastDaysSelectFitsOn(t *testing.T) {
	h := noisy(2, 400, 10, 1)
	last := h.Date(h.Len() - 1)
	origins, err := DailyOrigins(h.Start, last, Config{})
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Time{last.AddDate(0, 0, -84), last.AddDate(0, 0, -56), last.AddDate(0, 0, -28)}
	if !slices.EqualFunc(origins, want, time.Time.Equal) {
		t.Fatalf("origins %v, want last-3H, last-2H, last-H: %v", origins, want)
	}
	rec := &flat{name: "rec", value: 10}
	if _, err := Select(context.Background(), h, []stats.Forecaster{rec}, Config{}); err != nil {
		t.Fatal(err)
	}
	var fitted []time.Time
	for _, n := range rec.seen {
		fitted = append(fitted, h.Date(n-1))
	}
	if !slices.EqualFunc(fitted, origins, time.Time.Equal) {
		t.Errorf("Select fitted on histories ending %v, DailyOrigins says %v", fitted, origins)
	}
	short, err := DailyOrigins(h.Start, h.Date(59), Config{})
	if err != nil || len(short) != 1 || !short[0].Equal(h.Date(39)) {
		t.Errorf("60 days: origins %v (%v), want one, 20 days before the end", short, err)
	}
	if _, err := DailyOrigins(h.Start, h.Date(7), Config{}); !errors.Is(err, ErrTooShort) {
		t.Errorf("8 days: %v, want ErrTooShort", err)
	}
}

func TestSelectPrefersTheBetterForecast(t *testing.T) {
	h := noisy(1, 400, 10, 1)
	good, bad, worse := &flat{name: "good", value: 10}, &flat{name: "bad", value: 13}, &flat{name: "worse", value: 16}
	sel, err := Select(t.Context(), h, []stats.Forecaster{worse, bad, good}, Config{Combine: 1})
	if err != nil {
		t.Fatal(err)
	}
	if sel.Method != Single || sel.Models[0] != "good" || sel.Origins != 3 || sel.Horizon != 28 {
		t.Fatalf("selected %s %v over %d×%d", sel.Method, sel.Models, sel.Origins, sel.Horizon)
	}
	g, b := sel.Candidates["good"].Scores, sel.Candidates["bad"].Scores
	if !(g.MASE < b.MASE && g.WAPE < b.WAPE && g.RMSE < b.RMSE) || g.Points != 84 {
		t.Errorf("good %+v, bad %+v", g, b)
	}
	// A combination is served only when it backtests better than the best single model.
	sel, _ = Select(t.Context(), h, []stats.Forecaster{&flat{name: "low", value: 8}, &flat{name: "high", value: 12}}, Config{})
	if sel.Method == Single || sel.Scores.MASE >= sel.Candidates["low"].Scores.MASE {
		t.Errorf("two biased forecasts on either side: %s %v with MASE %v", sel.Method, sel.Models, sel.Scores.MASE)
	}
}

func TestFailingCandidateIsOut(t *testing.T) {
	h := noisy(2, 200, 5, 1)
	sel, err := Select(t.Context(), h, []stats.Forecaster{failing{}, &flat{name: "ok", value: 5}}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if sel.Models[0] != "ok" || sel.Candidates["fails"].Error == "" {
		t.Errorf("selection %v, candidates %+v", sel.Models, sel.Candidates)
	}
}

type failing struct{}

func (failing) Name() string { return "fails" }
func (failing) Fit(context.Context, stats.History) (stats.Model, error) {
	panic("boom")
}

func TestEvaluateNeverFitsOnTheWindowItScores(t *testing.T) {
	h := noisy(3, 300, 10, 2)
	f := &flat{name: "f", value: 10}
	ev, err := Evaluate(t.Context(), h, []stats.Forecaster{f}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ev.Cuts, []int{216, 244, 272}) {
		t.Fatalf("cuts %v", ev.Cuts)
	}
	// One fit per distinct cut: the outer ones and the inner ones before them.
	seen := slices.Sorted(slices.Values(f.seen))
	if want := []int{132, 160, 188, 216, 244, 272}; !slices.Equal(seen, want) {
		t.Errorf("fitted on histories of %v steps, want %v", seen, want)
	}
	for k, sel := range ev.Selections {
		if sel == nil || sel.Calibration.Points() != 84 {
			t.Fatalf("outer origin %d: selection %+v", k, sel)
		}
	}
}

func TestCalibratedIntervalsCoverTheirLevel(t *testing.T) {
	var covered, total int
	for seed := range uint64(200) {
		h := noisy(seed, 250, 50, 5)
		ev, err := Evaluate(t.Context(), h, []stats.Forecaster{&flat{name: "f", value: 50}}, Config{})
		if err != nil {
			t.Fatal(err)
		}
		t := ev.Sources[Auto].Tally
		covered, total = covered+t.Covered, total+t.Intervals
	}
	if c := float64(covered) / float64(total); math.Abs(c-0.8) > 0.02 {
		t.Errorf("80%% calibrated intervals covered %.3f of %d held-out steps", c, total)
	}
}

func TestLeadTimeQuantile(t *testing.T) {
	var c Calibration
	r := rand.New(rand.NewPCG(9, 9))
	for range 30 {
		actual, forecast := make([]float64, 28), make([]float64, 28)
		for i := range actual {
			actual[i] = 1 + r.NormFloat64()
		}
		c.add(actual, forecast)
	}
	c.Horizon = 28
	// Errors N(1, 1): the sum over 4 steps is N(4, 4); its 95% quantile is 4 + 1.645·2.
	if q := c.LeadTime(4, 0.95); math.Abs(q-7.29) > 0.5 {
		t.Errorf("lead-time 95%% quantile %v, want about 7.29", q)
	}
	if q := c.LeadTime(56, 0.5); math.Abs(q-28*math.Sqrt2) > 4 {
		t.Errorf("56-step median %v, want the 28-step one widened by √2 (about %.1f)", q, 28*math.Sqrt2)
	}
}

func TestScorePoolsSeries(t *testing.T) {
	mk := func(key string, v []float64) Split {
		return Split{History: stats.History{Key: key, Freq: stats.Daily, Values: v}, Cuts: []int{len(v) - 2}, Horizon: 2}
	}
	nan := math.NaN()
	// Series a: in-sample lag-7 differences all 1 (scale 1); errors 1 and 3.
	a := make([]float64, 16)
	for i := range a {
		a[i] = float64(i / 7)
	}
	a[14], a[15] = 10, 10
	b := []float64{4, 4, 4, 4, 4, 4, 4, 6, 6, nan, 8} // scale 2 (lag 7: 6−4, 6−4); one held-out step
	splits := []Split{mk("a", a), mk("b", b)}
	rows := []Row{
		{Series: "a", Step: 0, Model: "m", Mean: 9, Lower: 8, Upper: 11},
		{Series: "a", Step: 1, Model: "m", Mean: 7, Lower: 8, Upper: 9.5},
		{Series: "b", Step: 0, Model: "m", Mean: 0, Lower: nan, Upper: nan},
		{Series: "b", Step: 1, Model: "m", Mean: 6, Lower: nan, Upper: nan},
	}
	got := Score(splits, rows)
	if len(got) != 1 {
		t.Fatal(got)
	}
	m := got[0]
	// MASE: a (1+3)/2/1 = 2, b 2/1/2 = 1 → mean 1.5. WAPE (1+3+2)/(10+10+8). RMSE √((1+9+4)/3).
	if math.Abs(m.MASE-1.5) > 1e-12 || math.Abs(m.WAPE-6.0/28) > 1e-12 || math.Abs(m.RMSE-math.Sqrt(14.0/3)) > 1e-12 ||
		m.Coverage == nil || *m.Coverage != 0.5 || m.Series != 2 || m.Points != 3 {
		t.Errorf("%+v (coverage %v)", m, m.Coverage)
	}
}

func TestSplitsAndRowsRoundTrip(t *testing.T) {
	h := noisy(4, 120, 3, 1)
	h.Values[5] = math.NaN()
	ev, err := Evaluate(t.Context(), h, []stats.Forecaster{&flat{name: "f", value: 3}}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	var hist, orig, rows bytes.Buffer
	if err := WriteSplits(&hist, &orig, []Split{ev.Split()}); err != nil {
		t.Fatal(err)
	}
	if err := WriteRows(&rows, ev.Rows()); err != nil {
		t.Fatal(err)
	}
	splits, err := ReadSplits(&hist, &orig)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ReadRows(&rows)
	if err != nil {
		t.Fatal(err)
	}
	if len(splits) != 1 || !slices.Equal(splits[0].Cuts, ev.Cuts) || splits[0].Horizon != ev.Horizon || !math.IsNaN(splits[0].History.Values[5]) {
		t.Fatalf("splits %+v", splits)
	}
	before, after := Score([]Split{ev.Split()}, ev.Rows()), Score(splits, back)
	if before[0].Model != Auto || before[0].MASE != after[0].MASE || *before[0].Coverage != *after[0].Coverage || before[1].MASE != after[1].MASE {
		t.Errorf("scores %+v before, %+v after the round trip", before, after)
	}
}

func TestModelScoresJSONKeepsTheModel(t *testing.T) {
	cov := 0.8
	in := ModelScores{Model: "lstm", Scores: Scores{MASE: 0.5, WAPE: math.NaN(), RMSE: 2, Coverage: &cov, Points: 7}, Series: 3, Missing: 1}
	data, err := json.Marshal([]ModelScores{in})
	if err != nil {
		t.Fatal(err)
	}
	var out []ModelScores
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].Model != "lstm" || out[0].Series != 3 || out[0].Missing != 1 || out[0].MASE != 0.5 ||
		!math.IsNaN(out[0].WAPE) || out[0].Coverage == nil || *out[0].Coverage != 0.8 || out[0].Points != 7 {
		t.Errorf("%s read back as %+v", data, out)
	}
}
