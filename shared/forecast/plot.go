package forecast

import (
	"bytes"
	"context"
	"fmt"
	"image/color"
	"math"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// The plot's size in pixels, its resolution, and how much history it shows.
const (
	PlotWidth       = 900
	PlotHeight      = 600
	PlotDPI         = 96
	PlotHistoryDays = 90
)

// The plot's colours.
var (
	colourHistory  = color.RGBA{R: 0x1d, G: 0x23, B: 0x30, A: 0xff}
	colourForecast = color.RGBA{R: 0x1f, G: 0x5f, B: 0xb4, A: 0xff}
	colourBand     = color.RGBA{R: 0xc6, G: 0xdb, B: 0xf2, A: 0xff}
	colourStock    = color.RGBA{R: 0x2c, G: 0x8a, B: 0x3e, A: 0xff}
	colourReorder  = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	colourSafety   = color.RGBA{R: 0xe0, G: 0x7b, B: 0x00, A: 0xff}
)

// Plot draws the forecast of a request as a PNG image of PlotWidth × PlotHeight pixels, in two
// panels. The upper one is in units sold per day: the series' observed sales over its last
// PlotHistoryDays days (a day without a row is a gap, not a zero), the forecast and its interval
// band. The lower one is in units of stock over the forecast days: the reorder point and the
// safety stock and, when the request gives on_hand, the stock projected from it by subtracting
// the forecast demand day by day. The title names the series and the model that served (the
// weights actually applied, not only the model asked for). It fails as Forecast fails.
func (e *Engine) Plot(ctx context.Context, r Request) ([]byte, error) {
	h, resp, err := e.answer(ctx, r)
	if err != nil {
		return nil, err
	}

	sales := plot.New()
	sales.Title.Text = fmt.Sprintf("%s — forecast by %s, model version %s", resp.Series.Key, ServedBy(resp), resp.ModelVersion)
	sales.Title.Padding = vg.Points(6)
	sales.Y.Label.Text = "units sold per day"
	sales.Legend.Top, sales.Legend.Left = true, true
	timeAxis(sales)

	from := h.end.AddDate(0, 0, 1-PlotHistoryDays)
	var runs []plotter.XYs // consecutive observed days
	for i, d := range h.dates {
		if d.Before(from) || d.After(h.end) {
			continue
		}
		pt := plotter.XY{X: unix(d), Y: h.values[i]}
		if n := len(runs); n > 0 && daysBetween(time.Unix(int64(runs[n-1][len(runs[n-1])-1].X), 0).UTC(), d) == 1 {
			runs[n-1] = append(runs[n-1], pt)
		} else {
			runs = append(runs, plotter.XYs{pt})
		}
	}
	// The forecast and its band start from the last observed day, when it is the day before the
	// forecast's first, so that a one-day forecast is visible too.
	var future, upperEdge, lowerEdge plotter.XYs
	if n := len(runs); n > 0 {
		lastSeen := runs[n-1][len(runs[n-1])-1]
		if lastSeen.X == unix(h.end) {
			future, upperEdge, lowerEdge = plotter.XYs{lastSeen}, plotter.XYs{lastSeen}, plotter.XYs{lastSeen}
		}
	}
	for _, d := range resp.Days {
		x := unix(d.Date.Time)
		future = append(future, plotter.XY{X: x, Y: d.Forecast})
		upperEdge = append(upperEdge, plotter.XY{X: x, Y: d.Upper})
		lowerEdge = append(lowerEdge, plotter.XY{X: x, Y: d.Lower})
	}
	band := upperEdge
	for i := len(lowerEdge) - 1; i >= 0; i-- {
		band = append(band, lowerEdge[i])
	}
	interval, err := plotter.NewPolygon(band)
	if err != nil {
		return nil, fmt.Errorf("plot interval: %w", err)
	}
	interval.Color, interval.LineStyle.Width = colourBand, 0
	sales.Add(interval)
	sales.Legend.Add(intervalLabel(resp), interval)
	if err := addHistory(sales, runs); err != nil {
		return nil, err
	}
	if err := addLine(sales, "forecast", future, colourForecast, false); err != nil {
		return nil, err
	}
	sales.Y.Min = math.Min(sales.Y.Min, 0)
	sales.Y.Max += 0.12 * (sales.Y.Max - sales.Y.Min) // room for the legend

	stock, err := stockPanel(resp)
	if err != nil {
		return nil, err
	}

	c := vgimg.NewWith(vgimg.UseWH(pixels(PlotWidth), pixels(PlotHeight)), vgimg.UseDPI(PlotDPI))
	dc := draw.New(c)
	// The sales panel gets 60% of the height: the canvas' origin is at the bottom.
	split := dc.Min.Y + 0.4*(dc.Max.Y-dc.Min.Y)
	upper, lower := dc, dc
	upper.Min.Y, lower.Max.Y = split, split
	sales.Draw(upper)
	stock.Draw(lower)
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("encode plot: %w", err)
	}
	return buf.Bytes(), nil
}

// stockPanel draws the stock levels over the forecast days.
func stockPanel(resp *Response) (*plot.Plot, error) {
	p := plot.New()
	p.Y.Label.Text = "units in stock"
	p.Legend.Top, p.Legend.Left = true, false
	timeAxis(p)
	// From the series' last day (the stock on hand now) to the last forecast day.
	first, last := unix(resp.Days[0].Date.AddDate(0, 0, -1)), unix(resp.Days[len(resp.Days)-1].Date.Time)
	level := func(y float64) plotter.XYs { return plotter.XYs{{X: first, Y: y}, {X: last, Y: y}} }
	policy := resp.Policy
	p.Title.Text = fmt.Sprintf("Stock: reorder point %s, safety stock %s", num(policy.ReorderPoint), num(policy.SafetyStock))
	if policy.OnHand != nil {
		left := *policy.OnHand
		projected := plotter.XYs{{X: first, Y: left}}
		runsOut := ""
		for _, d := range resp.Days {
			left -= math.Max(d.Forecast, 0)
			if left <= 0 && runsOut == "" {
				runsOut = day(d.Date.Time)
			}
			projected = append(projected, plotter.XY{X: unix(d.Date.Time), Y: math.Max(left, 0)})
		}
		if err := addLine(p, fmt.Sprintf("projected stock from %s on hand, without a new order", num(*policy.OnHand)), projected, colourStock, false); err != nil {
			return nil, err
		}
		if policy.OrderQuantity != nil {
			p.Title.Text += fmt.Sprintf("; order %s now", num(*policy.OrderQuantity))
		}
		if runsOut != "" {
			p.Title.Text += "; runs out by " + runsOut
		}
	} else {
		p.Title.Text += " (give on_hand to project the stock)"
	}
	if err := addLine(p, "reorder point", level(policy.ReorderPoint), colourReorder, true); err != nil {
		return nil, err
	}
	if err := addLine(p, "safety stock", level(policy.SafetyStock), colourSafety, true); err != nil {
		return nil, err
	}
	p.Y.Min = 0
	p.Y.Max += 0.3 * (p.Y.Max - p.Y.Min) // room for the legend
	if p.Y.Max <= p.Y.Min {
		p.Y.Max = p.Y.Min + 1
	}
	return p, nil
}

// ServedBy names the model that produced a response's forecast from the weights actually applied:
// "trend" or "lstm" alone, "blend (60% trend + 40% LSTM)", a statistical model's name, or for
// model=auto "auto: " and the selection ("auto: median(ets,theta,trend)").
func ServedBy(resp *Response) string {
	switch {
	case resp.Selection != nil:
		return "auto: " + resp.Selection.Choice
	case resp.Model.statistical():
		return string(resp.Model)
	case resp.Weights.LSTM == 0:
		return string(ModelTrend)
	case resp.Weights.Trend == 0:
		return string(ModelLSTM)
	}
	return fmt.Sprintf("blend (%g%% trend + %g%% LSTM)", math.Round(100*resp.Weights.Trend), math.Round(100*resp.Weights.LSTM))
}

// addHistory draws the observed days: a line through each run of consecutive days and a dot on
// every observed day, so that a lone day between gaps is visible too.
func addHistory(p *plot.Plot, runs []plotter.XYs) error {
	var all plotter.XYs
	for _, run := range runs {
		all = append(all, run...)
		if len(run) > 1 {
			line, err := plotter.NewLine(run)
			if err != nil {
				return fmt.Errorf("plot history: %w", err)
			}
			line.Color, line.Width = colourHistory, vg.Points(1.2)
			p.Add(line)
		}
	}
	if len(all) == 0 {
		return nil
	}
	dots, err := plotter.NewScatter(all)
	if err != nil {
		return fmt.Errorf("plot history: %w", err)
	}
	dots.Color, dots.Radius, dots.Shape = colourHistory, vg.Points(1.6), draw.CircleGlyph{}
	p.Add(dots)
	p.Legend.Add("sales (days with data)", dots)
	return nil
}

func addLine(p *plot.Plot, label string, xys plotter.XYs, c color.RGBA, dashed bool) error {
	line, err := plotter.NewLine(xys)
	if err != nil {
		return fmt.Errorf("plot %s: %w", label, err)
	}
	line.Color, line.Width = c, vg.Points(2)
	if dashed {
		line.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
	}
	p.Add(line)
	p.Legend.Add(label, line)
	return nil
}

func timeAxis(p *plot.Plot) {
	p.X.Tick.Marker = dayTicks{}
	p.Add(plotter.NewGrid())
}

// dayTicks puts the date axis' ticks on midnights (UTC): every day, 2 days, week, 2 weeks or
// 4 weeks, whichever gives at most 8 labelled ticks, with unlabelled daily ticks between them
// while they are not too dense.
type dayTicks struct{}

// Ticks implements plot.Ticker for Unix seconds.
func (dayTicks) Ticks(lo, hi float64) []plot.Tick {
	const daySeconds = 86400
	first, last := math.Ceil(lo/daySeconds), math.Floor(hi/daySeconds)
	step := 28.0
	for _, s := range []float64{1, 2, 7, 14} {
		if (last-first)/s <= 8 {
			step = s
			break
		}
	}
	var ticks []plot.Tick
	for d := first; d <= last; d++ {
		t := plot.Tick{Value: d * daySeconds}
		phase := d
		if step >= 7 {
			phase = d - 4 // labels on Mondays: day 0, 1970-01-01, was a Thursday
		}
		switch {
		case math.Mod(phase, step) == 0:
			t.Label = time.Unix(int64(t.Value), 0).UTC().Format("Jan 2")
		case last-first > 120:
			continue
		}
		ticks = append(ticks, t)
	}
	return ticks
}

func intervalLabel(resp *Response) string {
	if resp.IntervalWidth == nil {
		return "interval (none)"
	}
	return fmt.Sprintf("%g%% interval", 100**resp.IntervalWidth)
}

// pixels is the length of n pixels at PlotDPI.
func pixels(n int) vg.Length { return vg.Length(n) * vg.Inch / PlotDPI }

func unix(t time.Time) float64 { return float64(t.Unix()) }
