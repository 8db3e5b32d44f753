package trend

import (
	"testing"
	"time"
)

func TestScratch(t *testing.T) {
	ds, y := loadCSV(t, "prophet_data.csv")
	n := len(ds) - 30
	for _, mode := range []Mode{Additive, Multiplicative} {
	for _, sc := range []Scaling{ScalingAbsMax, ScalingMinMax} {
		o := DefaultOptions()
		o.Scaling = sc
		o.SeasonalityMode = mode
		st := time.Now()
		m, err := Fit(ds[:n], y[:n], o)
		if err != nil {
			t.Fatal(err)
		}
		el := time.Since(st)
		fc, err := m.Predict(ds[n:])
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s %s: rmse %.3f fit %v info %+v sigma %v", mode, sc, rmse(fc.Yhat, y[n:]), el, m.FitInfo(), m.NoiseSigma())
	}
	}
}
