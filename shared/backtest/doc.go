// Package backtest scores forecasting candidates by rolling-origin
// backtests, selects per series the model or combination its backtest
// favours, and calibrates the served intervals and lead-time quantiles on
// the backtest's own out-of-sample errors.
//
// # Origins
//
// A backtest cuts the history at K origins (3 by default), each followed
// by a window of H steps (28 days for daily data, 8 weeks for weekly, 6
// months for monthly): the windows tile the last K·H steps, and every
// candidate (a stats.Forecaster) is fitted on the steps before each cut
// and forecasts the window. A short history gets fewer origins, then
// shorter windows, keeping at least max(m + 1, 2H) training steps (m the
// seasonal period); a history too short for one window of one step is not
// backtested. Only observed steps are scored: a step without a row is not
// an error of any size.
//
// # Scores
//
// Over the observed steps of the windows: MASE, the mean absolute error
// over the in-sample mean absolute seasonal difference (lag m, else lag 1)
// of the history before the first cut; WAPE, Σ|error| / Σ|actual|; RMSE;
// and coverage, the share of observed steps inside the candidate's own
// central interval (Config.Level, 80% by default). Pooled over series
// (Totals): MASE is the mean of the series' MASE, WAPE and RMSE pool the
// errors, coverage pools the steps.
//
// # Selection
//
// A candidate that fails on any origin is out for that series (the
// reason is kept). The served forecast is whichever of these has the
// smallest backtest MASE: the best single candidate, the median of the
// best three, or their mean weighted by 1/MASE. The combinations are
// scored on the very same windows from the candidates' forecasts.
//
// # Calibration
//
// The errors (actual − forecast) of the selection on the backtest windows
// calibrate its intervals, conformal style: the interval at level p is the
// forecast plus the empirical (1−p)/2 and (1+p)/2 quantiles of the errors
// at the finite-sample conformal ranks; steps beyond the backtest's
// horizon widen by √(h/H). The quantile of the lead-time demand error —
// the sum of the errors over L consecutive steps of a window, every start
// of every window — gives the safety stock at a service level; for L
// beyond H, H-step sums are widened by √(L/H).
//
// # Honest figures
//
// Evaluate scores the selection procedure itself: at each of K outer
// origins it runs Select on the history before the cut (whose inner
// windows lie before it) and scores the served forecast and its
// calibrated interval on the window after, so that no figure of the
// selection uses data it forecasts.
package backtest
