package main

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
)

func TestForecastCommandOnProphetData(t *testing.T) {
	out := captureStdout(t, func() error {
		return runForecast(context.Background(), []string{"--data", "../../shared/trend/testdata/prophet_data.csv", "--days", "30", "--holdout", "30", "--model", "trend"})
	})
	var resp struct {
		Series   struct{ Key string }
		Days     []any
		Accuracy struct {
			HoldoutDays int     `json:"holdout_days"`
			RMSE        float64 `json:"rmse"`
		}
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	// Prophet's own test (test_fit_predict) asserts RMSE about 10.64 for these 30 held-out rows.
	if resp.Series.Key != "total" || len(resp.Days) != 30 || resp.Accuracy.HoldoutDays != 30 || resp.Accuracy.RMSE > 10.64*1.1 {
		t.Errorf("response %+v", resp)
	}
}

func TestForecastCommandValidatesLikeTheAPI(t *testing.T) {
	err := runForecast(context.Background(), []string{"--data", "../../testdata/small_dataset.csv", "--days", "0", "--service-level", "2"})
	var exit exitError
	if !errors.As(err, &exit) || exit.code != 2 {
		t.Fatalf("err = %v, want exit status 2", err)
	}
}
