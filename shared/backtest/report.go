package backtest

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/stockcast/stockcast/shared/stats"
)

// Row is one forecast step of one source at one window: the exchange
// format between this package and other tools scored on the same windows
// (forecasts.csv: series, origin, step, model, mean, lower, upper).
type Row struct {
	Series       string
	Origin, Step int
	Model        string
	Mean         float64
	// Lower and Upper are NaN without an interval.
	Lower, Upper float64
}

// Rows are the evaluation's forecasts of every source that forecast
// every window.
func (e *Evaluation) Rows() []Row {
	var out []Row
	for _, name := range slices.Sorted(maps.Keys(e.Sources)) {
		src := e.Sources[name]
		if src.Error != "" {
			continue
		}
		for o, f := range src.Forecasts {
			for s, v := range f {
				r := Row{Series: e.History.Key, Origin: o, Step: s, Model: name, Mean: v, Lower: math.NaN(), Upper: math.NaN()}
				if src.Lower[o] != nil {
					r.Lower, r.Upper = src.Lower[o][s], src.Upper[o][s]
				}
				out = append(out, r)
			}
		}
	}
	return out
}

// Split is one series' history and windows, as exchanged with other tools.
type Split struct {
	History stats.History
	Cuts    []int
	Horizon int
}

// Split returns the evaluation's split.
func (e *Evaluation) Split() Split {
	return Split{History: e.History, Cuts: e.Cuts, Horizon: e.Horizon}
}

// ModelScores are a source's pooled scores.
type ModelScores struct {
	Model string `json:"model"`
	Scores
	// Series is the number of series scored; Missing those the source did
	// not forecast every window of.
	Series  int `json:"series"`
	Missing int `json:"missing"`
}

// MarshalJSON writes the source's name and counts beside its scores: without it the embedded
// Scores' MarshalJSON would stand for the whole value and drop them.
func (m ModelScores) MarshalJSON() ([]byte, error) {
	scores, err := json.Marshal(m.Scores)
	if err != nil {
		return nil, err
	}
	head, err := json.Marshal(struct {
		Model   string `json:"model"`
		Series  int    `json:"series"`
		Missing int    `json:"missing"`
	}{m.Model, m.Series, m.Missing})
	if err != nil {
		return nil, err
	}
	return append(append(head[:len(head)-1], ','), scores[1:]...), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (m *ModelScores) UnmarshalJSON(data []byte) error {
	var w struct {
		Model           string
		Series, Missing int
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	if err := json.Unmarshal(data, &m.Scores); err != nil {
		return err
	}
	m.Model, m.Series, m.Missing = w.Model, w.Series, w.Missing
	return nil
}

// Score pools the rows of every source over the splits. Each source is
// scored on every series it forecast completely; a series it misses
// counts in Missing.
func Score(splits []Split, rows []Row) []ModelScores {
	type key struct {
		series, model string
	}
	bySeries := map[key][]Row{}
	models := map[string]bool{}
	for _, r := range rows {
		bySeries[key{r.Series, r.Model}] = append(bySeries[key{r.Series, r.Model}], r)
		models[r.Model] = true
	}
	var out []ModelScores
	for _, model := range slices.Sorted(maps.Keys(models)) {
		var tot Totals
		missing := 0
		for _, sp := range splits {
			rs := bySeries[key{sp.History.Key, model}]
			if len(rs) != len(sp.Cuts)*sp.Horizon {
				missing++
				continue
			}
			var t Tally
			slices.SortFunc(rs, func(a, b Row) int { return cmp.Or(cmp.Compare(a.Origin, b.Origin), cmp.Compare(a.Step, b.Step)) })
			for o, cut := range sp.Cuts {
				win := rs[o*sp.Horizon : (o+1)*sp.Horizon]
				mean, lo, hi := make([]float64, sp.Horizon), make([]float64, sp.Horizon), make([]float64, sp.Horizon)
				intervals := true
				for s, r := range win {
					mean[s], lo[s], hi[s] = r.Mean, r.Lower, r.Upper
					intervals = intervals && !math.IsNaN(r.Lower)
				}
				if !intervals {
					lo, hi = nil, nil
				}
				t.Add(window(sp.History, cut, sp.Horizon), mean, lo, hi)
			}
			tot.Add(t, scale(sp.History.Values[:sp.Cuts[0]], sp.History.Period()))
		}
		out = append(out, ModelScores{Model: model, Scores: tot.Scores(), Series: tot.Series, Missing: missing})
	}
	return out
}

// WriteSplits writes the splits as two CSVs: history (series, date, value;
// NA where not observed) and origins (series, origin, cut_date — the first
// date of the window —, horizon, period, frequency).
func WriteSplits(history, origins io.Writer, splits []Split) error {
	hw, ow := csv.NewWriter(history), csv.NewWriter(origins)
	_ = hw.Write([]string{"series", "date", "value"})
	_ = ow.Write([]string{"series", "origin", "cut_date", "horizon", "period", "frequency"})
	for _, sp := range splits {
		h := sp.History
		for i, v := range h.Values {
			val := "NA"
			if !math.IsNaN(v) {
				val = strconv.FormatFloat(v, 'g', -1, 64)
			}
			_ = hw.Write([]string{h.Key, h.Date(i).Format(time.DateOnly), val})
		}
		for o, cut := range sp.Cuts {
			_ = ow.Write([]string{h.Key, strconv.Itoa(o), h.Date(cut).Format(time.DateOnly),
				strconv.Itoa(sp.Horizon), strconv.Itoa(h.Period()), string(h.Freq)})
		}
	}
	hw.Flush()
	ow.Flush()
	return cmp.Or(hw.Error(), ow.Error())
}

// ReadSplits reads what WriteSplits wrote.
func ReadSplits(history, origins io.Reader) ([]Split, error) {
	hrec, err := readCSV(history, 3)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	orec, err := readCSV(origins, 6)
	if err != nil {
		return nil, fmt.Errorf("origins: %w", err)
	}
	type acc struct {
		dates  []time.Time
		values []float64
	}
	hist := map[string]*acc{}
	var order []string
	for i, r := range hrec {
		d, err := time.Parse(time.DateOnly, r[1])
		if err != nil {
			return nil, fmt.Errorf("history line %d: %w", i+2, err)
		}
		v := math.NaN()
		if r[2] != "NA" {
			if v, err = strconv.ParseFloat(r[2], 64); err != nil {
				return nil, fmt.Errorf("history line %d: %w", i+2, err)
			}
		}
		a := hist[r[0]]
		if a == nil {
			a = &acc{}
			hist[r[0]] = a
			order = append(order, r[0])
		}
		a.dates, a.values = append(a.dates, d), append(a.values, v)
	}
	splits := map[string]*Split{}
	for i, r := range orec {
		a := hist[r[0]]
		if a == nil {
			return nil, fmt.Errorf("origins line %d: series %s has no history", i+2, r[0])
		}
		sp := splits[r[0]]
		if sp == nil {
			sp = &Split{History: stats.History{Key: r[0], Start: a.dates[0], Freq: stats.Frequency(r[5]), Values: a.values}}
			splits[r[0]] = sp
		}
		cut, err := time.Parse(time.DateOnly, r[2])
		if err != nil {
			return nil, fmt.Errorf("origins line %d: %w", i+2, err)
		}
		if sp.Horizon, err = strconv.Atoi(r[3]); err != nil {
			return nil, fmt.Errorf("origins line %d: %w", i+2, err)
		}
		sp.Cuts = append(sp.Cuts, sp.History.Freq.Steps(sp.History.Start, cut))
	}
	var out []Split
	for _, k := range order {
		if sp := splits[k]; sp != nil {
			out = append(out, *sp)
		}
	}
	return out, nil
}

// WriteRows writes forecast rows as CSV (NA for a missing bound).
func WriteRows(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"series", "origin", "step", "model", "mean", "lower", "upper"})
	f := func(v float64) string {
		if math.IsNaN(v) {
			return "NA"
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	for _, r := range rows {
		_ = cw.Write([]string{r.Series, strconv.Itoa(r.Origin), strconv.Itoa(r.Step), r.Model, f(r.Mean), f(r.Lower), f(r.Upper)})
	}
	cw.Flush()
	return cw.Error()
}

// ReadRows reads forecast rows (steps 0-based; NA, NaN or empty bounds
// mean no interval). A row with a missing mean is skipped, so that a
// source that failed on a window misses that series.
func ReadRows(r io.Reader) ([]Row, error) {
	recs, err := readCSV(r, 7)
	if err != nil {
		return nil, err
	}
	num := func(s string) (float64, error) {
		switch s {
		case "NA", "NaN", "":
			return math.NaN(), nil
		}
		return strconv.ParseFloat(s, 64)
	}
	var out []Row
	for i, rec := range recs {
		row := Row{Series: rec[0], Model: rec[3]}
		var errs [5]error
		row.Origin, errs[0] = strconv.Atoi(rec[1])
		row.Step, errs[1] = strconv.Atoi(rec[2])
		row.Mean, errs[2] = num(rec[4])
		row.Lower, errs[3] = num(rec[5])
		row.Upper, errs[4] = num(rec[6])
		for _, err := range errs {
			if err != nil {
				return nil, fmt.Errorf("forecasts line %d: %w", i+2, err)
			}
		}
		if !math.IsNaN(row.Mean) {
			out = append(out, row)
		}
	}
	return out, nil
}

// readCSV reads a CSV with a header of at least fields columns.
func readCSV(r io.Reader, fields int) ([][]string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = fields
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("no header")
	}
	return recs[1:], nil
}
