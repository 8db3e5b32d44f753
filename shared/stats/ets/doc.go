// Package ets is the exponential-smoothing state-space family (Hyndman,
// Koehler, Ord & Snyder, "Forecasting with Exponential Smoothing", 2008) as
// R's forecast::ets() fits it: additive or multiplicative error; no,
// additive or damped trend; no, additive or multiplicative seasonality;
// every model fitted by maximum likelihood and the one with the smallest
// AICc chosen among the admissible ones (Auto).
//
// The state updates, the likelihood (n·log(SSE) + 2·Σlog|ŷ| for
// multiplicative errors), the parameter bounds (α ∈ (1e-4, 0.9999), β < α,
// γ < 1 − α, φ ∈ [0.8, 0.98]), the heuristic initial states (classical
// decomposition of the first three seasons, a regression on the first
// max(10, 2m) seasonally adjusted values) and the parameter count of the
// information criteria are R's. As R, the smoothing parameters, φ and the
// initial level and slope are estimated by Nelder–Mead; unlike R the initial
// seasonal states stay at their decomposition values (they still count as
// parameters in AICc), which costs little on histories of several seasons
// and keeps a fit of a 2-year daily series in milliseconds. Auto races the
// admissible models rather than fitting each to the end: every one is
// fitted coarsely, and only those close to the best coarse AICc are refined
// (see Auto); on generated retail series and R's data sets it chooses what
// fitting every model to the end chooses.
//
// The admissible models are R's defaults: no multiplicative trend;
// multiplicative error or seasonality only for strictly positive data; no
// additive error with multiplicative seasonality; seasonal models only for
// periods 2–24 (R's limit; weekly data with period 52 gets non-seasonal
// models) with at least two full seasons of data.
//
// A step without an observation (NaN) is not observed: the state is carried
// forward by its one-step prediction with no innovation and the step is
// left out of the likelihood, as the Kalman filter of a state-space model
// treats a missing value.
//
// Forecasts carry their distribution: for the models with additive error
// and no multiplicative component (class 1), Sigma is the analytic standard
// deviation σ·√(1 + Σ c_j²); for the others, Samples are 1000 simulated
// paths with a fixed seed.
package ets
