package lstm

import (
	"math"
	"testing"
	"time"
)

func TestSeriesFrom(t *testing.T) {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	s := Series{ID: "a", Start: start, Values: []float64{1, 2, math.NaN(), 4, 5}, Covariates: [][]float64{{10, 20, 30, 40, 50}}}
	got := s.From(start.AddDate(0, 0, 3))
	if !got.Start.Equal(start.AddDate(0, 0, 3)) || len(got.Values) != 2 || got.Values[0] != 4 || len(got.Covariates[0]) != 2 || got.Covariates[0][1] != 50 {
		t.Errorf("from the 4th day: %+v", got)
	}
	if got.End() != s.End() {
		t.Errorf("end %s, want %s", got.End(), s.End())
	}
	if whole := s.From(start.AddDate(0, 0, -5)); !whole.Start.Equal(start) || len(whole.Values) != 5 {
		t.Errorf("from before its start: %+v", whole)
	}
	if empty := s.From(start.AddDate(0, 0, 9)); len(empty.Values) != 0 || len(empty.Covariates[0]) != 0 {
		t.Errorf("from after its end: %+v", empty)
	}
	got.Values = append(got.Values, 6)
	if len(s.Values) != 5 {
		t.Errorf("appending to the cut series changed the original")
	}
}
