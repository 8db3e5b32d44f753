package apigw_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stockcast/stockcast/infra/local/apigw"
)

func gateway(t *testing.T, invoke apigw.Invoke) *httptest.Server {
	t.Helper()
	server := httptest.NewServer(&apigw.Gateway{
		Routes:           []apigw.Route{{Method: "GET", Resource: "/forecast"}, {Method: "POST", Resource: "/forecast"}, {Method: "GET", Resource: "/jobs/{id}"}},
		Invoke:           invoke,
		Stage:            "v1",
		BinaryMediaTypes: []string{"image/png"},
		Logger:           slog.New(slog.DiscardHandler),
	})
	t.Cleanup(server.Close)
	return server
}

func TestProxyEventAndResponse(t *testing.T) {
	var got events.APIGatewayProxyRequest
	server := gateway(t, func(_ context.Context, payload []byte) ([]byte, error) {
		if err := json.Unmarshal(payload, &got); err != nil {
			return nil, err
		}
		return json.Marshal(events.APIGatewayProxyResponse{
			StatusCode: 201, Headers: map[string]string{"Content-Type": "image/png"},
			Body: base64.StdEncoding.EncodeToString([]byte("\x89PNG")), IsBase64Encoded: true,
		})
	})
	resp, err := http.Get(server.URL + "/jobs/abc-1?x=1&x=2")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || string(body) != "\x89PNG" || resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("response %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if got.Resource != "/jobs/{id}" || got.PathParameters["id"] != "abc-1" || got.HTTPMethod != "GET" ||
		got.QueryStringParameters["x"] != "2" || strings.Join(got.MultiValueQueryStringParameters["x"], ",") != "1,2" ||
		got.RequestContext.Stage != "v1" || got.RequestContext.RequestID == "" {
		t.Errorf("event %+v", got)
	}

	resp, err = http.Post(server.URL+"/forecast", "application/json", strings.NewReader(`{"days":3}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got.Body != `{"days":3}` || got.IsBase64Encoded {
		t.Errorf("POST body reached the function as %q (base64 %v)", got.Body, got.IsBase64Encoded)
	}
}

func TestUnknownRoutesAndFunctionErrors(t *testing.T) {
	server := gateway(t, func(context.Context, []byte) ([]byte, error) { return nil, errors.New("crashed") })
	for path, want := range map[string]int{"/nope": 403, "/jobs": 403, "/forecast": 502} {
		resp, err := http.Get(server.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

func TestQueryValuesReachTheFunctionAsSent(t *testing.T) {
	var got events.APIGatewayProxyRequest
	server := gateway(t, func(_ context.Context, payload []byte) ([]byte, error) {
		if err := json.Unmarshal(payload, &got); err != nil {
			return nil, err
		}
		return json.Marshal(events.APIGatewayProxyResponse{StatusCode: 200})
	})
	resp, err := http.Get(server.URL + "/forecast?days=7;DROP%20TABLE&product_id=P+1&&flag")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got.QueryStringParameters["days"] != "7;DROP TABLE" || got.QueryStringParameters["product_id"] != "P 1" ||
		got.MultiValueQueryStringParameters["flag"][0] != "" || len(got.QueryStringParameters) != 3 {
		t.Errorf("query parameters %q", got.MultiValueQueryStringParameters)
	}
	resp, err = http.Get(server.URL + "/forecast?days=%zz")
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 400 || !strings.Contains(body["message"], "days") {
		t.Errorf("bad escape: %d %v %v", resp.StatusCode, body, err)
	}
	resp.Body.Close()
}

func TestRootAndGreedyProxyRoutes(t *testing.T) {
	var got []events.APIGatewayProxyRequest
	server := httptest.NewServer(&apigw.Gateway{
		Routes: []apigw.Route{{Method: "GET", Resource: "/"}, {Method: "GET", Resource: "/jobs/{id}"}, {Method: apigw.AnyMethod, Resource: "/{proxy+}"}},
		Invoke: func(_ context.Context, payload []byte) ([]byte, error) {
			var req events.APIGatewayProxyRequest
			if err := json.Unmarshal(payload, &req); err != nil {
				return nil, err
			}
			got = append(got, req)
			return json.Marshal(events.APIGatewayProxyResponse{StatusCode: 200})
		},
		Stage:  "v1",
		Logger: slog.New(slog.DiscardHandler),
	})
	t.Cleanup(server.Close)
	for _, tc := range []struct{ method, path, resource, proxy string }{
		{"GET", "/", "/", ""},
		{"GET", "/jobs/j1", "/jobs/{id}", ""},
		{"DELETE", "/jobs/j1", "/{proxy+}", "jobs/j1"},
		{"GET", "/no/such/thing", "/{proxy+}", "no/such/thing"},
		{"POST", "/", "", ""}, // no route: the root has only GET
	} {
		req, _ := http.NewRequest(tc.method, server.URL+tc.path, nil)
		before := len(got)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if tc.resource == "" {
			if resp.StatusCode != http.StatusForbidden || len(got) != before {
				t.Errorf("%s %s reached the function (%d)", tc.method, tc.path, resp.StatusCode)
			}
			continue
		}
		if len(got) != before+1 {
			t.Fatalf("%s %s did not reach the function (%d)", tc.method, tc.path, resp.StatusCode)
		}
		r := got[len(got)-1]
		if r.Resource != tc.resource || r.PathParameters["proxy"] != tc.proxy || r.Path != tc.path {
			t.Errorf("%s %s: resource %q, proxy %q, path %q", tc.method, tc.path, r.Resource, r.PathParameters["proxy"], r.Path)
		}
	}
}
