package forecast

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/datagen"
	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/training"
	"github.com/stockcast/stockcast/shared/trend"
)

// fixtureConfig is the test dataset: 6 generated products over 120 days
// (2022-01-01 … 2022-04-30).
var fixtureConfig = datagen.Config{Products: 6, Days: 120, Seed: 7}

// fixtureEnd is the dataset's last date.
var fixtureEnd = time.Date(2022, 4, 30, 0, 0, 0, 0, time.UTC)

// fixtureCSV is the generated dataset plus two hand-written products:
// PSHORT sells on the last 5 days only (shorter than the LSTM's minimum) at
// prices 10 to 14, and PGONE stops selling 10 days before the end.
var fixtureCSV = sync.OnceValue(func() string {
	var b strings.Builder
	if err := datagen.Write(context.Background(), &b, fixtureConfig); err != nil {
		panic(err)
	}
	for i := range 5 {
		d := fixtureEnd.AddDate(0, 0, i-4)
		fmt.Fprintf(&b, "%s,PSHORT,%d,Toys,North,%d,0,4\n", day(d), 3+i, 10+i)
	}
	for i := range 40 {
		d := fixtureEnd.AddDate(0, 0, i-49)
		fmt.Fprintf(&b, "%s,PGONE,%d,Toys,South,12,5,3.5\n", day(d), 20+i%7)
	}
	return b.String()
})

var fixtureTable = sync.OnceValues(func() (*series.Table, error) {
	return series.Load(context.Background(), strings.NewReader(fixtureCSV()))
})

func testTable(t testing.TB) *series.Table {
	t.Helper()
	table, err := fixtureTable()
	if err != nil {
		t.Fatal(err)
	}
	return table
}

// fitStandard fits every standard series of the table as the refit step does.
func fitStandard(table *series.Table) (*trend.Set, error) {
	set := trend.NewSet(time.Date(2022, 5, 1, 0, 0, 0, 0, time.UTC))
	for _, s := range table.Standard() {
		m, reason, err := trend.FitWithFallback(context.Background(), s.Dates, s.Values, trend.DefaultOptions())
		if err != nil {
			return nil, err
		}
		set.Add(s.Key, m, reason)
	}
	return set, nil
}

var fixtureSet = sync.OnceValues(func() (*trend.Set, error) {
	table, err := fixtureTable()
	if err != nil {
		return nil, err
	}
	return fitStandard(table)
})

// fixtureNet is a tiny LSTM (two layers of 6 units) trained for
// three epochs on the standard series of the table, keyed by series key.
var fixtureNet = sync.OnceValues(func() (*lstm.Model, error) {
	table, err := fixtureTable()
	if err != nil {
		return nil, err
	}
	cfg := lstm.DefaultConfig()
	cfg.Layers = []int{6, 6}
	m, err := lstm.New(cfg)
	if err != nil {
		return nil, err
	}
	var all []lstm.Series
	for _, s := range table.Standard() {
		d, err := lstm.Daily(s.Key, s.Dates, s.Values)
		if err != nil {
			return nil, err
		}
		all = append(all, d)
	}
	_, err = m.Train(context.Background(), all, lstm.TrainOptions{Mode: training.Full,
		Policy: lstm.Policy{FullEpochs: 3, MaxWindows: 600, ValidationDays: 7}})
	return m, err
})

type fixtures struct {
	table *series.Table
	set   *trend.Set
	net   *lstm.Model
}

func testFixtures(t testing.TB) fixtures {
	t.Helper()
	set, err := fixtureSet()
	if err != nil {
		t.Fatal(err)
	}
	net, err := fixtureNet()
	if err != nil {
		t.Fatal(err)
	}
	return fixtures{table: testTable(t), set: set, net: net}
}

func newTestEngine(t testing.TB, set *trend.Set, net *lstm.Model, cfg Config) *Engine {
	t.Helper()
	e, err := NewEngine(testTable(t), set, net, Metadata{Version: "v-test"}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// request is a request of the trend/LSTM path (model=blend) with a change; the statistical
// path's tests ask for their models.
func request(change func(*Request)) Request {
	r := DefaultRequest()
	r.Model = ModelBlend
	if change != nil {
		change(&r)
	}
	return r
}

func ptr(v float64) *float64 { return &v }

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }
