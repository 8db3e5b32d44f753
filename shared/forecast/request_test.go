package forecast

import (
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stockcast/stockcast/shared/series"
)

func TestDefaultRequest(t *testing.T) {
	r := DefaultRequest()
	want := Request{Days: 7, Model: ModelAuto, LeadTimeDays: 5, ServiceLevel: 0.95, ReviewDays: 2}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("DefaultRequest() = %+v, want %+v", r, want)
	}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, parse := range []func() (Request, error){
		func() (Request, error) { return ParseQuery(url.Values{}) },
		func() (Request, error) { return ParseJSON(nil) },
		func() (Request, error) { return ParseJSON([]byte(" {} ")) },
	} {
		got, err := parse()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("empty request = %+v, %v; want the defaults", got, err)
		}
	}
}

// everyParam sets every parameter to a valid non-default value.
const everyParam = "days=30&product_id=P0002&category=Home&region=East&min_rating=4.5&max_price=99.5&min_discount=10" +
	"&model=lstm&lead_time_days=12&service_level=0.99&on_hand=40&review_days=0"

var everyParamRequest = Request{
	Days: 30, ProductID: "P0002", Category: "Home", Region: "East",
	MinRating: ptr(4.5), MaxPrice: ptr(99.5), MinDiscount: ptr(10),
	Model: ModelLSTM, LeadTimeDays: 12, ServiceLevel: 0.99, OnHand: ptr(40), ReviewDays: 0,
}

func TestParseEveryParameter(t *testing.T) {
	q, err := url.ParseQuery(everyParam)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseQuery(q)
	if err != nil || !reflect.DeepEqual(got, everyParamRequest) {
		t.Fatalf("ParseQuery = %+v, %v; want %+v", got, err, everyParamRequest)
	}
	body := `{"days": 30, "product_id": "P0002", "category": "Home", "region": "East", "min_rating": 4.5,
		"max_price": "99.5", "min_discount": 10, "model": "lstm", "lead_time_days": 12.0,
		"service_level": 0.99, "on_hand": 4e1, "review_days": 0}`
	got, err = ParseJSON([]byte(body))
	if err != nil || !reflect.DeepEqual(got, everyParamRequest) {
		t.Fatalf("ParseJSON = %+v, %v; want %+v", got, err, everyParamRequest)
	}
}

// TestParameterValidation checks each parameter's accepted and refused values
// through both constructors, and the exact message of a refusal.
func TestParameterValidation(t *testing.T) {
	cases := []struct {
		param, value string
		want         func(*Request) // nil: refused
		reason       string
	}{
		{"days", "1", func(r *Request) { r.Days = 1 }, ""},
		{"days", "365", func(r *Request) { r.Days = 365 }, ""},
		{"days", "0", nil, `must be an integer from 1 to 365, got "0"`},
		{"days", "366", nil, `must be an integer from 1 to 365, got "366"`},
		{"days", "abc", nil, `must be an integer from 1 to 365, got "abc"`},
		{"days", "7.5", nil, `must be an integer from 1 to 365, got "7.5"`},
		{"days", "-3", nil, `must be an integer from 1 to 365, got "-3"`},
		{"days", "1e300", nil, `must be an integer from 1 to 365, got "1e300"`},
		{"days", "1_0", nil, `must be an integer from 1 to 365, got "1_0"`},
		{"days", "0x10", nil, `must be an integer from 1 to 365, got "0x10"`},
		{"days", "7;DROP TABLE", nil, `must be an integer from 1 to 365, got "7;DROP TABLE"`},
		{"days", " 7", nil, `must be an integer from 1 to 365, got " 7"`},
		{"days", "7.0", func(r *Request) { r.Days = 7 }, ""},
		{"product_id", "P0001", func(r *Request) { r.ProductID = "P0001" }, ""},
		{"product_id", strings.Repeat("x", 257), nil, `must be a string of at most 256 bytes, got "` + strings.Repeat("x", 257) + `"`},
		{"category", "Home & Garden", func(r *Request) { r.Category = "Home & Garden" }, ""},
		{"category", strings.Repeat("é", 129), nil, `must be a string of at most 256 bytes, got "` + strings.Repeat("é", 129) + `"`},
		{"region", "North", func(r *Request) { r.Region = "North" }, ""},
		{"region", strings.Repeat("r", 300), nil, `must be a string of at most 256 bytes, got "` + strings.Repeat("r", 300) + `"`},
		{"min_rating", "3.5", func(r *Request) { r.MinRating = ptr(3.5) }, ""},
		{"min_rating", "-1", func(r *Request) { r.MinRating = ptr(-1) }, ""},
		{"min_rating", "NaN", nil, `must be a finite number, got "NaN"`},
		{"min_rating", "four", nil, `must be a finite number, got "four"`},
		{"max_price", "0", func(r *Request) { r.MaxPrice = ptr(0) }, ""},
		{"max_price", "Inf", nil, `must be a finite number, got "Inf"`},
		{"min_discount", "12.5", func(r *Request) { r.MinDiscount = ptr(12.5) }, ""},
		{"min_discount", "10%", nil, `must be a finite number, got "10%"`},
		{"model", "trend", func(r *Request) { r.Model = ModelTrend }, ""},
		{"model", "lstm", func(r *Request) { r.Model = ModelLSTM }, ""},
		{"model", "blend", func(r *Request) { r.Model = ModelBlend }, ""},
		{"model", "prophet", nil, `must be one of auto, blend, trend, lstm, ets, theta, croston, tsb, naive, snaive, mean, got "prophet"`},
		{"model", "Trend", nil, `must be one of auto, blend, trend, lstm, ets, theta, croston, tsb, naive, snaive, mean, got "Trend"`},
		{"lead_time_days", "1", func(r *Request) { r.LeadTimeDays = 1 }, ""},
		{"lead_time_days", "365", func(r *Request) { r.LeadTimeDays = 365 }, ""},
		{"lead_time_days", "0", nil, `must be an integer from 1 to 365, got "0"`},
		{"lead_time_days", "2.5", nil, `must be an integer from 1 to 365, got "2.5"`},
		{"service_level", "0.5001", func(r *Request) { r.ServiceLevel = 0.5001 }, ""},
		{"service_level", "0.9998", func(r *Request) { r.ServiceLevel = 0.9998 }, ""},
		{"service_level", "0.5", nil, `must be a number greater than 0.5 and less than 0.9999, got "0.5"`},
		{"service_level", "0.9999", nil, `must be a number greater than 0.5 and less than 0.9999, got "0.9999"`},
		{"service_level", "95", nil, `must be a number greater than 0.5 and less than 0.9999, got "95"`},
		{"service_level", "high", nil, `must be a number greater than 0.5 and less than 0.9999, got "high"`},
		{"on_hand", "0", func(r *Request) { r.OnHand = ptr(0) }, ""},
		{"on_hand", "12.5", func(r *Request) { r.OnHand = ptr(12.5) }, ""},
		{"on_hand", "-1", nil, `must be a number of units ≥ 0, got "-1"`},
		{"on_hand", "+Inf", nil, `must be a number of units ≥ 0, got "+Inf"`},
		{"on_hand", "1_000", nil, `must be a number of units ≥ 0, got "1_000"`},
		{"on_hand", "1e3", func(r *Request) { r.OnHand = ptr(1000) }, ""},
		{"service_level", "0x1p-1", nil, `must be a number greater than 0.5 and less than 0.9999, got "0x1p-1"`},
		{"min_rating", "infinity", nil, `must be a finite number, got "infinity"`},
		{"max_price", "10 ", nil, `must be a finite number, got "10 "`},
		{"review_days", "0", func(r *Request) { r.ReviewDays = 0 }, ""},
		{"review_days", "365", func(r *Request) { r.ReviewDays = 365 }, ""},
		{"review_days", "-1", nil, `must be an integer from 0 to 365, got "-1"`},
		{"review_days", "two", nil, `must be an integer from 0 to 365, got "two"`},
	}
	for _, c := range cases {
		t.Run(c.param+"="+c.value[:min(len(c.value), 12)], func(t *testing.T) {
			body, err := json.Marshal(map[string]string{c.param: c.value})
			if err != nil {
				t.Fatal(err)
			}
			get, getErr := ParseQuery(url.Values{c.param: {c.value}})
			post, postErr := ParseJSON(body)
			for _, res := range []struct {
				form string
				r    Request
				err  error
			}{{"GET", get, getErr}, {"POST", post, postErr}} {
				if c.want != nil {
					want := apiRequest(c.want)
					if res.err != nil || !reflect.DeepEqual(res.r, want) {
						t.Fatalf("%s: got %+v, %v; want %+v", res.form, res.r, res.err, want)
					}
					continue
				}
				var re *RequestError
				if !errors.As(res.err, &re) || len(re.Problems) != 1 {
					t.Fatalf("%s: got %v, want one problem", res.form, res.err)
				}
				if p := re.Problems[0]; p.Param != c.param || p.Reason != c.reason {
					t.Fatalf("%s: problem %q, want %q", res.form, p, c.param+": "+c.reason)
				}
			}
		})
	}
}

func TestEveryProblemIsListed(t *testing.T) {
	q, err := url.ParseQuery("days=abc&colour=red&model=x&service_level=2&on_hand=-5&zzz=1&aaa=&product_id=P1&days_=3")
	if err != nil {
		t.Fatal(err)
	}
	_, err = ParseQuery(q)
	var re *RequestError
	if !errors.As(err, &re) {
		t.Fatalf("got %v, want a *RequestError", err)
	}
	want := []Problem{
		{"days", `must be an integer from 1 to 365, got "abc"`},
		{"model", `must be one of auto, blend, trend, lstm, ets, theta, croston, tsb, naive, snaive, mean, got "x"`},
		{"service_level", `must be a number greater than 0.5 and less than 0.9999, got "2"`},
		{"on_hand", `must be a number of units ≥ 0, got "-5"`},
		{"aaa", "unknown parameter"},
		{"colour", "unknown parameter"},
		{"days_", "unknown parameter"},
		{"zzz", "unknown parameter"},
	}
	if !reflect.DeepEqual(re.Problems, want) {
		t.Fatalf("problems\n%v\nwant\n%v", re.Problems, want)
	}
	wantMsg := `invalid request: days: must be an integer from 1 to 365, got "abc"; model: must be one of auto, blend, trend, lstm, ets, theta, croston, tsb, naive, snaive, mean, got "x"; ` +
		`service_level: must be a number greater than 0.5 and less than 0.9999, got "2"; on_hand: must be a number of units ≥ 0, got "-5"; ` +
		`aaa: unknown parameter; colour: unknown parameter; days_: unknown parameter; zzz: unknown parameter`
	if err.Error() != wantMsg {
		t.Fatalf("message\n%s\nwant\n%s", err, wantMsg)
	}
}

func TestParseQueryRepeatedAndEmpty(t *testing.T) {
	_, err := ParseQuery(url.Values{"days": {"3", "4"}, "region": {"North", "North"}})
	var re *RequestError
	if !errors.As(err, &re) || !reflect.DeepEqual(re.Problems, []Problem{
		{"days", "given 2 times, give it once"}, {"region", "given 2 times, give it once"},
	}) {
		t.Fatalf("got %v", err)
	}
	r, err := ParseQuery(url.Values{"days": {""}, "product_id": {""}, "on_hand": {""}, "model": {""}})
	if err != nil || !reflect.DeepEqual(r, DefaultRequest()) {
		t.Fatalf("empty values: got %+v, %v; want the defaults", r, err)
	}
}

func TestParseJSONShapes(t *testing.T) {
	cases := []struct {
		body string
		want []Problem // nil: accepted as the default request plus product_id P1 where given
	}{
		{`{"product_id": "P1", "on_hand": null, "days": null}`, nil},
		{`{"product_id": "P1", "days": ""}`, nil},
		{`[]`, []Problem{{"body", "must be a JSON object: json: cannot unmarshal array into Go value of type map[string]json.RawMessage"}}},
		{`null`, []Problem{{"body", "must be a JSON object, got null"}}},
		{`{"days": 3`, []Problem{{"body", "must be a JSON object: unexpected end of JSON input"}}},
		{`{"days": 3} x`, []Problem{{"body", "must be a JSON object: invalid character 'x' after top-level value"}}},
		{`{"days": 3} {}`, []Problem{{"body", "must be a JSON object: invalid character '{' after top-level value"}}},
		{`{"days": 3, "product_id": "P1", "days": 400}`, []Problem{{"days", "given twice, give it once"}}},
		{`{"product_id": "P1", "product_id": "P1"}`, []Problem{{"product_id", "given twice, give it once"}}},
		{`{"colour": 1, "colour": 2}`, []Problem{{"colour", "given twice, give it once"}}},
		{`{"days": [3], "product_id": {"id": 1}, "on_hand": true, "colour": "red"}`, []Problem{
			{"days", "must be an integer from 1 to 365, got [3]"},
			{"product_id", `must be a string of at most 256 bytes, got {"id": 1}`},
			{"on_hand", "must be a number of units ≥ 0, got true"},
			{"colour", "unknown parameter"},
		}},
		{`{"days": 0, "model": 3}`, []Problem{
			{"days", "must be an integer from 1 to 365, got 0"},
			{"model", "must be one of auto, blend, trend, lstm, ets, theta, croston, tsb, naive, snaive, mean, got 3"},
		}},
	}
	for _, c := range cases {
		r, err := ParseJSON([]byte(c.body))
		if c.want == nil {
			want := DefaultRequest()
			if strings.Contains(c.body, "P1") {
				want.ProductID = "P1"
			}
			if err != nil || !reflect.DeepEqual(r, want) {
				t.Errorf("%s: got %+v, %v; want %+v", c.body, r, err, want)
			}
			continue
		}
		var re *RequestError
		if !errors.As(err, &re) || !reflect.DeepEqual(re.Problems, c.want) {
			t.Errorf("%s: got %v, want problems %v", c.body, err, c.want)
		}
	}
}

func TestValidate(t *testing.T) {
	r := Request{Days: 0, Model: "x", LeadTimeDays: 400, ServiceLevel: 1, OnHand: ptr(-2), ReviewDays: -1,
		MinRating: ptr(math.NaN()), ProductID: strings.Repeat("p", 257)}
	err := r.Validate()
	var re *RequestError
	if !errors.As(err, &re) {
		t.Fatalf("got %v", err)
	}
	want := []Problem{
		{"days", "must be an integer from 1 to 365, got 0"},
		{"product_id", "must be a string of at most 256 bytes, got 257 bytes"},
		{"min_rating", "must be a finite number, got NaN"},
		{"model", `must be one of auto, blend, trend, lstm, ets, theta, croston, tsb, naive, snaive, mean, got "x"`},
		{"lead_time_days", "must be an integer from 1 to 365, got 400"},
		{"service_level", "must be a number greater than 0.5 and less than 0.9999, got 1"},
		{"on_hand", "must be a number of units ≥ 0, got -2"},
		{"review_days", "must be an integer from 0 to 365, got -1"},
	}
	if !reflect.DeepEqual(re.Problems, want) {
		t.Fatalf("problems\n%v\nwant\n%v", re.Problems, want)
	}
}

func TestRequestSeries(t *testing.T) {
	cases := []struct {
		change   func(*Request)
		key      string
		standard bool
	}{
		{nil, series.Total, true},
		{func(r *Request) { r.ProductID = "P0001" }, "product/P0001", true},
		{func(r *Request) { r.Category = "Home" }, "category/Home", true},
		{func(r *Request) { r.Region = "North" }, "region/North", true},
		{func(r *Request) { r.ProductID, r.Region = "P0001", "North" }, "filter?product_id=P0001&region=North", false},
		{func(r *Request) { r.Category, r.Region = "Home", "North" }, "filter?category=Home&region=North", false},
		{func(r *Request) { r.MinRating = ptr(4) }, "filter?min_rating=4", false},
		{func(r *Request) { r.ProductID, r.MaxPrice = "P0001", ptr(100) }, "filter?max_price=100&product_id=P0001", false},
		{func(r *Request) { r.MinDiscount = ptr(0) }, "filter?min_discount=0", false},
	}
	for _, c := range cases {
		r := apiRequest(c.change)
		if r.SeriesKey() != c.key || r.Standard() != c.standard {
			t.Errorf("%+v: key %q standard %v, want %q %v", r.Filter(), r.SeriesKey(), r.Standard(), c.key, c.standard)
		}
	}
}

// FuzzParse checks the two constructors against each other: a query string
// and the JSON object of the same parameters as strings give the same request
// or problems about the same parameters, and every success is valid.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"", everyParam, "days=abc&colour=red", "days=1&days=2", "service_level=0.9999", "on_hand=-0",
		"min_rating=1e309", "days=7.0", "model=&days=", "product_id=%00", "days=0x10", "review_days=+3",
		"days=1_0", "days=7%3BDROP+TABLE", "on_hand=1_000", "service_level=0x1p-1", "min_rating=infinity",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, query string) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		get, getErr := ParseQuery(q)
		if getErr == nil {
			if err := get.Validate(); err != nil {
				t.Fatalf("ParseQuery(%q) accepted an invalid request: %v", query, err)
			}
		} else if re := (*RequestError)(nil); !errors.As(getErr, &re) || len(re.Problems) == 0 {
			t.Fatalf("ParseQuery(%q): %v is not a *RequestError with problems", query, getErr)
		}
		fields := map[string]string{}
		for name, values := range q {
			if len(values) != 1 || !utf8.ValidString(name) || !utf8.ValidString(values[0]) {
				return // repetition and invalid UTF-8 have no JSON form
			}
			fields[name] = values[0]
		}
		body, err := json.Marshal(fields)
		if err != nil {
			t.Fatal(err)
		}
		post, postErr := ParseJSON(body)
		if (getErr == nil) != (postErr == nil) {
			t.Fatalf("%q: GET %v, POST %v", query, getErr, postErr)
		}
		if getErr == nil && !reflect.DeepEqual(get, post) {
			t.Fatalf("%q: GET %+v, POST %+v", query, get, post)
		}
		if getErr != nil && !reflect.DeepEqual(problemParams(getErr), problemParams(postErr)) {
			t.Fatalf("%q: GET %v, POST %v", query, getErr, postErr)
		}
	})
}

func problemParams(err error) []string {
	var re *RequestError
	errors.As(err, &re)
	var out []string
	for _, p := range re.Problems {
		out = append(out, p.Param)
	}
	return out
}

// FuzzParseJSON feeds arbitrary bodies to ParseJSON: it never panics, every
// success is valid, and every failure is a *RequestError with problems.
func FuzzParseJSON(f *testing.F) {
	for _, seed := range []string{
		"", "{}", "null", "[]", `{"days": 3}`, `{"days": "3", "model": "trend"}`, `{"days": 1e400}`,
		`{"on_hand": -0.0}`, `{"product_id": 12, "min_rating": "4.5"}`, `{"days": true}`, `{"x": {}}`,
		`{"days": 3, "days": 400}`, `{"days": 3, "days": 3}`, `{"days": "1_0"}`, `{"days": 3}{}`, `{"service_level": 0.95, "lead_time_days": 7.0}`, `"days"`, `{"days": null}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseJSON(body)
		if err == nil {
			if err := r.Validate(); err != nil {
				t.Fatalf("ParseJSON(%q) accepted an invalid request: %v", body, err)
			}
			return
		}
		var re *RequestError
		if !errors.As(err, &re) || len(re.Problems) == 0 {
			t.Fatalf("ParseJSON(%q): %v is not a *RequestError with problems", body, err)
		}
	})
}

// apiRequest is DefaultRequest with a change, as the API parses it.
func apiRequest(change func(*Request)) Request {
	r := DefaultRequest()
	if change != nil {
		change(&r)
	}
	return r
}
