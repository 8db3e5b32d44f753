package forecast

import (
	"math"
	"time"
)

// accuracy compares a forecast with what happened on the same dates, from the
// first to the last held-out date.
func accuracy(actual, forecast []float64, from, to time.Time) *Accuracy {
	var sq, abs, total float64
	for i, a := range actual {
		err := a - forecast[i]
		sq += err * err
		abs += math.Abs(err)
		total += math.Abs(a)
	}
	n := float64(len(actual))
	acc := &Accuracy{
		HoldoutDays: len(actual),
		From:        Date{from},
		To:          Date{to},
		RMSE:        math.Sqrt(sq / n),
		MAE:         abs / n,
	}
	if total > 0 {
		wape := abs / total
		acc.WAPE = &wape
	}
	return acc
}
