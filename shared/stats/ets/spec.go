package ets

import (
	"fmt"
	"strings"
)

// Component kinds of a Spec.
const (
	None           = 'N'
	Additive       = 'A'
	Multiplicative = 'M'
	Damped         = 'D' // additive damped trend
)

// Spec is one member of the family: Error is Additive or Multiplicative,
// Trend None, Additive or Damped, Season None, Additive or Multiplicative,
// Period the seasonal period (1 without a season).
type Spec struct {
	Error, Trend, Season byte
	Period               int
}

// String is R's name of the model, e.g. "ETS(M,Ad,M)".
func (s Spec) String() string {
	trend := string(s.Trend)
	if s.Trend == Damped {
		trend = "Ad"
	}
	return fmt.Sprintf("ETS(%c,%s,%c)", s.Error, trend, s.Season)
}

// Code is the compact form of the spec: "MAdM" for ETS(M,Ad,M).
func (s Spec) Code() string {
	return strings.NewReplacer("ETS(", "", ")", "", ",", "").Replace(s.String())
}

// ParseSpec reads a Code ("ANN", "MAdM") with the given period.
func ParseSpec(code string, period int) (Spec, error) {
	c := strings.Replace(code, "Ad", "D", 1)
	if len(c) != 3 {
		return Spec{}, fmt.Errorf("ets: model %q is not of the form ANN, MAdM", code)
	}
	s := Spec{Error: c[0], Trend: c[1], Season: c[2], Period: period}
	if err := s.validate(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

func (s Spec) validate() error {
	ok := strings.IndexByte("AM", s.Error) >= 0 && strings.IndexByte("NAD", s.Trend) >= 0 &&
		strings.IndexByte("NAM", s.Season) >= 0
	switch {
	case !ok:
		return fmt.Errorf("ets: unknown model %q", s.String())
	case s.Season != None && s.Period < 2:
		return fmt.Errorf("ets: seasonal model %s needs a period of at least 2, got %d", s, s.Period)
	}
	return nil
}

// seasonal reports whether the spec has a season.
func (s Spec) seasonal() bool { return s.Season != None }

// trended reports whether the spec has a slope.
func (s Spec) trended() bool { return s.Trend != None }

// period is the length of the seasonal state (1 without a season).
func (s Spec) period() int {
	if s.seasonal() {
		return s.Period
	}
	return 1
}

// class1 reports whether the forecast variance is analytic: additive error
// and no multiplicative component.
func (s Spec) class1() bool { return s.Error == Additive && s.Season != Multiplicative }

// parameters is R's count of estimated parameters: the smoothing
// parameters, φ, the initial level, slope and m−1 seasonal states, and σ.
func (s Spec) parameters() int {
	n := 1 + 1 + 1 // alpha, level, sigma
	if s.trended() {
		n += 2 // beta, slope
	}
	if s.Trend == Damped {
		n++
	}
	if s.seasonal() {
		n += 1 + s.Period - 1
	}
	return n
}
