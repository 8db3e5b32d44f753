package forecast

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"testing"

	"github.com/stockcast/stockcast/shared/series"
)

func TestPlot(t *testing.T) {
	fx := testFixtures(t)
	e := newTestEngine(t, fx.set, fx.net, DefaultConfig())
	for _, r := range []Request{
		request(func(r *Request) { r.ProductID, r.Days, r.OnHand = "P0001", 14, ptr(50) }),
		request(func(r *Request) { r.ProductID, r.Days = "PSHORT", 1 }), // 5 days of history, one forecast day
		request(func(r *Request) { r.Region, r.MinDiscount, r.Model = "North", ptr(5), ModelLSTM }),
	} {
		data, err := e.Plot(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: not a PNG: %v", r.SeriesKey(), err)
		}
		if b := img.Bounds(); b.Dx() != PlotWidth || b.Dy() != PlotHeight {
			t.Fatalf("%s: %d×%d pixels, want %d×%d", r.SeriesKey(), b.Dx(), b.Dy(), PlotWidth, PlotHeight)
		}
		// Something is drawn: the history, forecast, band and level colours besides white and text.
		colours := map[[4]uint32]bool{}
		for y := 0; y < PlotHeight; y += 2 {
			for x := 0; x < PlotWidth; x += 2 {
				r, g, b, a := img.At(x, y).RGBA()
				colours[[4]uint32{r, g, b, a}] = true
			}
		}
		if len(colours) < 5 {
			t.Fatalf("%s: only %d colours in the image", r.SeriesKey(), len(colours))
		}
	}
	if _, err := e.Plot(context.Background(), request(func(r *Request) { r.ProductID = "NOPE" })); !errors.Is(err, series.ErrNoMatch) {
		t.Fatalf("unknown product: %v", err)
	}
}
