package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stockcast/stockcast/shared/backtest"
)

func TestBacktestCommand(t *testing.T) {
	dir := t.TempDir()
	report, err := backtestFile(context.Background(), dataFile("../../testdata/sample_dataset.csv"), []string{"ets", "snaive", "naive"}, 4, 2, backtest.Config{}, dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if report.Series != 4 || report.Origins != 3 || report.Horizon != 28 || report.Frequency != "daily" {
		t.Fatalf("report %+v", report)
	}
	names := map[string]backtest.ModelScores{}
	for _, m := range report.Models {
		names[m.Model] = m
	}
	for _, want := range []string{"auto", "ets", "snaive", "naive"} {
		m, ok := names[want]
		if !ok || m.Series != 4 || m.Points != 4*84 || !(m.MASE > 0) {
			t.Errorf("%s: %+v", want, m)
		}
	}
	if names["auto"].Coverage == nil {
		t.Error("auto has no coverage")
	}
	var out bytes.Buffer
	if err := writeReport(report, "", &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "coverage 80%") || !strings.Contains(out.String(), "selections") {
		t.Errorf("table:\n%s", out.String())
	}
	// An export scored again, with another tool's forecasts beside it, gives the same figures.
	other := []byte("series,origin,step,model,mean,lower,upper\n")
	if err := os.WriteFile(filepath.Join(dir, "r_forecasts.csv"), other, 0o644); err != nil {
		t.Fatal(err)
	}
	scored, err := scoreExport(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range scored.Models {
		if names[m.Model].MASE != m.MASE {
			t.Errorf("%s: MASE %v scored from the export, %v in the backtest", m.Model, m.MASE, names[m.Model].MASE)
		}
	}
	if scored.Reference != "snaive" || scored.Ratios["snaive"] != 1 {
		t.Errorf("reference %q, ratios %v", scored.Reference, scored.Ratios)
	}
	var js bytes.Buffer
	if err := writeReport(scored, "-", &js); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(js.Bytes()) {
		t.Errorf("--json - printed %q", js.String())
	}
}

func TestBacktestRefusesUnknownModels(t *testing.T) {
	_, err := backtestFile(context.Background(), dataFile("../../testdata/sample_dataset.csv"), []string{"arima"}, 1, 1, backtest.Config{}, "", false)
	if err == nil || !strings.Contains(err.Error(), `unknown model "arima"`) {
		t.Errorf("err = %v", err)
	}
}
