package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/backtest"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/stats/candidates"
	"github.com/stockcast/stockcast/shared/trend"
)

// TestBacktestGroups: with the naive forecast alone, the sum of the products' forecasts is the
// group's own forecast (both repeat the last value), so both sources score the same on every
// level; the windows are those of the groups, every level is reported.
func TestBacktestGroups(t *testing.T) {
	var csv strings.Builder
	csv.WriteString("date,product_id,sales,category,region\n")
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for d := range 200 {
		day := start.AddDate(0, 0, d).Format(time.DateOnly)
		fmt.Fprintf(&csv, "%s,P1,%d,A,North\n", day, 10+d%7)
		fmt.Fprintf(&csv, "%s,P2,%d,B,North\n", day, 20+(d*3)%11)
		fmt.Fprintf(&csv, "%s,P3,%d,B,South\n", day, 5+d%3)
	}
	table, err := series.Load(context.Background(), strings.NewReader(csv.String()))
	if err != nil {
		t.Fatal(err)
	}
	cands, err := candidates.Named(candidates.All(trend.DefaultOptions()), []string{candidates.Naive})
	if err != nil {
		t.Fatal(err)
	}
	report, err := backtestGroups(context.Background(), table, "groups.csv", cands, 2, backtest.Config{Horizon: 14, Origins: 3})
	if err != nil {
		t.Fatal(err)
	}
	if report.Products != 3 || report.Horizon != 14 || report.Origins != 3 || report.Fallbacks != 0 || len(report.Skipped) != 0 {
		t.Fatalf("report %+v", report)
	}
	want := map[string]int{series.Total: 1, "category": 2, "region": 2, "all": 5}
	if len(report.Levels) != len(want) {
		t.Fatalf("levels %+v", report.Levels)
	}
	for _, l := range report.Levels {
		if l.Series != want[l.Level] || len(l.Scores) != 2 {
			t.Fatalf("level %+v", l)
		}
		direct, bottomUp := l.Scores[1], l.Scores[0]
		if direct.Model != groupDirect || bottomUp.Model != groupBottomUp || direct.Series != l.Series || bottomUp.Series != l.Series {
			t.Fatalf("level %s: %+v", l.Level, l.Scores)
		}
		if !(direct.MASE > 0) || math.Abs(direct.MASE-bottomUp.MASE) > 1e-9 || math.Abs(direct.WAPE-bottomUp.WAPE) > 1e-9 {
			t.Errorf("level %s: direct %+v, bottom-up %+v: naive forecasts add up", l.Level, direct.Scores, bottomUp.Scores)
		}
	}
	var out bytes.Buffer
	if err := writeGroupReport(report, &out); err != nil || !strings.Contains(out.String(), "bottom_up") {
		t.Fatalf("%v:\n%s", err, out.String())
	}
}
