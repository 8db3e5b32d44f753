// Package forecast answers stockcast's forecast API from one model version:
// it validates the API's parameters (Request, from a query string or a JSON
// body), forecasts the requested series with the trend model, the LSTM or
// their blend, derives the inventory policy, and renders the answer as JSON
// (Response) or as a PNG plot. It knows nothing of AWS: the handler loads
// the artifacts, builds an Engine per model version and swaps it.
//
// # Series
//
// A request's product, category or region alone (or none: the total) is a
// standard series, whose trend model the refit precomputed. Any other
// combination, or any threshold (min_rating, max_price, min_discount), is an
// ad-hoc series: aggregated from the engine's Source (the dataset table, or a
// sharded model's shards) and its trend model fitted on demand with
// Config.TrendOptions. Either way the engine keeps the
// series (its daily history, NaN on dates without a row, and trend model) in a bounded cache
// keyed by series key; concurrent first requests for a key share one fit.
// The engine is the cache of its model version: a new version starts empty.
//
// # Statistical path: model=auto and the statistical models
//
// The default model, auto, serves the series' backtest selection
// (Metadata.Selections, the refit's backtest.Set; for a series it lacks, an
// ad-hoc series, or offline evaluation, backtest.Select runs on first use on
// the history the forecast starts from): the selected models are fitted on
// the whole history (cached per series), combined by the selection's method
// and weights, and given the selection's calibrated interval (the conformal
// quantiles of its backtest errors, backtest.Calibration). A selection that
// holds the LSTM (the refit backtests it on the fine-tune's models of the
// backtest origins) takes its part from the engine's LSTM, shown as each
// day's LSTM too; the on-demand backtests have no LSTM candidate, as the
// served LSTM saw every day they would score. A forced
// statistical model (ets, theta, croston, tsb, naive, snaive, mean) is fitted
// and served alone with its own distribution's 80% interval. The series is
// read at the dataset's frequency (stats.Detect): a weekly series is
// forecast in weeks, each entry of Days one week. Every response lists the
// models served (Served) with their weights and backtest scores, and for
// auto the selection (Selection).
//
// # Trend/LSTM path: blend, trend, lstm
//
// Days start the day after the series' last date. The trend part is the
// trend model's yhat; the LSTM part is the global LSTM's median forecast
// from the series' daily history (its dates without a row read as not
// observed, every window scaled by its own recent level). The served
// forecast is TrendWeight·trend + LSTMWeight·LSTM for the blend (0.6/0.4 by
// default), the trend part for "trend", the LSTM part for "lstm". With no
// LSTM loaded, or a history shorter than lstm.MinHistory days, the trend model
// serves alone and a note says so.
//
// The interval is the trend model's (Prophet's simulated paths, 80% by
// default), moved to the served forecast: lower = forecast − (trend − trend
// lower), upper = forecast + (trend upper − trend). For the trend model it
// is its own interval; for the LSTM and the blend it keeps the trend
// interval's half-widths, as the LSTM has no uncertainty model of its own.
//
// # Inventory policy
//
// For model=auto the safety stock is the service-level quantile of the
// selection's backtest demand error summed over the lead time
// (backtest.Calibration.LeadTime; at least 0) and σ the RMS of its backtest
// errors; for a forced statistical model σ is its one-step σ and the rest as
// below. On the trend/LSTM path, with L the lead time, R the review period and
// d the mean served forecast over the L days after the last date (floored at 0):
//
//	σ              the trend model's observation noise sigma (NoiseSigma), in sales units
//	z              Φ⁻¹(service level), the standard normal quantile
//	safety stock   z·σ·√L
//	reorder point  d·L + safety stock
//	min level      safety stock
//	max level      reorder point + d·R
//	order quantity max(0, max level − on hand), rounded up to whole units
//	days of cover  on hand / d
//
// σ is the model's one-day error, not the spread of the forecast values (as
// the prototype had it). It is not combined with LSTM residuals: the LSTM's
// only error figures are its training and validation losses, in scaled
// units and pooled over every series, so the trend model's σ, fitted on this
// very series, is the one per-series error estimate at hand. Warnings: "stockout_risk" when
// on hand is below d·L, "reorder_now" when on hand ≤ the reorder point,
// otherwise "healthy".
//
// # Offline evaluation
//
// Engine.Evaluate drops the last N days of the series, refits its trend
// model on the rest, forecasts from the cut and adds the accuracy (RMSE, MAE,
// WAPE) over the N held-out days to the same Response the API returns.
package forecast
