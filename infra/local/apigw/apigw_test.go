package apigw_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
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

// TestMalformedRequestsGetJSONErrors sends raw requests that net/http refuses before any handler
// runs: through JSONErrors their answers are the API's JSON errors, on a fresh connection and
// after a good request on the same one; good requests pass untouched.
func TestMalformedRequestsGetJSONErrors(t *testing.T) {
	var invoked atomic.Int32
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := &http.Server{Handler: &apigw.Gateway{
		Routes: []apigw.Route{{Method: apigw.AnyMethod, Resource: "/{proxy+}"}},
		Invoke: func(context.Context, []byte) ([]byte, error) {
			invoked.Add(1)
			return json.Marshal(events.APIGatewayProxyResponse{StatusCode: 404, Headers: map[string]string{"Content-Type": "application/json"},
				Body: `{"error":"no such resource","status":404}`})
		},
		Logger: slog.New(slog.DiscardHandler),
	}}
	go func() { _ = server.Serve(apigw.JSONErrors(listener)) }()
	t.Cleanup(func() { _ = server.Close() })

	exchange := func(conn net.Conn, r *bufio.Reader, request string) (*http.Response, map[string]any) {
		t.Helper()
		if _, err := io.WriteString(conn, request); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatalf("%s: %d, body not JSON: %v", strings.TrimSpace(request), resp.StatusCode, err)
		}
		return resp, body
	}
	dial := func() (net.Conn, *bufio.Reader) {
		conn, err := net.Dial("tcp", listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn, bufio.NewReader(conn)
	}
	for _, tc := range []struct {
		request string
		status  int
		want    string
	}{
		{"GET /jobs/%zz HTTP/1.1\r\nHost: api\r\n\r\n", 400, "%zz"},
		{"GET /forecast HTTP/1.1\r\n\r\n", 400, "missing required Host header"},
		{"GET /forecast HTTP/1.1\r\nHost: api\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "Unsupported transfer encoding"},
	} {
		conn, r := dial()
		resp, body := exchange(conn, r, tc.request)
		if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != "application/json" ||
			body["status"] != float64(tc.status) || !strings.Contains(fmt.Sprint(body["error"]), tc.want) {
			t.Errorf("%q: %d %v %v, want %d with %q", tc.request, resp.StatusCode, resp.Header, body, tc.status, tc.want)
		}
	}
	// A good request, then a malformed one on the same connection.
	conn, r := dial()
	if resp, body := exchange(conn, r, "GET /nope HTTP/1.1\r\nHost: api\r\n\r\n"); resp.StatusCode != 404 || body["status"] != float64(404) || invoked.Load() != 1 {
		t.Fatalf("good request: %d %v (invoked %d)", resp.StatusCode, body, invoked.Load())
	}
	if resp, body := exchange(conn, r, "GET /jobs/%zz HTTP/1.1\r\nHost: api\r\n\r\n"); resp.StatusCode != 400 || body["status"] != float64(400) || invoked.Load() != 1 {
		t.Fatalf("malformed request after a good one: %d %v", resp.StatusCode, body)
	}
}

// TestAPIKey: with a key, every route but those exempted answers API Gateway's 403 without it
// or with another one, and reaches the function with it.
func TestAPIKey(t *testing.T) {
	server := httptest.NewServer(&apigw.Gateway{
		Routes: []apigw.Route{{Method: "GET", Resource: "/", NoAPIKey: true}, {Method: "GET", Resource: "/forecast"}},
		Invoke: func(context.Context, []byte) ([]byte, error) {
			return json.Marshal(events.APIGatewayProxyResponse{StatusCode: 200, Body: "{}"})
		},
		APIKey: "secret",
		Logger: slog.New(slog.DiscardHandler),
	})
	t.Cleanup(server.Close)
	for _, tc := range []struct {
		path, key string
		want      int
	}{{"/forecast", "", 403}, {"/forecast", "wrong", 403}, {"/forecast", "secret", 200}, {"/", "", 200}} {
		req, _ := http.NewRequest("GET", server.URL+tc.path, nil)
		if tc.key != "" {
			req.Header.Set("x-api-key", tc.key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.want || (tc.want == 403 && body["message"] != "Forbidden") {
			t.Errorf("GET %s with key %q: %d %v, want %d", tc.path, tc.key, resp.StatusCode, body, tc.want)
		}
	}
}
