// Package trend is Prophet's model (facebook/prophet, forecaster.py and
// prophet.stan) in Go: a piecewise-linear or flat trend with potential
// changepoints under a Laplace prior, Fourier seasonalities (yearly, weekly,
// daily, chosen as Prophet chooses them), additive or multiplicative, fitted
// by maximum a posteriori on Prophet's Stan objective, and forecasts with
// Prophet's simulated uncertainty intervals.
//
// Fit takes plain dates and values; Predict forecasts any dates; a Model
// serialises to versioned JSON (ModelFormat) and many models travel together
// in a Set. FitWithFallback never fails on bad data: it returns a flat
// fallback model and the reason.
//
// # Faithful to Prophet
//
//   - Time: t = (ds − first)/(last − first) as a ratio of nanosecond counts;
//     Fourier terms on whole seconds since the epoch / 86400, with Prophet's
//     operation order (periods 365.25, 7 and 1 days).
//   - Scaling: absmax (y/max|y|, floor 0) or minmax ((y − min)/(max − min));
//     a zero scale becomes 1.
//   - Changepoints: set_changepoints, including the reduction for short
//     histories, numpy's linspace and round-half-to-even, the dummy
//     changepoint at t=0 when there are none and the folding of its rate
//     change into k after the fit.
//   - Seasonalities: parse_seasonality_args and set_auto_seasonalities (yearly
//     with two years of history, weekly with two weeks at spacing under a
//     week, daily with two days at spacing under a day), each switchable with
//     its own order and prior scale.
//   - Initialisation: linear_growth_init and flat_growth_init, sigma_obs 1,
//     delta and beta 0; a constant history skips the optimiser with
//     sigma_obs 1e-9, as Prophet does.
//   - Objective: Stan's log density with `~` (constants dropped):
//     k, m ~ N(0, 5), delta ~ Laplace(0, tau), sigma_obs ~ N(0, 0.5),
//     beta ~ N(0, sigmas), y ~ N(trend·(1 + X_m·beta) + X_a·beta, sigma_obs).
//     Stan's optimizer works on the unconstrained log sigma_obs and, for
//     optimisation, adds no Jacobian term (CmdStan's optimize has
//     jacobian=false by default, and Prophet does not set it); so does this
//     package: the MAP is that of the constrained density.
//   - Prediction: yhat = trend·(1 + multiplicative_terms) + additive_terms,
//     components as Prophet reports them, intervals from Prophet's vectorised
//     predict_uncertainty with MAP parameters (each future step carries a rate
//     change with probability S·Δt, Laplace-distributed with scale
//     mean|delta| + 1e-8, split over two steps and integrated twice; Gaussian
//     noise sigma_obs; numpy's linear percentiles), 1000 paths and 80% by
//     default. Dates are sorted first, as Prophet sorts them; future dates are
//     treated as evenly spaced, as in Prophet. Minmax scaling with
//     multiplicative seasonality multiplies the floor too, as Prophet does.
//   - Optimiser choice: as Prophet's models.py, Stan's Newton method for
//     histories under 100 rows, L-BFGS otherwise, and Newton from the same
//     initial values when L-BFGS fails; Options.Algorithm forces either, as
//     Prophet's fit(algorithm=...) does. FitInfo.Method records which ran.
//   - Newton's method is Stan's (CmdStan 2.33, Prophet's version):
//     direction −V·|Λ|⁻¹·Vᵀ·∇f from the eigendecomposition of the matrix
//     below (make_negative_definite_and_solve), step sizes 1, ½, ¼, … down
//     to 1e-50 until the objective does not increase, stop when it changes
//     by at most 1e-8 (from the second step on: Stan's first comparison is
//     with a value that includes constants) or after 10000 steps. The
//     matrix is the one Stan's grad_hess_log_prob produces: a fixed-step
//     (1e-3) fourth-order difference of the gradient that multiplies by
//     ε/2 where it should divide, so ε²·∇²f, plus the stencil straddling
//     the Laplace kink for any |δ| < 2e-3. Prophet's results depend on both
//     (on the 41-row test series below, Newton without the kink stencil
//     stops after 2 steps, and with the true Hessian gives 95.46 instead of
//     Prophet's 93.45), so both are reproduced: the step halving settles
//     near 1.9 Newton steps, a fit typically takes 50 to 200 steps, and
//     rate changes near zero move slowly. On a history the model can
//     interpolate (fewer rows than parameters: up to 33 daily rows with the
//     defaults) the posterior has no maximum; Newton then stops when no
//     step decreases the objective, sometimes with a tiny sigma_obs, or
//     runs its 10000 steps (0.3–0.4 s measured on 20-row series).
//
// # Choices where Prophet leaves room or Go differs
//
//   - L-BFGS: gonum's L-BFGS directions (history 5, Stan's) and
//     Moré–Thuente line search (Stan's constants 1e-4 and 0.9, at most 20
//     trial steps), with analytic gradients. The Laplace term is not
//     differentiable at delta = 0; its gradient there is taken as 0, as
//     Stan's double_exponential does. When a line search stalls on that kink,
//     the memory is reset and the search goes on, as Stan does ("LS failed,
//     Hessian reset"); Stan's termination tests on the objective (absolute
//     1e-12, relative 1e4·eps), the gradient (1e-8) and the step (1e-8) stop
//     it. When the line search fails again right after a reset, Stan's
//     L-BFGS stops with an error, and Prophet falls back to Newton; so does
//     this. Stan's relative-gradient test needs its Hessian approximation
//     and is not reproduced. gonum's loop is driven synchronously: its
//     Minimize hands every evaluation between goroutines, which costs more
//     than an evaluation here.
//   - Newton: Stan's matrix is computed from the analytic Hessian (ε² times
//     it, plus the kink stencil on the diagonal) instead of 4 gradients per
//     parameter; the stencil is exact on the sum of squares (a polynomial
//     of degree 2, or 4 with multiplicative seasonality) and within about
//     1e-12 relative in sigma, and a test checks the two agree. When the
//     matrix is positive definite the direction comes from a Cholesky solve
//     (the same direction, |Λ| = Λ), else from the eigendecomposition.
//     Trial steps whose objective without its fit term SSR/(2σ²), never
//     negative, already exceeds the current one are rejected without
//     computing the fit, which decides exactly as the evaluation would.
//   - Additive models are evaluated through a Householder QR of the design
//     matrix, once per fit: ‖y − Aθ‖² = ‖c − Rθ‖² + e, so each evaluation
//     costs O(p²) instead of O(T·p) — the same objective, tested against the
//     direct form.
//   - With flat growth k and delta keep their exact MAP value 0 (no data
//     touches them). With no seasonality Prophet adds a zero column whose
//     coefficient's MAP is exactly 0; it is left out.
//   - NaN values are refused (Prophet drops NaN rows), as are zero dates and
//     histories on a single date (Prophet would divide by a zero time scale).
//   - Not offered: logistic growth, holidays, extra regressors, custom or
//     conditional seasonalities, user-given changepoints, MCMC.
//
// # Checked against Prophet
//
// The tests reproduce Prophet's own unit tests where they give numbers:
// Fourier features of the first date of Prophet's test data, growth
// initialisation (absmax and minmax), piecewise-linear trend, changepoint
// placement and counts, automatic seasonalities, constant and flat
// histories, and the hold-out RMSE of test_fit_predict on Prophet's test
// data (testdata/prophet_data.csv, Prophet's python/prophet/tests/data.csv):
// 10.58 against Prophet's 10.64 (absmax) and 11.02 against 11.13 (minmax).
//
// test_fit_predict_large_numbers (testdata/prophet_data3.csv: 41 training
// rows near 6.2e8, fitted with Newton) gives 93.458 against Prophet's 93.45
// with minmax scaling. With absmax scaling it gives 127.90 against 127.01
// once the parameters are rounded to the 6 significant digits of CmdStan's
// output CSV, through which Prophet receives them: m ≈ 0.999998 then moves
// y by up to ±311. Fit keeps full precision, where the same forecast has
// RMSE 80.09. These end points are sensitive: Newton stops on a slowly
// converging path at the first change under 1e-8, and perturbing the data
// by 1e-12 moves the minmax figure within 93.4–98.1, so Stan, rounding
// differently, cannot be matched more closely than Prophet's own tolerance
// allows. Prophet's test_fit_predict_newton (Newton
// forced on the 480-row series: 23.44 absmax, 11.29 minmax) is not
// reproduced: Newton here converges to 10.52 and 11.03, next to the L-BFGS
// optimum, and what stops Stan's run earlier is not established.
//
// Prophet's Peyton Manning example is not in testdata, so its documented
// forecast is not compared.
package trend
