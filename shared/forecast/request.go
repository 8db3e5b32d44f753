package forecast

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/stockcast/stockcast/shared/decimal"
	"github.com/stockcast/stockcast/shared/series"
)

// Model chooses which model's forecast a response serves.
type Model string

// The models a request may ask for.
const (
	ModelAuto  Model = "auto"  // the series' backtest selection: the best model or combination
	ModelBlend Model = "blend" // TrendWeight·trend + LSTMWeight·LSTM (Config)
	ModelTrend Model = "trend" // the trend model alone
	ModelLSTM  Model = "lstm"  // the LSTM alone, with the trend model's interval widths
	// The statistical models, each alone with its own distribution's interval.
	ModelETS     Model = "ets"
	ModelTheta   Model = "theta"
	ModelCroston Model = "croston"
	ModelTSB     Model = "tsb"
	ModelNaive   Model = "naive"
	ModelSNaive  Model = "snaive"
	ModelMean    Model = "mean"
)

// Models lists every model a request may ask for, in documentation order.
var Models = []Model{ModelAuto, ModelBlend, ModelTrend, ModelLSTM, ModelETS, ModelTheta, ModelCroston, ModelTSB, ModelNaive, ModelSNaive, ModelMean}

// statistical reports whether m is one of the statistical models.
func (m Model) statistical() bool {
	return slices.Contains(Models[4:], m)
}

func modelRule() string {
	names := make([]string, len(Models))
	for i, m := range Models {
		names[i] = string(m)
	}
	return "must be one of " + strings.Join(names, ", ")
}

// Request is one forecast request: the API's parameters, validated. Start
// from DefaultRequest (the zero value is not valid) or build one with
// ParseQuery or ParseJSON.
type Request struct {
	// Days is the number of days to forecast after the series' last date, 1–365.
	Days int
	// ProductID, Category and Region select rows by equality; empty selects all.
	ProductID, Category, Region string
	// MinRating, MaxPrice and MinDiscount select rows by threshold; nil selects all.
	MinRating, MaxPrice, MinDiscount *float64
	// Model is the model whose forecast is served.
	Model Model
	// LeadTimeDays is the replenishment lead time in days, 1–365.
	LeadTimeDays int
	// ServiceLevel is the probability of no stock-out during the lead time, in (0.5, 0.9999).
	ServiceLevel float64
	// OnHand is the stock on hand in units, ≥ 0; nil when not given.
	OnHand *float64
	// ReviewDays is the number of days between two orders, 0–365.
	ReviewDays int
}

// Defaults of the optional parameters.
const (
	DefaultDays         = 7
	DefaultLeadTimeDays = 5
	DefaultServiceLevel = 0.95
	DefaultReviewDays   = 2
)

// DefaultRequest is the request of a GET /forecast without parameters: the
// total series, 7 days, the backtest's selection (auto), lead time 5 days, service level 0.95,
// review every 2 days, no stock on hand given.
func DefaultRequest() Request {
	return Request{
		Days:         DefaultDays,
		Model:        ModelAuto,
		LeadTimeDays: DefaultLeadTimeDays,
		ServiceLevel: DefaultServiceLevel,
		ReviewDays:   DefaultReviewDays,
	}
}

// Filter is the row filter of the request.
func (r Request) Filter() series.Filter {
	return series.Filter{
		ProductID: r.ProductID, Category: r.Category, Region: r.Region,
		MinRating: r.MinRating, MaxPrice: r.MaxPrice, MinDiscount: r.MinDiscount,
	}
}

// SeriesKey is the key of the series the request describes: series.Total,
// product/ID, category/C or region/R for a standard series, otherwise the
// filter's "filter?…" key (see series.Filter.Key).
func (r Request) SeriesKey() string { return r.Filter().Key() }

// Standard reports whether the request describes one of the standard series
// the refit precomputes: the total, or exactly one of product, category or
// region and no threshold. Any other combination is an ad-hoc series.
func (r Request) Standard() bool {
	if r.MinRating != nil || r.MaxPrice != nil || r.MinDiscount != nil {
		return false
	}
	set := 0
	for _, v := range []string{r.ProductID, r.Category, r.Region} {
		if v != "" {
			set++
		}
	}
	return set <= 1
}

// Problem is one bad or unknown parameter and why.
type Problem struct {
	// Param is the parameter's API name, or "body" for a body that is not a JSON object.
	Param string `json:"parameter"`
	// Reason says what is wrong, e.g. `must be an integer from 1 to 365, got "abc"`.
	Reason string `json:"reason"`
}

func (p Problem) String() string { return p.Param + ": " + p.Reason }

// RequestError lists every bad or unknown parameter of a request, in the
// API's parameter order, unknown parameters last in byte order. A handler
// answers it with 400.
type RequestError struct {
	Problems []Problem `json:"problems"`
}

func (e *RequestError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return "invalid request: " + strings.Join(parts, "; ")
}

// maxTextLen bounds the text parameters, which become cache keys.
const maxTextLen = 256

// param is one API parameter: how to read it from text into a Request and
// what makes its value valid.
type param struct {
	name string
	rule string
	// parse stores the value of text in r; false when text is not of the
	// parameter's type.
	parse func(r *Request, text string) bool
	// valid checks the value stored in r.
	valid func(r *Request) bool
	// show formats the value stored in r.
	show func(r *Request) string
}

// params are the API's parameters in documentation order.
var params = []param{
	intParam("days", 1, 365, func(r *Request) *int { return &r.Days }),
	textParam("product_id", func(r *Request) *string { return &r.ProductID }),
	textParam("category", func(r *Request) *string { return &r.Category }),
	textParam("region", func(r *Request) *string { return &r.Region }),
	thresholdParam("min_rating", "must be a finite number", func(float64) bool { return true },
		func(r *Request) **float64 { return &r.MinRating }),
	thresholdParam("max_price", "must be a finite number", func(float64) bool { return true },
		func(r *Request) **float64 { return &r.MaxPrice }),
	thresholdParam("min_discount", "must be a finite number", func(float64) bool { return true },
		func(r *Request) **float64 { return &r.MinDiscount }),
	{
		name:  "model",
		rule:  modelRule(),
		parse: func(r *Request, text string) bool { r.Model = Model(text); return true },
		valid: func(r *Request) bool { return slices.Contains(Models, r.Model) },
		show:  func(r *Request) string { return strconv.Quote(string(r.Model)) },
	},
	intParam("lead_time_days", 1, 365, func(r *Request) *int { return &r.LeadTimeDays }),
	{
		name:  "service_level",
		rule:  "must be a number greater than 0.5 and less than 0.9999",
		parse: func(r *Request, text string) bool { return parseFinite(text, &r.ServiceLevel) },
		valid: func(r *Request) bool { return r.ServiceLevel > 0.5 && r.ServiceLevel < 0.9999 },
		show:  func(r *Request) string { return formatFloat(r.ServiceLevel) },
	},
	thresholdParam("on_hand", "must be a number of units ≥ 0", func(v float64) bool { return v >= 0 },
		func(r *Request) **float64 { return &r.OnHand }),
	intParam("review_days", 0, 365, func(r *Request) *int { return &r.ReviewDays }),
}

// paramIndex maps a parameter's name to its index in params.
var paramIndex = func() map[string]int {
	m := make(map[string]int, len(params))
	for i, p := range params {
		m[p.name] = i
	}
	return m
}()

func intParam(name string, lo, hi int, field func(*Request) *int) param {
	return param{
		name: name,
		rule: fmt.Sprintf("must be an integer from %d to %d", lo, hi),
		parse: func(r *Request, text string) bool {
			n, ok := parseInt(text)
			*field(r) = n
			return ok
		},
		valid: func(r *Request) bool { n := *field(r); return n >= lo && n <= hi },
		show:  func(r *Request) string { return strconv.Itoa(*field(r)) },
	}
}

func textParam(name string, field func(*Request) *string) param {
	return param{
		name:  name,
		rule:  fmt.Sprintf("must be a string of at most %d bytes", maxTextLen),
		parse: func(r *Request, text string) bool { *field(r) = text; return true },
		valid: func(r *Request) bool { return len(*field(r)) <= maxTextLen },
		show:  func(r *Request) string { return fmt.Sprintf("%d bytes", len(*field(r))) },
	}
}

// thresholdParam is an optional number: nil when absent, otherwise finite and ok.
func thresholdParam(name, rule string, ok func(float64) bool, field func(*Request) **float64) param {
	return param{
		name: name,
		rule: rule,
		parse: func(r *Request, text string) bool {
			var v float64
			if !parseFinite(text, &v) {
				return false
			}
			*field(r) = &v
			return true
		},
		valid: func(r *Request) bool {
			v := *field(r)
			return v == nil || (!math.IsNaN(*v) && !math.IsInf(*v, 0) && ok(*v))
		},
		show: func(r *Request) string { return formatFloat(**field(r)) },
	}
}

// parseInt reads a decimal integer, also written as an integral decimal
// ("7.0", "1e2") as JSON encoders may write it; nothing else ("1_0", "0x10",
// "7;DROP TABLE") is an integer.
func parseInt(text string) (int, bool) {
	f, err := decimal.Parse(text)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int(f), true
}

// parseFinite reads a finite decimal number into v.
func parseFinite(text string, v *float64) bool {
	f, err := decimal.Parse(text)
	if err != nil {
		return false
	}
	*v = f
	return true
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Validate checks every field of r and returns a *RequestError listing each
// bad one, or nil.
func (r Request) Validate() error {
	var problems []Problem
	for _, p := range params {
		if !p.valid(&r) {
			problems = append(problems, Problem{p.name, p.rule + ", got " + p.show(&r)})
		}
	}
	if problems != nil {
		return &RequestError{Problems: problems}
	}
	return nil
}

// rawParam is one parameter as given: its name, its text, and how to show
// the text in an error.
type rawParam struct {
	name, text, shown string
	// bad is the reason the value is unusable before parsing, if any.
	bad string
	// notScalar marks a JSON value that is neither a string nor a number.
	notScalar bool
}

// ParseQuery builds a request from the query string of GET /forecast.
// Missing and empty parameters take their defaults. It returns a
// *RequestError naming every bad, repeated or unknown parameter.
func ParseQuery(q url.Values) (Request, error) {
	raws := make([]rawParam, 0, len(q))
	for name, values := range q {
		raw := rawParam{name: name}
		if len(values) > 0 {
			raw.text = values[0]
			raw.shown = strconv.Quote(values[0])
		}
		if len(values) > 1 {
			raw.bad = fmt.Sprintf("given %d times, give it once", len(values))
		}
		raws = append(raws, raw)
	}
	return build(raws)
}

// ParseJSON builds a request from the JSON body of POST /forecast: an object
// with the prototype's field names, the same as the query parameters. A
// value may be a JSON string or number (a number is read as the text of its
// literal); null and an empty string mean not given; an empty body is the
// default request. It returns a *RequestError naming every bad, unknown or
// repeated field, or a body that is not exactly one JSON object.
func ParseJSON(body []byte) (Request, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return DefaultRequest(), nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return Request{}, &RequestError{Problems: []Problem{{"body", "must be a JSON object: " + err.Error()}}}
	}
	if fields == nil { // the body was null
		return Request{}, &RequestError{Problems: []Problem{{"body", "must be a JSON object, got null"}}}
	}
	if name := duplicateName(body); name != "" {
		return Request{}, &RequestError{Problems: []Problem{{name, "given twice, give it once"}}}
	}
	raws := make([]rawParam, 0, len(fields))
	for name, value := range fields {
		raw := rawParam{name: name, shown: string(value)}
		switch value[0] {
		case 'n': // null
			continue
		case '"':
			if err := json.Unmarshal(value, &raw.text); err != nil {
				raw.bad = "is not a valid JSON string: " + err.Error()
			}
		case '{', '[', 't', 'f':
			raw.notScalar = true // no parameter accepts an object, an array or a boolean
		default: // a number: its literal
			raw.text = string(value)
		}
		raws = append(raws, raw)
	}
	return build(raws)
}

// duplicateName returns the first member name given twice in body, a valid JSON object, or "".
// (json.Unmarshal keeps the last of them silently.)
func duplicateName(body []byte) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil { // the opening brace
		return ""
	}
	seen := map[string]bool{}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return ""
		}
		name, _ := key.(string)
		if seen[name] {
			return name
		}
		seen[name] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return ""
		}
	}
	return ""
}

// build starts from the default request, applies every parameter, and
// collects the problems of all of them.
func build(raws []rawParam) (Request, error) {
	r := DefaultRequest()
	var problems []Problem
	known := make([]*rawParam, len(params))
	var unknown []string
	for i := range raws {
		if j, ok := paramIndex[raws[i].name]; ok {
			known[j] = &raws[i]
		} else {
			unknown = append(unknown, raws[i].name)
		}
	}
	for i, p := range params {
		raw := known[i]
		switch {
		case raw == nil || (raw.text == "" && raw.bad == "" && !raw.notScalar):
			continue
		case raw.bad != "":
			problems = append(problems, Problem{p.name, raw.bad})
		case raw.notScalar || !p.parse(&r, raw.text) || !p.valid(&r):
			problems = append(problems, Problem{p.name, p.rule + ", got " + raw.shown})
		}
	}
	slices.Sort(unknown)
	for _, name := range unknown {
		problems = append(problems, Problem{name, "unknown parameter"})
	}
	if problems != nil {
		return Request{}, &RequestError{Problems: problems}
	}
	return r, nil
}
