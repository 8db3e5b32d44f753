package forecast

import (
	"math"
	"time"

	"github.com/stockcast/stockcast/shared/series"
)

// Names of the naive forecasts scored beside the model in offline evaluation.
const (
	// BaselineNaive repeats the last value before the cut.
	BaselineNaive = "naive"
	// BaselineSeasonalNaive repeats the value of the same weekday in the last week before the
	// cut (the naive value where that day has no row).
	BaselineSeasonalNaive = "seasonal_naive_7"
)

// scores compares forecast values with what happened.
func scores(actual, forecast []float64) Scores {
	var sq, abs, total float64
	for i, a := range actual {
		err := a - forecast[i]
		sq += err * err
		abs += math.Abs(err)
		total += math.Abs(a)
	}
	n := float64(len(actual))
	s := Scores{RMSE: math.Sqrt(sq / n), MAE: abs / n}
	if total > 0 {
		wape := abs / total
		s.WAPE = &wape
	}
	return s
}

// accuracy scores a forecast of the held-out part of s (the rows from index held on) and, on the
// same dates, the naive baselines built from the rows before it.
func accuracy(s series.Series, held int, forecast []float64) *Accuracy {
	actual, dates := s.Values[held:], s.Dates[held:]
	last := s.Values[held-1]
	byDate := make(map[time.Time]float64, held)
	for i, d := range s.Dates[:held] {
		byDate[d] = s.Values[i]
	}
	cut := s.Dates[held-1]
	naive, seasonal := make([]float64, len(actual)), make([]float64, len(actual))
	for i, d := range dates {
		naive[i], seasonal[i] = last, last
		// The same weekday in the last week on or before the cut.
		weeks := (daysBetween(cut, d) + 6) / 7
		if v, ok := byDate[d.AddDate(0, 0, -7*weeks)]; ok {
			seasonal[i] = v
		}
	}
	return &Accuracy{
		HoldoutDays: len(actual),
		From:        Date{dates[0]},
		To:          Date{dates[len(dates)-1]},
		Scores:      scores(actual, forecast),
		Baselines: map[string]Scores{
			BaselineNaive:         scores(actual, naive),
			BaselineSeasonalNaive: scores(actual, seasonal),
		},
	}
}
