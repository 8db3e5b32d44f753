package trend

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// ErrInvalidInput is wrapped by every error about the dates and values given to Fit.
var ErrInvalidInput = errors.New("trend: invalid input")

// history is the training data prepared as Prophet's setup_dataframe does:
// sorted by date (stably, so duplicates keep their order), time normalised to
// [0, 1] over the history, y scaled.
type history struct {
	ds      []time.Time // sorted, UTC
	y       []float64   // original units, in ds order
	t       []float64   // (ds - start) / tScale
	yScaled []float64   // (y - yMin) / yScale
	start   time.Time
	tScale  time.Duration
	yMin    float64 // Prophet's floor: 0 for absmax, min y for minmax
	yScale  float64
}

func dateLabel(d time.Time) string {
	if d.Equal(d.Truncate(24 * time.Hour)) {
		return d.UTC().Format(time.DateOnly)
	}
	return d.UTC().Format(time.RFC3339Nano)
}

// checkInput refuses what Prophet refuses (fewer than two rows, infinities)
// and what Prophet would silently drop or choke on (NaN, a zero date, a
// history on a single date), naming the offending index and date.
func checkInput(ds []time.Time, y []float64) error {
	if len(ds) != len(y) {
		return fmt.Errorf("%w: %d dates but %d values", ErrInvalidInput, len(ds), len(y))
	}
	if len(ds) == 0 {
		return fmt.Errorf("%w: empty history", ErrInvalidInput)
	}
	for i, d := range ds {
		if d.IsZero() {
			return fmt.Errorf("%w: date at index %d is the zero time", ErrInvalidInput, i)
		}
		if math.IsNaN(y[i]) || math.IsInf(y[i], 0) {
			return fmt.Errorf("%w: value at index %d (%s) is %v; only finite values can be fitted",
				ErrInvalidInput, i, dateLabel(d), y[i])
		}
	}
	if len(ds) < 2 {
		return fmt.Errorf("%w: history has %d row; Prophet needs at least 2", ErrInvalidInput, len(ds))
	}
	return nil
}

// prepare validates and normalises the history.
func prepare(ds []time.Time, y []float64, scaling Scaling) (*history, error) {
	if err := checkInput(ds, y); err != nil {
		return nil, err
	}
	order := make([]int, len(ds))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return ds[a].Compare(ds[b]) })
	h := &history{ds: make([]time.Time, len(ds)), y: make([]float64, len(ds))}
	for i, j := range order {
		h.ds[i] = ds[j].UTC()
		h.y[i] = y[j]
	}
	h.start = h.ds[0]
	last := h.ds[len(h.ds)-1]
	h.tScale = last.Sub(h.start)
	if h.tScale == 0 {
		return nil, fmt.Errorf("%w: all %d rows are on %s; the history must span at least two distinct dates",
			ErrInvalidInput, len(ds), dateLabel(h.start))
	}
	if h.tScale == time.Duration(math.MaxInt64) {
		return nil, fmt.Errorf("%w: history from %s to %s spans more than 292 years",
			ErrInvalidInput, dateLabel(h.start), dateLabel(last))
	}
	h.t = make([]float64, len(ds))
	for i, d := range h.ds {
		h.t[i] = scaledTime(d, h.start, h.tScale)
	}
	h.yMin, h.yScale = yScales(h.y, scaling)
	h.yScaled = make([]float64, len(ds))
	for i, v := range h.y {
		h.yScaled[i] = (v - h.yMin) / h.yScale
	}
	return h, nil
}

// scaledTime is Prophet's t = (ds - start) / t_scale, a ratio of nanosecond counts.
func scaledTime(d, start time.Time, tScale time.Duration) float64 {
	return float64(d.Sub(start)) / float64(tScale)
}

// yScales is Prophet's initialize_scales without a logistic floor: absmax
// gives (0, max|y|), minmax gives (min y, max y - min y); a zero scale becomes 1.
func yScales(y []float64, scaling Scaling) (yMin, yScale float64) {
	lo, hi := slices.Min(y), slices.Max(y)
	if scaling == ScalingMinMax {
		yMin, yScale = lo, hi-lo
	} else {
		yScale = math.Max(math.Abs(lo), math.Abs(hi))
	}
	if yScale == 0 {
		yScale = 1
	}
	return yMin, yScale
}

// minSpacing is the smallest positive gap between consecutive sorted dates.
func minSpacing(ds []time.Time) time.Duration {
	best := time.Duration(math.MaxInt64)
	for i := 1; i < len(ds); i++ {
		if d := ds[i].Sub(ds[i-1]); d > 0 && d < best {
			best = d
		}
	}
	return best
}
