package forecast

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stockcast/stockcast/shared/series"
)

// countColour counts the pixels of img close to c in the rows [y0, y1).
func countColour(img image.Image, c color.RGBA, y0, y1 int) int {
	n := 0
	for y := y0; y < y1; y++ {
		for x := 0; x < img.Bounds().Dx(); x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if near8(r, c.R) && near8(g, c.G) && near8(b, c.B) {
				n++
			}
		}
	}
	return n
}

func near8(v uint32, want uint8) bool {
	d := int(v>>8) - int(want)
	return d >= -12 && d <= 12
}

func TestPlot(t *testing.T) {
	fx := testFixtures(t)
	e := newTestEngine(t, fx.set, fx.net, DefaultConfig())
	split := int(0.6 * PlotHeight) // the sales panel above, the stock panel below
	for _, tc := range []struct {
		name      string
		r         Request
		projected bool
	}{
		{"product with stock on hand", request(func(r *Request) { r.ProductID, r.Days, r.OnHand = "P0001", 14, ptr(50) }), true},
		{"5 days of history, one forecast day", request(func(r *Request) { r.ProductID, r.Days = "PSHORT", 1 }), false},
		{"ad-hoc filter, LSTM", request(func(r *Request) { r.Region, r.MinDiscount, r.Model = "North", ptr(5), ModelLSTM }), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := e.Plot(context.Background(), tc.r)
			if err != nil {
				t.Fatal(err)
			}
			if dir := os.Getenv("PLOT_DIR"); dir != "" { // to look at them: PLOT_DIR=/tmp/plots go test -run TestPlot
				if err := os.WriteFile(filepath.Join(dir, tc.r.SeriesKey()[:5]+tc.name[:3]+".png"), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("not a PNG: %v", err)
			}
			if b := img.Bounds(); b.Dx() != PlotWidth || b.Dy() != PlotHeight {
				t.Fatalf("%d×%d pixels, want %d×%d", b.Dx(), b.Dy(), PlotWidth, PlotHeight)
			}
			// Sales and forecast are drawn in the upper panel; the stock levels only in the lower one.
			if n := countColour(img, colourForecast, 0, split); n < 50 {
				t.Errorf("%d forecast pixels in the sales panel", n)
			}
			if n := countColour(img, colourHistory, 0, split); n < 50 {
				t.Errorf("%d history pixels in the sales panel", n)
			}
			for name, c := range map[string]color.RGBA{"reorder point": colourReorder, "safety stock": colourSafety} {
				if n := countColour(img, c, 0, split); n > 0 {
					t.Errorf("%d %s pixels in the sales panel: a stock level is not daily sales", n, name)
				}
				if n := countColour(img, c, split, PlotHeight); n < 20 {
					t.Errorf("%d %s pixels in the stock panel", n, name)
				}
			}
			if n := countColour(img, colourStock, split, PlotHeight); tc.projected != (n >= 20) {
				t.Errorf("%d projected-stock pixels in the stock panel; want them: %v", n, tc.projected)
			}
		})
	}
	if _, err := e.Plot(context.Background(), request(func(r *Request) { r.ProductID = "NOPE" })); !errors.Is(err, series.ErrNoMatch) {
		t.Fatalf("unknown product: %v", err)
	}
}

func TestServedBy(t *testing.T) {
	fx := testFixtures(t)
	withLSTM := newTestEngine(t, fx.set, fx.net, DefaultConfig())
	trendOnly := newTestEngine(t, fx.set, nil, DefaultConfig())
	for _, tc := range []struct {
		e    *Engine
		r    Request
		want string
	}{
		{withLSTM, request(func(r *Request) { r.ProductID = "P0001" }), "blend (60% trend + 40% LSTM)"},
		{withLSTM, request(func(r *Request) { r.ProductID, r.Model = "P0001", ModelLSTM }), "lstm"},
		{withLSTM, request(func(r *Request) { r.ProductID, r.Model = "P0001", ModelTrend }), "trend"},
		// The blend was asked for, but the LSTM cannot serve: the trend model did.
		{trendOnly, request(func(r *Request) { r.ProductID = "P0001" }), "trend"},
		{withLSTM, request(func(r *Request) { r.ProductID = "PSHORT" }), "trend"},
		{withLSTM, request(func(r *Request) { r.ProductID, r.Model = "P0001", ModelETS }), "ets"},
	} {
		resp, err := tc.e.Forecast(context.Background(), tc.r)
		if err != nil {
			t.Fatal(err)
		}
		if got := ServedBy(resp); got != tc.want {
			t.Errorf("%s model %s: served by %q, want %q", tc.r.SeriesKey(), tc.r.Model, got, tc.want)
		}
	}
}
