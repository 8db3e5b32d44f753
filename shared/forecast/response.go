package forecast

import (
	"encoding/json"
	"fmt"
	"time"
)

// Response is the answer to GET and POST /forecast, and the output of
// `stockcast forecast` (which adds Accuracy). Every number is rounded for
// display; the computation behind it is not.
type Response struct {
	// ModelVersion is the version of the published model that answered.
	ModelVersion string `json:"model_version"`
	// TrainedThrough is the last date of the data the model was trained on (YYYY-MM-DD).
	TrainedThrough Date `json:"trained_through"`
	// Model is the model asked for: "auto" (the default), "blend", "trend",
	// "lstm" or a statistical model ("ets", "theta", …).
	Model Model `json:"model"`
	// Served lists the models whose forecasts make up the served one, with
	// their weights and their backtest on this series.
	Served []ServedModel `json:"served"`
	// Selection describes model=auto's choice and its backtest; omitted for
	// the other models.
	Selection *SelectionInfo `json:"selection,omitempty"`
	// Weights are the weights actually applied to the trend and LSTM parts:
	// the configured blend (0.6/0.4 by default), 1/0 for the trend, 0/1 for
	// the LSTM, and 1/0 whenever the LSTM could not serve (see Notes).
	Weights Weights `json:"weights"`
	// IntervalWidth is the central probability of [lower, upper] (the trend
	// model's interval width, 0.8 by default); null when the trend model has
	// no intervals, and then lower = upper = forecast.
	IntervalWidth *float64 `json:"interval_width"`
	// Series describes the series forecast.
	Series SeriesInfo `json:"series"`
	// Days holds one entry per forecast day, in date order, starting the day
	// after the series' last date.
	Days []Day `json:"days"`
	// Policy is the inventory policy derived from the forecast.
	Policy Policy `json:"policy"`
	// Warnings are the plain-language stock warnings (codes "stockout_risk",
	// "reorder_now", "healthy"), empty when on_hand is not given.
	Warnings []Message `json:"warnings"`
	// Notes say how the forecast was made when it departs from the request
	// or needs a caveat (codes listed with the Note* constants).
	Notes []Message `json:"notes"`
	// Accuracy compares the forecast with what happened over held-out days;
	// present only in offline evaluation (Engine.Evaluate).
	Accuracy *Accuracy `json:"accuracy,omitempty"`
}

// Weights are the blend weights applied; they sum to 1.
type Weights struct {
	Trend float64 `json:"trend"`
	LSTM  float64 `json:"lstm"`
}

// SeriesInfo describes the series a response forecasts.
type SeriesInfo struct {
	// Key is the series key: "total", "product/ID", "category/C", "region/R",
	// or "filter?…" (the filter's parameters, sorted) for an ad-hoc series.
	Key string `json:"key"`
	// Standard is true for the series the refit precomputes (total, one
	// product, one category, one region), false for an ad-hoc filter.
	Standard bool `json:"standard"`
	// Filter is the row filter, in the API's parameter names; empty for the total.
	Filter Filter `json:"filter"`
	// HistoryPoints is the number of dates with at least one matching row in
	// the history the forecast starts from (after a holdout cut).
	HistoryPoints int `json:"history_points"`
	// FirstDate and LastDate are the first and last dates with a row in that
	// history (YYYY-MM-DD). Days start the day after LastDate; in offline
	// evaluation, the day after the holdout cut (accuracy.from).
	FirstDate Date `json:"first_date"`
	LastDate  Date `json:"last_date"`
	// TrendModel says where the trend model came from: "precomputed" (the
	// refit's) or "fitted_on_demand" (ad-hoc series, and every series in
	// offline evaluation).
	TrendModel string `json:"trend_model"`
	// TrendFit is how its parameters were obtained: "lbfgs", "newton" (Prophet's
	// optimizer for histories under 100 rows), "constant" or
	// "fallback" (a flat model, see the "trend_fallback" note).
	TrendFit string `json:"trend_fit"`
	// Aggregation is how the forecast of a group (the total, a category, a region, a filter
	// without a product) was made: AggregationDirect. Empty for one product's series.
	Aggregation string `json:"aggregation,omitempty"`
}

// AggregationDirect: a group is forecast from its own history — the sum of its rows per date,
// up to its last complete date (series.Table's completeness rule) — not as the sum of its
// products' forecasts (bottom-up), which backtested worse on two of three real data sets
// (README, "Group forecasts").
const AggregationDirect = "direct"

// Where a trend model came from (SeriesInfo.TrendModel).
const (
	TrendPrecomputed    = "precomputed"
	TrendFittedOnDemand = "fitted_on_demand"
)

// Filter is a row filter in the API's parameter names; unset fields are omitted.
type Filter struct {
	ProductID   string   `json:"product_id,omitempty"`
	Category    string   `json:"category,omitempty"`
	Region      string   `json:"region,omitempty"`
	MinRating   *float64 `json:"min_rating,omitempty"`
	MaxPrice    *float64 `json:"max_price,omitempty"`
	MinDiscount *float64 `json:"min_discount,omitempty"`
}

// Day is the forecast of one day, in sales units, rounded to 2 decimals.
type Day struct {
	// Date is the day (YYYY-MM-DD).
	Date Date `json:"date"`
	// Forecast is the served forecast: weights.trend·trend + weights.lstm·lstm.
	Forecast float64 `json:"forecast"`
	// Lower and Upper bound the forecast's interval: the trend model's
	// interval moved to the served forecast, i.e. forecast − (trend −
	// trend lower) and forecast + (trend upper − trend). For the trend
	// model this is its own interval; for the blend and the LSTM it keeps the
	// trend interval's half-widths around their forecast.
	Lower float64 `json:"lower"`
	Upper float64 `json:"upper"`
	// Trend is the trend model's forecast (yhat).
	Trend float64 `json:"trend"`
	// LSTM is the LSTM's forecast; null when the LSTM is not used.
	LSTM *float64 `json:"lstm"`
	// Models are the forecasts of the statistical path's served models, by
	// name; omitted on the trend/LSTM path.
	Models map[string]float64 `json:"models,omitempty"`
}

// Accuracy measures a forecast against the held-out dates it forecast: the
// series' last dates with rows (a date without rows is missing, not a zero).
// It is computed from the unrounded forecast; Baselines scores naive
// forecasts on the same dates, so the model's errors can be judged.
type Accuracy struct {
	// HoldoutDays is the number of held-out dates compared.
	HoldoutDays int `json:"holdout_days"`
	// From and To bound the held-out days (YYYY-MM-DD).
	From Date `json:"from"`
	To   Date `json:"to"`
	Scores
	// Baselines scores the naive forecasts: "naive" (the last value before
	// the cut, repeated) and "seasonal_naive_7" (the same weekday's value in
	// the last week before the cut).
	Baselines map[string]Scores `json:"baselines"`
}

// Scores are the errors of one forecast over the held-out dates.
type Scores struct {
	// RMSE is the root mean squared error, in sales units.
	RMSE float64 `json:"rmse"`
	// MAE is the mean absolute error, in sales units.
	MAE float64 `json:"mae"`
	// WAPE is Σ|actual − forecast| / Σ|actual|; null when every actual is 0.
	WAPE *float64 `json:"wape"`
}

// Info describes the model version an engine serves (for GET /health).
type Info struct {
	// Version is the model version.
	Version string `json:"model_version"`
	// TrainedThrough is the last date of the training data.
	TrainedThrough Date `json:"trained_through"`
	// DatasetRows is the number of rows of the dataset snapshot.
	DatasetRows int `json:"dataset_rows"`
	// TrendModels is the number of precomputed trend models.
	TrendModels int `json:"trend_models"`
	// LSTM says whether an LSTM model is loaded.
	LSTM bool `json:"lstm"`
}

// Date is a calendar day, 00:00 UTC, written in JSON as "YYYY-MM-DD".
type Date struct{ time.Time }

// MarshalJSON writes the date as "YYYY-MM-DD".
func (d Date) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.Format(time.DateOnly))
}

// UnmarshalJSON reads a "YYYY-MM-DD" date.
func (d *Date) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("date: %w", err)
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return fmt.Errorf("date: %w", err)
	}
	d.Time = t
	return nil
}
