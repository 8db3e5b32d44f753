package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// quotedProphetFile writes Prophet's test data with every header name and value quoted, as
// Prophet's example files are, and returns its path.
func quotedProphetFile(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("../../shared/trend/testdata/prophet_data.csv")
	if err != nil {
		t.Fatal(err)
	}
	var quoted strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		ds, y, _ := strings.Cut(line, ",")
		fmt.Fprintf(&quoted, "%q,%q\r\n", ds, y)
	}
	path := filepath.Join(t.TempDir(), "example.csv")
	if err := os.WriteFile(path, []byte(quoted.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestProphetFilesWorkForTrainAndForecast(t *testing.T) {
	path := quotedProphetFile(t)
	out := captureStdout(t, func() error {
		return runForecast(context.Background(), []string{"--data", path, "--days", "5", "--model", "trend"})
	})
	var resp struct {
		Series struct {
			Key           string
			HistoryPoints int `json:"history_points"`
		}
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Series.Key != "total" || resp.Series.HistoryPoints != 510 {
		t.Errorf("forecast of a quoted ds,y file: %+v", resp)
	}
	var result trainResult
	out = captureStdout(t, func() error {
		return runTrain(context.Background(), []string{"--data", path, "--mode", "full", "--full-epochs", "1", "--out", filepath.Join(t.TempDir(), "y.bin")})
	})
	if err := json.Unmarshal(out, &result); err != nil {
		t.Fatal(err)
	}
	if result.Series == 0 || result.Windows == 0 || result.Trained != "2014-05-30" {
		t.Errorf("train on a ds,y file: %+v", result)
	}
}

func TestProphetFileWithBadValuesIsRefusedByLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(path, []byte("ds,y\n2024-01-01,1\n2024-01-02,1_000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := loadTableFile(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), `line 3: column "sales": value "1_000": sales is not a number`) {
		t.Fatalf("err = %v", err)
	}
}
