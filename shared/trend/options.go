package trend

import (
	"errors"
	"fmt"
	"math"
)

// Growth selects the trend function.
type Growth string

// Trend functions, as Prophet's growth argument ("logistic" is not offered).
const (
	GrowthLinear Growth = "linear"
	GrowthFlat   Growth = "flat"
)

// Mode says how seasonal components combine with the trend.
type Mode string

// Seasonality modes, as Prophet's seasonality_mode.
const (
	Additive       Mode = "additive"
	Multiplicative Mode = "multiplicative"
)

// Scaling selects how y is scaled before fitting, as Prophet's scaling argument.
type Scaling string

// Scalings: AbsMax divides by max|y| (floor 0); MinMax maps [min y, max y] to [0, 1].
const (
	ScalingAbsMax Scaling = "absmax"
	ScalingMinMax Scaling = "minmax"
)

// Switch turns a built-in seasonality on, off, or leaves it to Prophet's rule.
type Switch string

// Switch values: Auto applies Prophet's history-length and spacing rule.
const (
	SwitchAuto Switch = "auto"
	SwitchOn   Switch = "on"
	SwitchOff  Switch = "off"
)

// Algorithm selects the optimiser of the MAP fit, as the algorithm Prophet
// passes to Stan's optimize.
type Algorithm string

// Algorithms. Whatever is chosen, an L-BFGS run that fails is followed by a
// Newton run from the initial values, as Prophet's newton_fallback does.
const (
	// AlgorithmAuto is Prophet's choice: Newton for histories of fewer
	// than 100 rows, L-BFGS otherwise.
	AlgorithmAuto Algorithm = "auto"
	// AlgorithmLBFGS uses L-BFGS at any length (Prophet's fit(algorithm='LBFGS')).
	AlgorithmLBFGS Algorithm = "lbfgs"
	// AlgorithmNewton uses Newton at any length (Prophet's fit(algorithm='Newton')).
	AlgorithmNewton Algorithm = "newton"
)

// Seasonality configures one built-in seasonality (yearly, weekly or daily).
type Seasonality struct {
	// Enable is auto (Prophet's rule), on or off.
	Enable Switch
	// Order is the Fourier order; 0 means Prophet's default (10, 3, 4).
	Order int
	// PriorScale is the normal prior's scale on the coefficients; 0 means
	// Options.SeasonalityPriorScale.
	PriorScale float64
}

// Options are the model settings, with Prophet's names and defaults. Start from
// DefaultOptions: the zero value is not valid.
type Options struct {
	Growth                Growth
	SeasonalityMode       Mode
	Scaling               Scaling
	NChangepoints         int     // potential changepoints (Prophet: n_changepoints)
	ChangepointRange      float64 // share of the history that holds them
	ChangepointPriorScale float64 // tau, the Laplace prior's scale on rate changes
	SeasonalityPriorScale float64 // default prior scale of every seasonality
	Yearly                Seasonality
	Weekly                Seasonality
	Daily                 Seasonality
	// Algorithm is the optimiser; AlgorithmAuto chooses as Prophet does.
	Algorithm Algorithm
	// IntervalWidth is the default central probability of the intervals.
	IntervalWidth float64
	// UncertaintySamples is the default number of simulated paths; 0 disables intervals.
	UncertaintySamples int
	// Seed makes the simulated intervals reproducible.
	Seed uint64
}

// DefaultOptions returns Prophet's defaults: linear growth, additive seasonality,
// absmax scaling, 25 changepoints over the first 80% of the history with prior
// scale 0.05, seasonalities on Prophet's automatic rule with prior scale 10,
// the optimiser chosen as Prophet chooses it, 80% intervals from 1000 samples.
func DefaultOptions() Options {
	return Options{
		Growth:                GrowthLinear,
		SeasonalityMode:       Additive,
		Scaling:               ScalingAbsMax,
		NChangepoints:         25,
		ChangepointRange:      0.8,
		ChangepointPriorScale: 0.05,
		SeasonalityPriorScale: 10,
		Yearly:                Seasonality{Enable: SwitchAuto},
		Weekly:                Seasonality{Enable: SwitchAuto},
		Daily:                 Seasonality{Enable: SwitchAuto},
		Algorithm:             AlgorithmAuto,
		IntervalWidth:         0.80,
		UncertaintySamples:    1000,
	}
}

// ErrInvalidOptions is wrapped by every error about Options.
var ErrInvalidOptions = errors.New("trend: invalid options")

func positiveFinite(v float64) bool { return v > 0 && !math.IsInf(v, 1) }

// Validate checks every field and names the first bad one.
func (o Options) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidOptions, fmt.Sprintf(format, args...))
	}
	switch o.Growth {
	case GrowthLinear, GrowthFlat:
	default:
		return bad("growth %q (want %q or %q)", o.Growth, GrowthLinear, GrowthFlat)
	}
	switch o.SeasonalityMode {
	case Additive, Multiplicative:
	default:
		return bad("seasonality mode %q (want %q or %q)", o.SeasonalityMode, Additive, Multiplicative)
	}
	switch o.Scaling {
	case ScalingAbsMax, ScalingMinMax:
	default:
		return bad("scaling %q (want %q or %q)", o.Scaling, ScalingAbsMax, ScalingMinMax)
	}
	if o.NChangepoints < 0 {
		return bad("n_changepoints %d is negative", o.NChangepoints)
	}
	if !(o.ChangepointRange >= 0 && o.ChangepointRange <= 1) {
		return bad("changepoint_range %v is not in [0, 1]", o.ChangepointRange)
	}
	if !positiveFinite(o.ChangepointPriorScale) {
		return bad("changepoint_prior_scale %v is not a positive number", o.ChangepointPriorScale)
	}
	if !positiveFinite(o.SeasonalityPriorScale) {
		return bad("seasonality_prior_scale %v is not a positive number", o.SeasonalityPriorScale)
	}
	for _, s := range []struct {
		name string
		s    Seasonality
	}{{"yearly", o.Yearly}, {"weekly", o.Weekly}, {"daily", o.Daily}} {
		switch s.s.Enable {
		case SwitchAuto, SwitchOn, SwitchOff:
		default:
			return bad("%s seasonality switch %q (want auto, on or off)", s.name, s.s.Enable)
		}
		if s.s.Order < 0 {
			return bad("%s seasonality order %d is negative", s.name, s.s.Order)
		}
		if s.s.PriorScale < 0 || math.IsNaN(s.s.PriorScale) || math.IsInf(s.s.PriorScale, 1) {
			return bad("%s seasonality prior scale %v is not a positive number", s.name, s.s.PriorScale)
		}
	}
	switch o.Algorithm {
	case AlgorithmAuto, AlgorithmLBFGS, AlgorithmNewton:
	default:
		return bad("algorithm %q (want %q, %q or %q)", o.Algorithm, AlgorithmAuto, AlgorithmLBFGS, AlgorithmNewton)
	}
	if !(o.IntervalWidth > 0 && o.IntervalWidth < 1) {
		return bad("interval_width %v is not in (0, 1)", o.IntervalWidth)
	}
	if o.UncertaintySamples < 0 {
		return bad("uncertainty_samples %d is negative", o.UncertaintySamples)
	}
	return nil
}
