package trend

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func roundTrip(t testing.TB, m *Model) *Model {
	t.Helper()
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back Model
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	return &back
}

func sameForecast(t testing.TB, a, b *Forecast) {
	t.Helper()
	if !slices.Equal(a.Yhat, b.Yhat) || !slices.Equal(a.Lower, b.Lower) || !slices.Equal(a.Upper, b.Upper) ||
		!slices.Equal(a.Trend, b.Trend) || !slices.Equal(a.TrendLower, b.TrendLower) || len(a.Components) != len(b.Components) {
		t.Fatal("forecasts differ")
	}
	for k, v := range a.Components {
		if !slices.Equal(v, b.Components[k]) {
			t.Fatalf("component %s differs", k)
		}
	}
}

func TestModelRoundTripGivesIdenticalPredictions(t *testing.T) {
	for _, mode := range []Mode{Additive, Multiplicative} {
		m := fittedRetail(t, mode)
		back := roundTrip(t, m)
		dates := append(m.FutureDates(30), m.HistoryStart())
		a, err := m.Predict(dates)
		if err != nil {
			t.Fatal(err)
		}
		b, err := back.Predict(dates)
		if err != nil {
			t.Fatal(err)
		}
		sameForecast(t, a, b)
		if back.HistoryLen() != m.HistoryLen() || !back.HistoryEnd().Equal(m.HistoryEnd()) ||
			back.NoiseSigma() != m.NoiseSigma() || back.FitInfo() != m.FitInfo() {
			t.Fatal("accessors differ after the round trip")
		}
	}
}

func TestModelDecodeRefuses(t *testing.T) {
	m := fittedRetail(t, Additive)
	good, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(w map[string]any)) []byte {
		var w map[string]any
		if err := json.Unmarshal(good, &w); err != nil {
			t.Fatal(err)
		}
		f(w)
		out, err := json.Marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	params := func(w map[string]any) map[string]any { return w["params"].(map[string]any) }
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"not an object", []byte("[1]"), "cannot unmarshal array"},
		{"other format", edit(func(w map[string]any) { w["format"] = "prophet" }), `format "prophet"`},
		{"future version", edit(func(w map[string]any) { w["version"] = 2 }), "version 2 of stockcast.trend.model is not supported"},
		{"no version", edit(func(w map[string]any) { delete(w, "version") }), "version 0"},
		{"growth", edit(func(w map[string]any) { w["growth"] = "logistic" }), "growth"},
		{"beta length", edit(func(w map[string]any) { params(w)["beta"] = []float64{1} }), "1 seasonal coefficients"},
		{"delta length", edit(func(w map[string]any) { params(w)["delta"] = []float64{} }), "0 rate changes"},
		{"scale", edit(func(w map[string]any) { w["y_scale"] = 0 }), "y scaling"},
		{"time scale", edit(func(w map[string]any) { w["t_scale_ns"] = -5 }), "time scale"},
		{"sigma", edit(func(w map[string]any) { params(w)["sigma_obs"] = -1 }), "negative sigma_obs"},
		{"order", edit(func(w map[string]any) {
			w["seasonalities"].([]any)[0].(map[string]any)["order"] = 0
		}), "seasonality"},
		{"width", edit(func(w map[string]any) { w["uncertainty"].(map[string]any)["interval_width"] = 1 }), "interval width"},
		{"unsorted changepoints", edit(func(w map[string]any) {
			cp := w["changepoints_t"].([]any)
			cp[0], cp[1] = cp[1], cp[0]
		}), "not sorted"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var back Model
			err := json.Unmarshal(c.data, &back)
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want ErrFormat containing %q", err, c.want)
			}
		})
	}
}

// FuzzDecodeModel: decoding untrusted bytes never panics, and a model that
// decodes predicts without panicking.
func FuzzDecodeModel(f *testing.F) {
	m := fittedRetail(f, Additive)
	good, err := json.Marshal(m)
	if err != nil {
		f.Fatal(err)
	}
	fb, _, err := FitWithFallback(context.Background(), days("2020-01-01", 1), []float64{3}, DefaultOptions())
	if err != nil {
		f.Fatal(err)
	}
	fbData, err := json.Marshal(fb)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(fbData)
	f.Add([]byte(`{"format":"stockcast.trend.model","version":1}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var back Model
		if json.Unmarshal(data, &back) != nil {
			return
		}
		u := back.Uncertainty()
		u.Samples = min(u.Samples, 50)
		if _, err := back.PredictWith(back.FutureDates(3), u); err != nil {
			t.Fatalf("decoded model cannot predict: %v", err)
		}
	})
}
