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
	PlotHeight      = 450
	PlotDPI         = 96
	PlotHistoryDays = 90
)

// Plot draws the forecast of a request as a PNG image of PlotWidth ×
// PlotHeight pixels: the last PlotHistoryDays days of the series' history
// (days without a row drawn as 0), the forecast and its interval band, and
// the policy's reorder point and safety stock as horizontal lines over the
// forecast days. It fails as Forecast fails.
func (e *Engine) Plot(ctx context.Context, r Request) ([]byte, error) {
	h, resp, err := e.answer(ctx, r)
	if err != nil {
		return nil, err
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: %s forecast, model %s", resp.Series.Key, resp.Model, resp.ModelVersion)
	p.X.Tick.Marker = plot.TimeTicks{Format: time.DateOnly}
	p.Y.Label.Text = "units"
	p.Legend.Top = true
	p.Legend.Left = true

	shown := h.daily[max(0, len(h.daily)-PlotHistoryDays):]
	past := make(plotter.XYs, 0, len(shown))
	start := h.end.AddDate(0, 0, 1-len(shown))
	for i, v := range shown {
		if !math.IsNaN(v) { // a date without a row is not observed
			past = append(past, plotter.XY{X: unix(start.AddDate(0, 0, i)), Y: v})
		}
	}
	future := make(plotter.XYs, len(resp.Days))
	band := make(plotter.XYs, 2*len(resp.Days))
	for i, d := range resp.Days {
		x := unix(d.Date.Time)
		future[i] = plotter.XY{X: x, Y: d.Forecast}
		band[i] = plotter.XY{X: x, Y: d.Upper}
		band[len(band)-1-i] = plotter.XY{X: x, Y: d.Lower}
	}
	first, last := future[0].X, future[len(future)-1].X
	level := func(y float64) plotter.XYs { return plotter.XYs{{X: first, Y: y}, {X: last, Y: y}} }

	interval, err := plotter.NewPolygon(band)
	if err != nil {
		return nil, fmt.Errorf("plot interval: %w", err)
	}
	interval.Color = color.RGBA{R: 0x9e, G: 0xc5, B: 0xe8, A: 0xff}
	interval.LineStyle.Width = 0
	p.Add(interval)
	p.Legend.Add(intervalLabel(resp), interval)
	lines := []struct {
		label string
		xys   plotter.XYs
		color color.RGBA
		dash  bool
	}{
		{"history", past, color.RGBA{A: 0xff}, false},
		{"forecast", future, color.RGBA{R: 0x1f, G: 0x5f, B: 0xb4, A: 0xff}, false},
		{"reorder point", level(resp.Policy.ReorderPoint), color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, true},
		{"safety stock", level(resp.Policy.SafetyStock), color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, true},
	}
	for _, l := range lines {
		line, err := plotter.NewLine(l.xys)
		if err != nil {
			return nil, fmt.Errorf("plot %s: %w", l.label, err)
		}
		line.Color = l.color
		line.Width = vg.Points(1.5)
		if l.dash {
			line.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		}
		p.Add(line)
		p.Legend.Add(l.label, line)
	}

	// Show zero, and leave room above the highest line (often the reorder point).
	p.Y.Min = math.Min(p.Y.Min, 0)
	p.Y.Max += 0.05 * (p.Y.Max - p.Y.Min)

	c := vgimg.NewWith(vgimg.UseWH(pixels(PlotWidth), pixels(PlotHeight)), vgimg.UseDPI(PlotDPI))
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("encode plot: %w", err)
	}
	return buf.Bytes(), nil
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
