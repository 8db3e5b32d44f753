package trend

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSetRoundTrip(t *testing.T) {
	s := NewSet(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	m := fittedRetail(t, Additive)
	fb, reason, err := FitWithFallback(context.Background(), days("2020-01-01", 20), append(slices.Repeat([]float64{2}, 19), math.NaN()), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	s.Add("total", m, "")
	s.Add("P-7", fb, reason)
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Set
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Format != SetFormat || back.Version != SetVersion || !back.Created.Equal(s.Created) ||
		len(back.Models) != 2 || back.Fallbacks["P-7"] != reason || len(back.Fallbacks) != 1 {
		t.Fatalf("set changed: %+v", back)
	}
	dates := m.FutureDates(7)
	a, _ := m.Predict(dates)
	b, _ := back.Models["total"].Predict(dates)
	sameForecast(t, a, b)
	s.Add("P-7", fb, "")
	if len(s.Fallbacks) != 0 {
		t.Error("re-adding without a reason kept the fallback mark")
	}
}

func TestSetDecodeRefuses(t *testing.T) {
	cases := []struct{ name, data, want string }{
		{"format", `{"format":"x","version":1}`, `format "x"`},
		{"version", `{"format":"stockcast.trend.set","version":9}`, "version 9"},
		{"nil model", `{"format":"stockcast.trend.set","version":1,"models":{"a":null}}`, `series "a" has no model`},
		{"orphan fallback", `{"format":"stockcast.trend.set","version":1,"fallbacks":{"b":"why"}}`, `series "b", which has no model`},
		{"bad model", `{"format":"stockcast.trend.set","version":1,"models":{"a":{"format":"x"}}}`, `format "x"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s Set
			err := json.Unmarshal([]byte(c.data), &s)
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want ErrFormat containing %q", err, c.want)
			}
		})
	}
}
