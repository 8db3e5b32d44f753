package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stockcast/stockcast/shared/forecast"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/store"
	"github.com/stockcast/stockcast/shared/web"
)

// Uploads configures POST /uploads, which lets a browser send a CSV straight to the drop folder.
type Uploads struct {
	// Presigner signs the PUTs; nil turns POST /uploads off (501).
	Presigner store.Presigner
	// MaxBytes bounds an upload's size (the merge refuses larger files anyway).
	MaxBytes int64
	// Expiry is how long a presigned PUT stays valid.
	Expiry time.Duration
}

// DefaultUploads allows 64 MiB uploads through URLs valid for 5 minutes.
func DefaultUploads(p store.Presigner) Uploads {
	return Uploads{Presigner: p, MaxBytes: 64 << 20, Expiry: 5 * time.Minute}
}

// browserRoute answers the routes the page uses: GET / (the page), GET /series, GET
// /series/history, GET /jobs and POST /uploads. ok is false for any other path.
func (h *Handler) browserRoute(ctx context.Context, req events.APIGatewayProxyRequest, path string) (resp events.APIGatewayProxyResponse, ok bool) {
	method := req.HTTPMethod
	switch {
	case path == "" && (method == http.MethodGet || method == http.MethodHead):
		return page(req), true
	case path == "/series" && method == http.MethodGet:
		return h.withModel(ctx, func(m *servedModel) events.APIGatewayProxyResponse { return h.series(ctx, m, req) }), true
	case path == "/series/history" && method == http.MethodGet:
		return h.withModel(ctx, func(m *servedModel) events.APIGatewayProxyResponse { return h.history(ctx, m, req) }), true
	case path == "/jobs" && method == http.MethodGet:
		return h.jobs(ctx, req), true
	case path == "/uploads" && method == http.MethodPost:
		return h.upload(ctx, req), true
	case path == "" || path == "/series" || path == "/series/history" || path == "/jobs" || path == "/uploads":
		return errorResponse(http.StatusMethodNotAllowed, fmt.Sprintf("%s is not allowed on %s", method, req.Path)), true
	}
	return events.APIGatewayProxyResponse{}, false
}

// pageHeaders are the page's headers; its Content-Security-Policy allows only its own inline
// script and style sheet (by hash) and requests to the API and to the object store it uploads to.
var pageHeaders = map[string]string{
	"Content-Type":            "text/html; charset=utf-8",
	"Cache-Control":           "no-cache",
	"ETag":                    web.ETag,
	"Content-Security-Policy": web.ContentSecurityPolicy,
	"X-Content-Type-Options":  "nosniff",
	"Referrer-Policy":         "no-referrer",
}

func page(req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	if match := header(req, "If-None-Match"); match != "" && store.SameETag(match, web.ETag) {
		return events.APIGatewayProxyResponse{StatusCode: http.StatusNotModified, Headers: pageHeaders}
	}
	body := string(web.Index())
	if req.HTTPMethod == http.MethodHead {
		body = ""
	}
	return events.APIGatewayProxyResponse{StatusCode: http.StatusOK, Headers: pageHeaders, Body: body}
}

// header reads a request header whatever its case.
func header(req events.APIGatewayProxyRequest, name string) string {
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// query is the request's query string as url.Values.
func query(req events.APIGatewayProxyRequest) url.Values {
	q := url.Values{}
	for k, vs := range req.MultiValueQueryStringParameters {
		q[k] = vs
	}
	for k, v := range req.QueryStringParameters {
		if _, ok := q[k]; !ok {
			q.Set(k, v)
		}
	}
	return q
}

func (h *Handler) series(ctx context.Context, m *servedModel, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	q, err := forecast.ParseSeriesQuery(query(req))
	if err != nil {
		return errorResponse(http.StatusBadRequest, err.Error())
	}
	if m.sharded == nil {
		return jsonResponse(http.StatusOK, m.engine.Series(q))
	}
	page, err := m.sharded.page(ctx, m.engine, q)
	if err != nil {
		return errorResponse(http.StatusInternalServerError, err.Error())
	}
	return jsonResponse(http.StatusOK, page)
}

// DefaultHistoryDays is how many days of history GET /series/history returns without days=.
const DefaultHistoryDays = 90

func (h *Handler) history(ctx context.Context, m *servedModel, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	r, err := parseRequest(req)
	if err != nil {
		return errorResponse(http.StatusBadRequest, err.Error())
	}
	if _, given := query(req)["days"]; !given {
		r.Days = DefaultHistoryDays
	}
	engine, err := m.engineFor(ctx, r)
	if err != nil {
		return errorResponse(http.StatusInternalServerError, err.Error())
	}
	hist, err := engine.History(ctx, r)
	if err != nil {
		return forecastError(err)
	}
	return jsonResponse(http.StatusOK, hist)
}

// JobList is the answer of GET /jobs.
type JobList struct {
	Jobs []*pipeline.Job `json:"jobs"`
}

// DefaultJobsLimit is how many jobs GET /jobs lists without limit=.
const DefaultJobsLimit = 20

func (h *Handler) jobs(ctx context.Context, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	opts := pipeline.ListOptions{Limit: DefaultJobsLimit}
	var problems []string
	for name, values := range query(req) {
		v := values[0]
		switch {
		case len(values) > 1:
			problems = append(problems, fmt.Sprintf("%s: given %d times, give it once", name, len(values)))
		case name == "upload":
			opts.Upload = v
		case name == "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > pipeline.MaxListLimit {
				problems = append(problems, fmt.Sprintf("limit: must be an integer from 1 to %d, got %q", pipeline.MaxListLimit, v))
			}
			opts.Limit = n
		default:
			problems = append(problems, name+": unknown parameter; GET /jobs takes upload and limit")
		}
	}
	if len(problems) > 0 {
		return errorResponse(http.StatusBadRequest, strings.Join(problems, "; "))
	}
	list, err := h.Jobs.List(ctx, opts)
	if err != nil {
		return errorResponse(http.StatusInternalServerError, err.Error())
	}
	return jsonResponse(http.StatusOK, JobList{Jobs: list})
}

// UploadRequest is the body of POST /uploads.
type UploadRequest struct {
	// Name is the file's name: it lands at uploads/<name>; it must end in .csv.
	Name string `json:"name"`
	// Size is the file's exact size in bytes.
	Size int64 `json:"size"`
	// ContentType, if given, must be a CSV's ("text/csv", or what some systems call CSV files).
	ContentType string `json:"content_type"`
}

// UploadGrant is the answer of POST /uploads.
type UploadGrant struct {
	// Key is where the file lands; JobID is the id of the job it starts (GET /jobs/{id}).
	Key   string `json:"key"`
	JobID string `json:"job_id"`
	// Upload is the request to send the file with: PUT to the URL with exactly these headers
	// and the file as the body, before it expires.
	Upload store.PresignedPut `json:"upload"`
	// MaxBytes is the size limit of uploads.
	MaxBytes int64 `json:"max_bytes"`
}

// csvTypes are the content types browsers and systems give CSV files.
var csvTypes = []string{"text/csv", "application/csv", "text/comma-separated-values", "application/vnd.ms-excel", "text/plain"}

func (h *Handler) upload(ctx context.Context, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	if h.Uploads.Presigner == nil {
		return errorResponse(http.StatusNotImplemented, fmt.Sprintf("uploads through the API are not available here; copy the file to s3://%s/uploads/", h.Store.Bucket()))
	}
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		decoded, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return errorResponse(http.StatusBadRequest, "body: not valid base64")
		}
		body = decoded
	}
	var u UploadRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&u); err != nil {
		return errorResponse(http.StatusBadRequest, `body: must be a JSON object {"name": "FILE.csv", "size": BYTES}: `+err.Error())
	}
	if dec.More() {
		return errorResponse(http.StatusBadRequest, "body: must be one JSON object")
	}
	if problems := h.checkUpload(u); len(problems) > 0 {
		return errorResponse(http.StatusBadRequest, strings.Join(problems, "; "))
	}
	key := pipeline.UploadsPrefix + u.Name
	id := pipeline.NewJobID(key)
	put, err := h.Uploads.Presigner.PresignPut(ctx, store.PutGrant{
		Key: key, ContentType: "text/csv", Size: u.Size, Expiry: h.Uploads.Expiry,
		Metadata: map[string]string{pipeline.JobIDMetadata: id},
	})
	if err != nil {
		return errorResponse(http.StatusInternalServerError, err.Error())
	}
	h.Logger.InfoContext(ctx, "upload granted", "key", key, "size", u.Size, "job_id", id, "expires", put.Expires)
	return jsonResponse(http.StatusOK, UploadGrant{Key: key, JobID: id, Upload: put, MaxBytes: h.Uploads.MaxBytes})
}

// checkUpload names every problem of an upload request.
func (h *Handler) checkUpload(u UploadRequest) []string {
	var problems []string
	name := u.Name
	switch {
	case name == "":
		problems = append(problems, "name: required, the file's name (FILE.csv)")
	case strings.ContainsAny(name, `/\`) || name != path.Clean(name) || strings.HasPrefix(name, "."):
		problems = append(problems, fmt.Sprintf("name: %q must be a plain file name, without folders", name))
	case !strings.EqualFold(path.Ext(name), ".csv"):
		problems = append(problems, fmt.Sprintf("name: %q must end in .csv", name))
	case len(name) > 200:
		problems = append(problems, fmt.Sprintf("name: %d bytes long; at most 200", len(name)))
	case strings.IndexFunc(name, func(r rune) bool { return unicode.IsControl(r) || r == unicode.ReplacementChar }) >= 0:
		problems = append(problems, fmt.Sprintf("name: %q contains control characters", name))
	}
	switch {
	case u.Size < 1:
		problems = append(problems, fmt.Sprintf("size: must be the file's size in bytes, at least 1, got %d", u.Size))
	case u.Size > h.Uploads.MaxBytes:
		problems = append(problems, fmt.Sprintf("size: %d bytes; uploads are limited to %d bytes", u.Size, h.Uploads.MaxBytes))
	}
	if ct := strings.ToLower(strings.TrimSpace(strings.Split(u.ContentType, ";")[0])); ct != "" && !slices.Contains(csvTypes, ct) {
		problems = append(problems, fmt.Sprintf("content_type: %q is not a CSV file's", u.ContentType))
	}
	return problems
}

// JobView is the answer of GET /jobs/{id}: the job's record and, for a refused upload, its
// refusal report (every bad line: line, column, value, reason).
type JobView struct {
	*pipeline.Job
	Rejection *pipeline.RejectionReport `json:"rejection,omitempty"`
}

// jobView adds a refused upload's report to its job; a report that cannot be read is logged and
// left out (the job's error still says why the file was refused).
func (h *Handler) jobView(ctx context.Context, job *pipeline.Job) JobView {
	view := JobView{Job: job}
	if job.Status != pipeline.StatusRejected || job.Upload.Report == "" {
		return view
	}
	data, _, err := store.ReadAll(ctx, h.Store, job.Upload.Report)
	var report pipeline.RejectionReport
	if err == nil {
		err = json.Unmarshal(data, &report)
	}
	if err != nil {
		h.Logger.WarnContext(ctx, "cannot read the refusal report", "job_id", job.ID, "report", job.Upload.Report, "error", err)
		return view
	}
	view.Rejection = &report
	return view
}
