// Package stats is the contract every forecasting model of stockcast meets
// to be a candidate of the backtest and of the served selection: the
// statistical models (shared/stats/ets, theta, intermittent, baseline), the
// Prophet-style trend model and the LSTM (through adapters).
//
// # History
//
// A History is a regular series at one Frequency (daily, weekly, monthly):
// Values[i] is the value of step i after Start, and NaN where the data has
// no row for that step. A date without a row is not observed — not zero
// sales: zeros are zeros only where the data says 0. FromDates builds a
// History from dated values and detects the frequency from the dates.
//
// # Forecaster
//
// A Forecaster fits one kind of model:
//
//	type Forecaster interface {
//		Name() string                                      // "ets", "theta", "trend", "lstm", …
//		Fit(ctx context.Context, h History) (Model, error) // NaN steps are not observed
//	}
//
//	type Model interface {
//		Forecast(horizon int) (Forecast, error) // the horizon steps after h's last step
//		Describe() string                       // e.g. "ETS(M,Ad,M)"
//	}
//
// Fit must not modify h.Values and must handle NaN (not observed) steps:
// either natively (the state-space models skip the innovation of an
// unobserved step; Croston skips it) or by filling them (Interpolate) and
// saying so in Describe. A Forecast gives the point forecast (Mean) and the
// model's own distribution: Sigma (a normal approximation per step) and/or
// Samples (simulated paths); Quantile reads either. A model with no
// distribution leaves both nil. Fit errors mean "this model cannot serve
// this history" (too short, wrong sign, …): the backtest drops the
// candidate for that series and says why. A long fit (ETS's search over
// its forms, an optimiser's loop) checks ctx and, once it has ended,
// returns an error wrapping ctx's: the backtest then stops with it instead
// of dropping the candidate.
//
// A Forecaster may also be a Refitter: given the model it fitted on an
// earlier prefix of the same history, it refits faster (ETS keeps the form
// AICc chose and starts from its parameters). The backtest refits that way
// at each origin after the first.
//
// A global model (the LSTM, trained across series) implements Forecaster by
// forecasting from the history it is given: for a rolling-origin backtest
// it must only use h (a truncated history), never data after it.
package stats
