// Package api is the ForecastFunction's handler: the forecast API behind API Gateway, which
// serves the published model version and reloads it when models/manifest.json changes.
package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stockcast/stockcast/shared/backtest"
	"github.com/stockcast/stockcast/shared/forecast"
	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/store"
	"github.com/stockcast/stockcast/shared/trend"
)

// ReloadErrorHeader is set on responses served by an older model because loading the newly
// published one failed.
const ReloadErrorHeader = "X-Stockcast-Reload-Error"

// ModelVersionHeader names the model version that answered.
const ModelVersionHeader = "X-Stockcast-Model-Version"

// Handler is the forecast API behind API Gateway (REST proxy events): GET and POST /forecast,
// GET /forecast/plot, GET /jobs/{id} and GET /health. It keeps the current model version in
// memory and, on every invocation, asks S3 for models/manifest.json's ETag only: unchanged, it
// serves from memory; changed, it loads the new version's artifacts and swaps them in at once.
// If loading fails — a damaged manifest, a missing artifact — the newest older version of the
// manifest that loads serves instead (the one already serving, if that is it), responses say
// why, and the new one is tried again after a backoff that doubles up to RetryMax.
type Handler struct {
	Store  store.Store
	Jobs   *pipeline.Jobs
	Logger *slog.Logger
	// Config tunes the engines built for each model version.
	Config forecast.Config
	// ShardCache is how many shards of a sharded model are kept loaded at most (at least 1;
	// DefaultShardCache).
	ShardCache int
	// Uploads configures POST /uploads (browser uploads through presigned URLs).
	Uploads Uploads
	// Now is the clock of the reload backoff.
	Now func() time.Time
	// RetryBase and RetryMax bound the wait before a manifest that failed to load is tried
	// again: RetryBase after the first failure, doubling, at most RetryMax.
	RetryBase, RetryMax time.Duration

	current atomic.Pointer[servedModel]
	reload  sync.Mutex
}

// servedModel is one loaded model version.
type servedModel struct {
	etag     string
	manifest *pipeline.Manifest
	// engine serves every request of a single-file model; of a sharded one (sharded set), the
	// groups and the ad-hoc filters without a product, while a product's shard serves the product.
	engine  *forecast.Engine
	sharded *shardedModel
	loaded  time.Time
	// reloadErr is why the latest published version could not be loaded, if it could not.
	reloadErr string
	failed    *reloadFailure
}

// reloadFailure is a published manifest that could not be loaded, and when to try it again.
type reloadFailure struct {
	etag     string
	attempts int
	retryAt  time.Time
}

// New returns the forecast API over s, retrying a manifest that failed to load after 1 s,
// doubling up to a minute.
func New(s store.Store, logger *slog.Logger) *Handler {
	presigner, _ := s.(store.Presigner) // the S3 store signs uploads; others have none
	return &Handler{Store: s, Jobs: pipeline.NewJobs(s), Logger: logger, Config: forecast.DefaultConfig(), ShardCache: DefaultShardCache,
		Now: time.Now, RetryBase: time.Second, RetryMax: time.Minute, Uploads: DefaultUploads(presigner)}
}

// Handle answers one API Gateway request.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	ctx, end := platform.Trace(ctx, "api")
	resp := h.route(ctx, req)
	end(serverError(resp))
	h.Logger.InfoContext(ctx, "request", "method", req.HTTPMethod, "path", req.Path, "status", resp.StatusCode)
	return resp, nil
}

// serverError is what the trace records of an answer: an error for a 5xx (the API failed), nil
// otherwise (a 4xx is the client's).
func serverError(resp events.APIGatewayProxyResponse) error {
	if resp.StatusCode < http.StatusInternalServerError {
		return nil
	}
	return fmt.Errorf("answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
}

func (h *Handler) route(ctx context.Context, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	path := strings.TrimSuffix(req.Path, "/")
	if resp, ok := h.browserRoute(ctx, req, path); ok {
		return resp
	}
	switch {
	case path == "/forecast" && (req.HTTPMethod == http.MethodGet || req.HTTPMethod == http.MethodPost):
		return h.withModel(ctx, func(m *servedModel) events.APIGatewayProxyResponse { return h.forecast(ctx, m, req) })
	case path == "/forecast/plot" && req.HTTPMethod == http.MethodGet:
		return h.withModel(ctx, func(m *servedModel) events.APIGatewayProxyResponse { return h.plot(ctx, m, req) })
	case path == "/health" && req.HTTPMethod == http.MethodGet:
		return h.health(ctx)
	case strings.HasPrefix(path, "/jobs/") && req.HTTPMethod == http.MethodGet:
		id := req.PathParameters["id"]
		if id == "" {
			id = strings.TrimPrefix(path, "/jobs/")
		}
		return h.job(ctx, id)
	case path == "/forecast" || path == "/forecast/plot" || path == "/health" || strings.HasPrefix(path, "/jobs/"):
		return errorResponse(http.StatusMethodNotAllowed, fmt.Sprintf("%s is not allowed on %s", req.HTTPMethod, req.Path))
	}
	return errorResponse(http.StatusNotFound, fmt.Sprintf("no such resource %s; try GET / (the page), /forecast?product_id=…, /forecast/plot, /series, /series/history, /jobs, /jobs/{id}, /health or POST /uploads", req.Path))
}

// withModel serves f from the current model version, loading a newly published one first.
func (h *Handler) withModel(ctx context.Context, f func(*servedModel) events.APIGatewayProxyResponse) events.APIGatewayProxyResponse {
	m, err := h.model(ctx)
	if errors.Is(err, pipeline.ErrNoManifest) {
		return errorResponse(http.StatusServiceUnavailable, fmt.Sprintf(
			"no model has been trained yet: upload a CSV of daily sales (date, product_id, sales) to s3://%s/uploads/ and retry once training has finished", h.Store.Bucket()))
	}
	if m == nil {
		return errorResponse(http.StatusServiceUnavailable, "no model could be loaded: "+err.Error())
	}
	resp := f(m)
	if resp.Headers == nil {
		resp.Headers = map[string]string{}
	}
	resp.Headers[ModelVersionHeader] = m.manifest.Version
	if m.reloadErr != "" {
		resp.Headers[ReloadErrorHeader] = m.reloadErr
	}
	return resp
}

// model returns the model to serve: the cached one while the manifest's ETag is unchanged (or
// is one that failed to load and waits for its retry), else the newly published version, loaded
// now. When that fails it serves the newest older version that loads and remembers the failure;
// with no version loadable at all it returns the error.
func (h *Handler) model(ctx context.Context) (*servedModel, error) {
	head, err := h.Store.Head(ctx, pipeline.ManifestKey)
	current := h.current.Load()
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, pipeline.ErrNoManifest
	case err != nil && current != nil:
		h.Logger.WarnContext(ctx, "cannot check for a new model; serving the cached one", "error", err)
		return current, nil
	case err != nil:
		return nil, err
	case current != nil && h.upToDate(current, head):
		return current, nil
	}
	h.reload.Lock()
	defer h.reload.Unlock()
	if current = h.current.Load(); current != nil && h.upToDate(current, head) {
		return current, nil // another request loaded it meanwhile
	}
	loaded, err := h.load(ctx)
	if err == nil {
		h.current.Store(loaded)
		h.Logger.InfoContext(ctx, "model loaded", "version", loaded.manifest.Version, "etag", loaded.etag, "ms", time.Since(loaded.loaded).Milliseconds())
		return loaded, nil
	}
	failure := &reloadFailure{etag: head.ETag, attempts: 1}
	if current != nil && current.failed != nil && store.SameETag(current.failed.etag, head.ETag) {
		failure.attempts = current.failed.attempts + 1
	}
	failure.retryAt = h.Now().Add(h.retryDelay(failure.attempts))
	h.Logger.ErrorContext(ctx, "loading the published model failed; serving the newest older version that loads",
		"etag", head.ETag, "attempts", failure.attempts, "retry_at", failure.retryAt, "error", err)
	fallback, fallbackErr := h.fallback(ctx, head, current)
	if fallback == nil {
		return nil, errors.Join(err, fallbackErr)
	}
	served := *fallback
	served.failed = failure
	served.reloadErr = fmt.Sprintf("the published model (manifest %s) could not be loaded, attempt %d, next try at %s: %v; serving model %s (manifest %s)",
		head.ETag, failure.attempts, failure.retryAt.UTC().Format(time.RFC3339), err, fallback.manifest.Version, fallback.etag)
	h.current.Store(&served)
	return &served, nil
}

// upToDate reports whether m is what to serve while the manifest is head.
func (h *Handler) upToDate(m *servedModel, head store.Object) bool {
	if store.SameETag(head.ETag, m.etag) {
		return true
	}
	return m.failed != nil && store.SameETag(head.ETag, m.failed.etag) && h.Now().Before(m.failed.retryAt)
}

// retryDelay is the wait after the given number of failed attempts.
func (h *Handler) retryDelay(attempts int) time.Duration {
	return min(h.RetryBase<<min(attempts-1, 30), h.RetryMax)
}

// fallback finds the newest older manifest version that loads, stopping at the one serving
// (which it returns as it is): a version older than that is not worth a load.
func (h *Handler) fallback(ctx context.Context, head store.Object, current *servedModel) (*servedModel, error) {
	var found *servedModel
	_, _, _, err := pipeline.NewestReadableManifest(ctx, h.Store, func(m *pipeline.Manifest, obj store.Object) error {
		switch {
		case store.SameETag(obj.ETag, head.ETag):
			return errors.New("the version that just failed")
		case current != nil && store.SameETag(obj.ETag, current.etag):
			found = current
			return nil
		}
		loaded, err := h.build(ctx, m, obj)
		found = loaded
		return err
	})
	if found == nil && current != nil {
		return current, nil // no older version could be listed or read: keep what serves
	}
	if err != nil && found == nil {
		return nil, err
	}
	return found, nil
}

// load reads the current manifest and builds its model.
func (h *Handler) load(ctx context.Context) (*servedModel, error) {
	manifest, obj, err := pipeline.ReadManifest(ctx, h.Store)
	if err != nil {
		return nil, err
	}
	return h.build(ctx, manifest, obj)
}

// build reads a manifest's artifacts (concurrently) and builds the engine: of a sharded
// manifest, the LSTM and the group results only (its shards load on demand).
func (h *Handler) build(ctx context.Context, manifest *pipeline.Manifest, obj store.Object) (_ *servedModel, err error) {
	ctx, end := platform.Trace(ctx, "load-model")
	defer func() { end(err) }()
	started := time.Now()
	if len(manifest.Shards) > 0 {
		sharded, err := h.buildSharded(ctx, manifest)
		if err != nil {
			return nil, err
		}
		engine, err := sharded.groupsEngine()
		if err != nil {
			return nil, err
		}
		return &servedModel{etag: obj.ETag, manifest: manifest, engine: engine, sharded: sharded, loaded: started}, nil
	}
	var (
		wg     sync.WaitGroup
		table  *series.Table
		trends *trend.Set
		net    *lstm.Model
		sel    *backtest.Set
		errs   [4]error
	)
	wg.Go(func() {
		table, errs[0] = loadArtifact(ctx, h.Store, manifest.Dataset.Key, manifest.Dataset.VersionID, manifest.Dataset.ETag, series.Load)
	})
	wg.Go(func() {
		trends, errs[1] = loadArtifact(ctx, h.Store, manifest.Trend.Key, manifest.Trend.VersionID, manifest.Trend.ETag, loadTrendSet)
	})
	wg.Go(func() {
		net, errs[2] = loadArtifact(ctx, h.Store, manifest.LSTM.Key, manifest.LSTM.VersionID, manifest.LSTM.ETag, readCheckpoint)
	})
	if a := manifest.Selection; a != nil {
		wg.Go(func() {
			sel, errs[3] = loadArtifact(ctx, h.Store, a.Key, "", a.ETag, loadSelections)
		})
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	trainedThrough, _ := time.Parse(time.DateOnly, manifest.Dataset.LastDate)
	engine, err := forecast.NewEngine(table, trends, net, forecast.Metadata{Version: manifest.Version, TrainedThrough: trainedThrough, Selections: sel}, h.Config)
	if err != nil {
		return nil, err
	}
	return &servedModel{etag: obj.ETag, manifest: manifest, engine: engine, loaded: started}, nil
}

func loadSelections(_ context.Context, r io.Reader) (*backtest.Set, error) {
	var set backtest.Set
	if err := json.NewDecoder(r).Decode(&set); err != nil {
		return nil, fmt.Errorf("decode selections: %w", err)
	}
	if set.Format != backtest.SetFormat {
		return nil, fmt.Errorf("selections have format %q; this build reads %q", set.Format, backtest.SetFormat)
	}
	return &set, nil
}

func loadTrendSet(_ context.Context, r io.Reader) (*trend.Set, error) {
	var set trend.Set
	if err := json.NewDecoder(r).Decode(&set); err != nil {
		return nil, err
	}
	return &set, nil
}

func readCheckpoint(_ context.Context, r io.Reader) (*lstm.Model, error) { return lstm.Read(r) }

// loadArtifact reads exactly the artifact the manifest names: by its version id, which no later
// write changes; a manifest without one (written before versions were recorded) names it by ETag,
// found as the current object or else among the key's older versions.
func loadArtifact[T any](ctx context.Context, s store.Store, key, versionID, etag string, decode func(context.Context, io.Reader) (T, error)) (T, error) {
	var zero T
	body, _, err := s.Get(ctx, key, store.GetOptions{VersionID: versionID, IfMatch: etag})
	if versionID == "" && errors.Is(err, store.ErrPreconditionFailed) {
		body, err = versionByETag(ctx, s, key, etag, err)
	}
	if err != nil {
		return zero, fmt.Errorf("artifact %s: %w", key, err)
	}
	defer body.Close()
	value, err := decode(ctx, body)
	if err != nil {
		return zero, fmt.Errorf("artifact %s: %w", key, err)
	}
	return value, nil
}

// versionByETag opens the newest version of key with the given ETag; notFound is the error when
// there is none.
func versionByETag(ctx context.Context, s store.Store, key, etag string, notFound error) (io.ReadCloser, error) {
	versions, err := s.Versions(ctx, key)
	if err != nil {
		return nil, errors.Join(notFound, err)
	}
	for _, v := range versions {
		if store.SameETag(v.ETag, etag) && v.VersionID != "" {
			body, _, err := s.Get(ctx, key, store.GetOptions{VersionID: v.VersionID, IfMatch: etag})
			return body, err
		}
	}
	return nil, notFound
}

// engineFor is the engine that serves r: of a sharded model, the product's shard's for a request
// naming a product (every row of a product is in its shard).
func (m *servedModel) engineFor(ctx context.Context, r forecast.Request) (*forecast.Engine, error) {
	if m.sharded == nil || r.ProductID == "" {
		return m.engine, nil
	}
	return m.sharded.engine(ctx, m.sharded.shardOf(r.ProductID))
}

func (h *Handler) forecast(ctx context.Context, m *servedModel, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	r, err := parseRequest(req)
	if err != nil {
		return errorResponse(http.StatusBadRequest, err.Error())
	}
	engine, err := m.engineFor(ctx, r)
	if err != nil {
		return errorResponse(http.StatusInternalServerError, err.Error())
	}
	resp, err := engine.Forecast(ctx, r)
	if err != nil {
		return forecastError(err)
	}
	return jsonResponse(http.StatusOK, resp)
}

func (h *Handler) plot(ctx context.Context, m *servedModel, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	r, err := parseRequest(req)
	if err != nil {
		return errorResponse(http.StatusBadRequest, err.Error())
	}
	engine, err := m.engineFor(ctx, r)
	if err != nil {
		return errorResponse(http.StatusInternalServerError, err.Error())
	}
	png, err := engine.Plot(ctx, r)
	if err != nil {
		return forecastError(err)
	}
	return events.APIGatewayProxyResponse{
		StatusCode:      http.StatusOK,
		Headers:         map[string]string{"Content-Type": "image/png", "Cache-Control": "no-store"},
		Body:            base64.StdEncoding.EncodeToString(png),
		IsBase64Encoded: true,
	}
}

// parseRequest reads the query string of a GET, the JSON body of a POST.
func parseRequest(req events.APIGatewayProxyRequest) (forecast.Request, error) {
	if req.HTTPMethod == http.MethodPost {
		body := []byte(req.Body)
		if req.IsBase64Encoded {
			decoded, err := base64.StdEncoding.DecodeString(req.Body)
			if err != nil {
				return forecast.Request{}, fmt.Errorf("body: not valid base64: %w", err)
			}
			body = decoded
		}
		return forecast.ParseJSON(body)
	}
	return forecast.ParseQuery(query(req))
}

func forecastError(err error) events.APIGatewayProxyResponse {
	var bad *forecast.RequestError
	switch {
	case errors.As(err, &bad):
		return errorResponse(http.StatusBadRequest, err.Error())
	case errors.Is(err, series.ErrNoMatch):
		return errorResponse(http.StatusNotFound, err.Error())
	}
	return errorResponse(http.StatusInternalServerError, err.Error())
}

// Health is what GET /health answers.
type Health struct {
	Status       string         `json:"status"`
	ManifestETag string         `json:"manifest_etag,omitempty"`
	Model        *forecast.Info `json:"model,omitempty"`
	LoadedAt     *time.Time     `json:"loaded_at,omitempty"`
	// Shards describes the shards of a sharded model.
	Shards      *ShardsHealth `json:"shards,omitempty"`
	ReloadError string        `json:"reload_error,omitempty"`
	Message     string        `json:"message,omitempty"`
}

func (h *Handler) health(ctx context.Context) events.APIGatewayProxyResponse {
	m, err := h.model(ctx)
	if errors.Is(err, pipeline.ErrNoManifest) {
		return jsonResponse(http.StatusOK, Health{Status: "waiting_for_data",
			Message: fmt.Sprintf("no model yet: upload a CSV to s3://%s/uploads/", h.Store.Bucket())})
	}
	if m == nil {
		return jsonResponse(http.StatusServiceUnavailable, Health{Status: "unavailable", Message: err.Error()})
	}
	info := m.engine.Info()
	loaded := m.loaded.UTC()
	health := Health{Status: "ok", ManifestETag: m.etag, Model: &info, LoadedAt: &loaded, ReloadError: m.reloadErr}
	if m.sharded != nil {
		health.Shards = m.sharded.health()
	}
	return jsonResponse(http.StatusOK, health)
}

func (h *Handler) job(ctx context.Context, id string) events.APIGatewayProxyResponse {
	if id == "" || strings.ContainsAny(id, "/.") {
		return errorResponse(http.StatusBadRequest, fmt.Sprintf("id: %q is not a job id", id))
	}
	job, err := h.Jobs.Get(ctx, id)
	if errors.Is(err, pipeline.ErrJobNotFound) {
		return errorResponse(http.StatusNotFound, fmt.Sprintf(
			"no job %s: an upload's job appears when the merge takes up its file, seconds after it lands in uploads/ (GET /jobs?upload=NAME lists it as pending until then)", id))
	}
	if err != nil {
		return errorResponse(http.StatusInternalServerError, err.Error())
	}
	return jsonResponse(http.StatusOK, h.jobView(ctx, job))
}

// ErrorBody is the JSON of every error response.
type ErrorBody struct {
	Error  string `json:"error"`
	Status int    `json:"status"`
}

func errorResponse(status int, message string) events.APIGatewayProxyResponse {
	return jsonResponse(status, ErrorBody{Error: message, Status: status})
}

func jsonResponse(status int, value any) events.APIGatewayProxyResponse {
	body, err := json.Marshal(value)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":"encode response","status":500}`)
	}
	return events.APIGatewayProxyResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(body),
	}
}
