package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/handlers/handlertest"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stockcast/stockcast/shared/forecast"
	"github.com/stockcast/stockcast/shared/handlers/api"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
)

func get(path string, query map[string]string) events.APIGatewayProxyRequest {
	return events.APIGatewayProxyRequest{HTTPMethod: http.MethodGet, Path: path, Resource: path, QueryStringParameters: query}
}

func call(t *testing.T, h *api.Handler, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	t.Helper()
	resp, err := h.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.HTTPMethod, req.Path, err)
	}
	return resp
}

func TestForecastAPIBeforeAnyModel(t *testing.T) {
	e := handlertest.NewEnv(t)
	h := api.New(e.Store, handlertest.Logger(t))
	resp := call(t, h, get("/forecast", map[string]string{"product_id": "P0001"}))
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(resp.Body, "uploads/") {
		t.Errorf("before any model: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := call(t, h, get("/health", nil)); resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, "waiting_for_data") {
		t.Errorf("health before any model: %d %s", resp.StatusCode, resp.Body)
	}
}

func TestForecastAPIServesCachesAndReloadsByETag(t *testing.T) {
	e := handlertest.NewEnv(t)
	t0 := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	first := handlertest.Train(t, e, "v1", handlertest.Testdata(t, "small_dataset.csv"), t0)
	h := api.New(e.Store, handlertest.Logger(t))

	resp := call(t, h, get("/forecast", map[string]string{"product_id": "P0001", "days": "7", "on_hand": "40"}))
	if resp.StatusCode != http.StatusOK || resp.Headers[api.ModelVersionHeader] != first.Version {
		t.Fatalf("forecast: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	var answer forecast.Response
	if err := json.Unmarshal([]byte(resp.Body), &answer); err != nil {
		t.Fatal(err)
	}
	if len(answer.Days) != 7 || answer.Days[0].Date.Format(time.DateOnly) != "2024-03-01" {
		t.Errorf("days %+v", answer.Days)
	}
	// The default model is the refit's backtest selection, which the response shows.
	if answer.Model != forecast.ModelAuto || answer.Selection == nil || answer.Selection.Source != forecast.SelectionPrecomputed ||
		len(answer.Served) == 0 || answer.Served[0].Backtest == nil || answer.Selection.CalibrationErrors == 0 {
		t.Errorf("model %s selection %+v served %+v", answer.Model, answer.Selection, answer.Served)
	}

	// The same manifest: one HEAD, no artifact read.
	gets, heads := e.Server.Requests("GetObject"), e.Server.Requests("HeadObject")
	for range 3 {
		if resp := call(t, h, get("/forecast", map[string]string{"category": "Home"})); resp.StatusCode != http.StatusOK {
			t.Fatalf("warm forecast: %d %s", resp.StatusCode, resp.Body)
		}
	}
	if got := e.Server.Requests("GetObject") - gets; got != 0 {
		t.Errorf("%d objects read while the manifest was unchanged, want 0", got)
	}
	if got := e.Server.Requests("HeadObject") - heads; got != 3 {
		t.Errorf("%d HEAD requests for 3 invocations, want 3", got)
	}

	// A new version is served by the same warm handler.
	merged := append(handlertest.Testdata(t, "small_dataset.csv"), bytes.SplitN(handlertest.Testdata(t, "uploads/ok_next_days.csv"), []byte("\n"), 2)[1]...)
	second := handlertest.Train(t, e, "v2", merged, t0.Add(time.Hour))
	resp = call(t, h, get("/forecast", map[string]string{"product_id": "P0001"}))
	if resp.Headers[api.ModelVersionHeader] != second.Version {
		t.Fatalf("after publish: version %q, want %q", resp.Headers[api.ModelVersionHeader], second.Version)
	}
	if err := json.Unmarshal([]byte(resp.Body), &answer); err != nil || answer.Days[0].Date.Format(time.DateOnly) != "2024-03-03" {
		t.Errorf("new model's first day %v (%v)", answer.Days[0].Date, err)
	}

	// A published version whose artifact is broken: the previous one keeps serving, and says so.
	manifest, obj, err := pipeline.ReadManifest(context.Background(), e.Store)
	if err != nil {
		t.Fatal(err)
	}
	broken := e.Put("models/groups/broken.json", []byte(`{"format":"nonsense"}`))
	manifest.Version, manifest.Groups = "broken", &pipeline.Artifact{Key: "models/groups/broken.json", ETag: broken.ETag}
	if _, err := pipeline.WriteManifest(context.Background(), e.Store, manifest, obj.ETag); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		resp = call(t, h, get("/forecast", map[string]string{"product_id": "P0001"}))
		if resp.StatusCode != http.StatusOK || resp.Headers[api.ModelVersionHeader] != second.Version || resp.Headers[api.ReloadErrorHeader] == "" {
			t.Errorf("with a broken new version: %d %v", resp.StatusCode, resp.Headers)
		}
	}
	health := call(t, h, get("/health", nil))
	if !strings.Contains(health.Body, `"reload_error"`) || !strings.Contains(health.Body, second.Version) {
		t.Errorf("health does not report the failed reload: %s", health.Body)
	}
}

func TestForecastAPIRequests(t *testing.T) {
	e := handlertest.NewEnv(t)
	out := handlertest.Train(t, e, "v1", handlertest.Testdata(t, "small_dataset.csv"), time.Now())
	h := api.New(e.Store, handlertest.Logger(t))
	for _, tc := range []struct {
		name   string
		req    events.APIGatewayProxyRequest
		status int
		want   string
	}{
		{"POST body", events.APIGatewayProxyRequest{HTTPMethod: http.MethodPost, Path: "/forecast", Body: `{"product_id":"P0002","days":3,"model":"trend"}`}, 200, `"model":"trend"`},
		{"every bad parameter named", get("/forecast", map[string]string{"days": "abc", "service_level": "2", "colour": "red"}), 400, "colour"},
		{"no matching rows", get("/forecast", map[string]string{"product_id": "NOPE"}), 404, "NOPE"},
		{"unknown path", get("/nope", nil), 404, "no such resource"},
		{"wrong method", events.APIGatewayProxyRequest{HTTPMethod: http.MethodDelete, Path: "/forecast"}, 405, "DELETE"},
		{"job", events.APIGatewayProxyRequest{HTTPMethod: http.MethodGet, Path: "/jobs/v1", PathParameters: map[string]string{"id": "v1"}}, 200, `"status":"succeeded"`},
		{"unknown job", events.APIGatewayProxyRequest{HTTPMethod: http.MethodGet, Path: "/jobs/nope", PathParameters: map[string]string{"id": "nope"}}, 404, "no job nope"},
		{"health", get("/health", nil), 200, out.Version},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := call(t, h, tc.req)
			if resp.StatusCode != tc.status || !strings.Contains(resp.Body, tc.want) {
				t.Errorf("%d %s, want %d containing %q", resp.StatusCode, resp.Body, tc.status, tc.want)
			}
		})
	}
	t.Run("400 names every bad parameter", func(t *testing.T) {
		resp := call(t, h, get("/forecast", map[string]string{"days": "abc", "service_level": "2", "colour": "red"}))
		for _, param := range []string{"days", "service_level", "colour"} {
			if !strings.Contains(resp.Body, param) {
				t.Errorf("400 body %s does not name %s", resp.Body, param)
			}
		}
	})
	t.Run("plot", func(t *testing.T) {
		resp := call(t, h, get("/forecast/plot", map[string]string{"product_id": "P0001"}))
		if resp.StatusCode != 200 || !resp.IsBase64Encoded || resp.Headers["Content-Type"] != "image/png" {
			t.Fatalf("plot: %d %v", resp.StatusCode, resp.Headers)
		}
		data, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("not a PNG: %v", err)
		}
		if b := img.Bounds(); b.Dx() != forecast.PlotWidth || b.Dy() != forecast.PlotHeight {
			t.Errorf("plot is %dx%d, want %dx%d", b.Dx(), b.Dy(), forecast.PlotWidth, forecast.PlotHeight)
		}
	})
}

func TestAColdAPIServesThePublishedModelWhateverMergedSince(t *testing.T) {
	e := handlertest.NewEnv(t)
	t0 := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	published := handlertest.Train(t, e, "v1", handlertest.Testdata(t, "small_dataset.csv"), t0)
	// A merge whose training failed (or never started): the dataset moved on, the manifest did not.
	merged := append(handlertest.Testdata(t, "small_dataset.csv"), bytes.SplitN(handlertest.Testdata(t, "uploads/ok_next_days.csv"), []byte("\n"), 2)[1]...)
	e.Put(shards.SingleKey, merged)
	e.Put(shards.SingleKey, append(merged, "2024-03-05,P0001,1,Electronics,North,10,0,4\n"...))

	cold := api.New(e.Store, handlertest.Logger(t))
	resp := call(t, cold, get("/forecast", map[string]string{"product_id": "P0001"}))
	if resp.StatusCode != http.StatusOK || resp.Headers[api.ModelVersionHeader] != published.Version || resp.Headers[api.ReloadErrorHeader] != "" {
		t.Fatalf("a fresh instance after two merges: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	var answer forecast.Response
	if err := json.Unmarshal([]byte(resp.Body), &answer); err != nil || answer.Days[0].Date.Format(time.DateOnly) != "2024-03-01" {
		t.Errorf("the published model's data ends 2024-02-29; first day %v (%v)", answer.Days, err)
	}
}

func TestTheAPIServesTheNewestReadableManifestAndRetriesTheDamagedOne(t *testing.T) {
	ctx := context.Background()
	e := handlertest.NewEnv(t)
	t0 := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	handlertest.Train(t, e, "v1", handlertest.Testdata(t, "small_dataset.csv"), t0)
	second := handlertest.Train(t, e, "v2", handlertest.Testdata(t, "small_dataset.csv"), t0.Add(time.Hour))
	now := t0.Add(2 * time.Hour)
	clock := func() time.Time { return now }
	warm := api.New(e.Store, handlertest.Logger(t))
	warm.Now = clock
	if resp := call(t, warm, get("/forecast", map[string]string{"product_id": "P0001"})); resp.Headers[api.ModelVersionHeader] != second.Version {
		t.Fatalf("before the damage: %v", resp.Headers)
	}
	damaged := e.Put(pipeline.ManifestKey, []byte("garbage {"))

	cold := api.New(e.Store, handlertest.Logger(t))
	cold.Now = clock
	for name, h := range map[string]*api.Handler{"warm": warm, "cold": cold} {
		resp := call(t, h, get("/forecast", map[string]string{"product_id": "P0001"}))
		if resp.StatusCode != http.StatusOK || resp.Headers[api.ModelVersionHeader] != second.Version ||
			!strings.Contains(resp.Headers[api.ReloadErrorHeader], "damaged manifest") {
			t.Errorf("%s instance over a damaged manifest: %d %v %s", name, resp.StatusCode, resp.Headers, resp.Body)
		}
		health := call(t, h, get("/health", nil))
		if !strings.Contains(health.Body, `"reload_error"`) || !strings.Contains(health.Body, "attempt 1") {
			t.Errorf("%s health: %s", name, health.Body)
		}
	}

	// Within the backoff the damaged manifest is not read again; after it, it is.
	gets := e.Server.Requests("GetObject")
	call(t, warm, get("/forecast", map[string]string{"product_id": "P0001"}))
	if got := e.Server.Requests("GetObject") - gets; got != 0 {
		t.Errorf("%d reads within the backoff, want 0", got)
	}
	now = now.Add(time.Second)
	resp := call(t, warm, get("/forecast", map[string]string{"product_id": "P0001"}))
	if e.Server.Requests("GetObject") == gets || !strings.Contains(resp.Headers[api.ReloadErrorHeader], "attempt 2") {
		t.Errorf("after the backoff the manifest was not tried again: %v", resp.Headers)
	}
	// The backoff doubles, up to RetryMax: never given up for good.
	for range 10 {
		now = now.Add(warm.RetryMax)
		call(t, warm, get("/forecast", map[string]string{"product_id": "P0001"}))
	}
	if resp := call(t, warm, get("/health", nil)); !strings.Contains(resp.Body, "attempt 12") {
		t.Errorf("retries stopped: %s", resp.Body)
	}

	// The next publish replaces the damaged manifest, and both instances serve it.
	third := handlertest.Train(t, e, "v3", handlertest.Testdata(t, "small_dataset.csv"), t0.Add(3*time.Hour))
	if third.Status != pipeline.StatusSucceeded {
		t.Fatalf("publish over a damaged manifest: %+v", third)
	}
	for name, h := range map[string]*api.Handler{"warm": warm, "cold": cold} {
		resp := call(t, h, get("/forecast", map[string]string{"product_id": "P0001"}))
		if resp.Headers[api.ModelVersionHeader] != third.Version || resp.Headers[api.ReloadErrorHeader] != "" {
			t.Errorf("%s after the next publish: %v", name, resp.Headers)
		}
	}
	manifest, _, err := pipeline.ReadManifest(ctx, e.Store)
	if err != nil || manifest.Replaced == nil || manifest.Replaced.VersionID != damaged.VersionID || manifest.Previous != second.Version {
		t.Fatalf("manifest %+v (%v): want the damaged version %s recorded and v2 as previous", manifest, err, damaged.VersionID)
	}
	if _, _, err := e.Store.Get(ctx, pipeline.ManifestKey, store.GetOptions{VersionID: damaged.VersionID}); err != nil {
		t.Errorf("the damaged manifest is not kept for inspection: %v", err)
	}
}

func TestAnAPIWithNoReadableManifestSaysWhy(t *testing.T) {
	e := handlertest.NewEnv(t)
	e.Put(pipeline.ManifestKey, []byte(`{"format":"someone-else/v3"}`))
	resp := call(t, api.New(e.Store, handlertest.Logger(t)), get("/forecast", map[string]string{"product_id": "P0001"}))
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(resp.Body, "someone-else/v3") {
		t.Errorf("only a foreign manifest: %d %s", resp.StatusCode, resp.Body)
	}
}
