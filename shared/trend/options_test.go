package trend

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestDefaultOptionsAreProphets(t *testing.T) {
	o := DefaultOptions()
	if o.Growth != GrowthLinear || o.SeasonalityMode != Additive || o.Scaling != ScalingAbsMax ||
		o.NChangepoints != 25 || o.ChangepointRange != 0.8 || o.ChangepointPriorScale != 0.05 ||
		o.SeasonalityPriorScale != 10 || o.IntervalWidth != 0.8 || o.UncertaintySamples != 1000 ||
		o.Yearly.Enable != SwitchAuto || o.Weekly.Enable != SwitchAuto || o.Daily.Enable != SwitchAuto ||
		o.Algorithm != AlgorithmAuto {
		t.Fatalf("defaults differ from Prophet's: %+v", o)
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestOptionsValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Options)
		want   string
	}{
		{"zero value", func(o *Options) { *o = Options{} }, "growth"},
		{"logistic", func(o *Options) { o.Growth = "logistic" }, "growth"},
		{"mode", func(o *Options) { o.SeasonalityMode = "batman" }, "seasonality mode"},
		{"scaling", func(o *Options) { o.Scaling = "zscore" }, "scaling"},
		{"negative changepoints", func(o *Options) { o.NChangepoints = -1 }, "n_changepoints"},
		{"range below 0", func(o *Options) { o.ChangepointRange = -0.1 }, "changepoint_range"},
		{"range above 1", func(o *Options) { o.ChangepointRange = 2 }, "changepoint_range"},
		{"range NaN", func(o *Options) { o.ChangepointRange = math.NaN() }, "changepoint_range"},
		{"tau zero", func(o *Options) { o.ChangepointPriorScale = 0 }, "changepoint_prior_scale"},
		{"tau inf", func(o *Options) { o.ChangepointPriorScale = math.Inf(1) }, "changepoint_prior_scale"},
		{"seasonality scale", func(o *Options) { o.SeasonalityPriorScale = -1 }, "seasonality_prior_scale"},
		{"switch", func(o *Options) { o.Weekly.Enable = "maybe" }, "weekly seasonality switch"},
		{"order", func(o *Options) { o.Yearly.Order = -2 }, "yearly seasonality order"},
		{"own prior scale", func(o *Options) { o.Daily.PriorScale = math.NaN() }, "daily seasonality prior scale"},
		{"algorithm", func(o *Options) { o.Algorithm = "bfgs" }, "algorithm"},
		{"width 1", func(o *Options) { o.IntervalWidth = 1 }, "interval_width"},
		{"width 0", func(o *Options) { o.IntervalWidth = 0 }, "interval_width"},
		{"samples", func(o *Options) { o.UncertaintySamples = -1 }, "uncertainty_samples"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := DefaultOptions()
			c.change(&o)
			err := o.Validate()
			if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an ErrInvalidOptions naming %q", err, c.want)
			}
			if _, err := Fit(context.Background(), days("2020-01-01", 30), make([]float64, 30), o); !errors.Is(err, ErrInvalidOptions) {
				t.Fatalf("Fit accepted bad options: %v", err)
			}
		})
	}
}
