package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"

	"github.com/stockcast/stockcast/shared/forecast"
	"github.com/stockcast/stockcast/shared/lstm"
)

// forecastFlags maps the command's flags to the API's parameter names, so that the command
// validates and answers exactly as GET /forecast does.
var forecastFlags = []struct{ flag, param, usage string }{
	{"days", "days", "days to forecast, 1-365 (default 7)"},
	{"product", "product_id", "product_id filter"},
	{"category", "category", "category filter"},
	{"region", "region", "region filter"},
	{"min-rating", "min_rating", "rows with rating >= this"},
	{"max-price", "max_price", "rows with price <= this"},
	{"min-discount", "min_discount", "rows with discount >= this"},
	{"model", "model", "blend (default), trend or lstm"},
	{"lead-time", "lead_time_days", "replenishment lead time in days (default 5)"},
	{"service-level", "service_level", "probability of no stock-out over the lead time (default 0.95)"},
	{"on-hand", "on_hand", "stock on hand, for the order quantity and warnings"},
	{"review-days", "review_days", "days between orders (default 2)"},
}

// runForecast answers a forecast request offline, from a dataset file (or Prophet's ds,y
// file) and optionally an LSTM checkpoint, with the API's JSON.
func runForecast(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("forecast", flag.ContinueOnError)
	source := addDataFlags(flags, "the dataset CSV, or a Prophet two-column ds,y CSV (required)")
	data := source.data
	checkpoint := flags.String("checkpoint", "", "LSTM checkpoint (models/lstm/checkpoint.bin); without it the trend model answers alone")
	holdout := flags.Int("holdout", 0, "drop the last N days, forecast them, and report rmse, mae and wape against what happened")
	values := map[string]*string{}
	for _, f := range forecastFlags {
		values[f.param] = flags.String(f.flag, "", f.usage)
	}
	flags.Usage = func() {
		fmt.Fprint(flags.Output(), "usage: stockcast forecast --data FILE [--days N] [--holdout N] [--product ID] [--category C] [--region R]\n"+
			"                         [--model blend|trend|lstm] [--checkpoint FILE] [policy flags]\n\n"+
			"Prints the forecast API's JSON for the chosen series; with --holdout also its accuracy.\n\n")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return exitError{2}
	}
	if *data == "" || flags.NArg() > 0 {
		flags.Usage()
		return exitError{2}
	}
	query := url.Values{}
	for param, value := range values {
		if *value != "" {
			query.Set(param, *value)
		}
	}
	request, err := forecast.ParseQuery(query)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stockcast forecast:", err)
		return exitError{2}
	}
	table, err := source.load(ctx)
	if err != nil {
		return err
	}
	var net *lstm.Model
	if *checkpoint != "" {
		if net, err = readCheckpoint(*checkpoint); err != nil {
			return err
		}
	}
	engine, err := forecast.NewEngine(table, nil, net, forecast.Metadata{Version: "offline"}, forecast.DefaultConfig())
	if err != nil {
		return err
	}
	var response *forecast.Response
	if *holdout > 0 {
		response, err = engine.Evaluate(ctx, request, *holdout)
	} else {
		response, err = engine.Forecast(ctx, request)
	}
	if err != nil {
		return err
	}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	return out.Encode(response)
}

func readCheckpoint(path string) (*lstm.Model, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	model, err := lstm.Read(file)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return model, nil
}
