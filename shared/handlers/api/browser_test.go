package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stockcast/stockcast/shared/forecast"
	"github.com/stockcast/stockcast/shared/handlers/api"
	"github.com/stockcast/stockcast/shared/handlers/handlertest"
	"github.com/stockcast/stockcast/shared/handlers/merge"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/store"
	"github.com/stockcast/stockcast/shared/web"
)

func decode[T any](t *testing.T, resp events.APIGatewayProxyResponse) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(resp.Body), &v); err != nil {
		t.Fatalf("%d %s: %v", resp.StatusCode, resp.Body, err)
	}
	return v
}

func post(path, body string) events.APIGatewayProxyRequest {
	return events.APIGatewayProxyRequest{HTTPMethod: http.MethodPost, Path: path, Resource: path, Body: body}
}

func TestPageIsServedAtTheRoot(t *testing.T) {
	h := api.New(handlertest.NewEnv(t).Store, handlertest.Logger(t))
	for _, path := range []string{"/", ""} {
		resp := call(t, h, get(path, nil))
		if resp.StatusCode != http.StatusOK || resp.Body != string(web.Index()) || !strings.HasPrefix(resp.Headers["Content-Type"], "text/html") {
			t.Fatalf("GET %q: %d %v", path, resp.StatusCode, resp.Headers)
		}
		if resp.Headers["Content-Security-Policy"] != web.ContentSecurityPolicy || resp.Headers["ETag"] != web.ETag {
			t.Fatalf("GET %q: headers %v", path, resp.Headers)
		}
	}
	again := get("/", nil)
	again.Headers = map[string]string{"if-none-match": web.ETag}
	if resp := call(t, h, again); resp.StatusCode != http.StatusNotModified || resp.Body != "" {
		t.Fatalf("conditional GET: %d", resp.StatusCode)
	}
	if resp := call(t, h, post("/", "")); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST /: %d", resp.StatusCode)
	}
}

func TestSeriesAndHistory(t *testing.T) {
	e := handlertest.NewEnv(t)
	out := handlertest.Train(t, e, "v1", handlertest.Testdata(t, "small_dataset.csv"), time.Now())
	h := api.New(e.Store, handlertest.Logger(t))

	page := decode[forecast.SeriesPage](t, call(t, h, get("/series", map[string]string{"kind": "product", "limit": "2"})))
	if page.ModelVersion != out.Version || page.Total < 3 || len(page.Series) != 2 || page.NextOffset == nil || page.Series[0].Kind != "product" {
		t.Fatalf("GET /series: %+v", page)
	}
	p1 := page.Series[0]
	if p1.DaysWithData == 0 || p1.FirstDate.IsZero() || !p1.LastDate.After(p1.FirstDate.Time) || p1.Model == "" {
		t.Fatalf("series entry: %+v", p1)
	}
	all := decode[forecast.SeriesPage](t, call(t, h, get("/series", nil)))
	kinds := map[string]int{}
	for _, s := range all.Series {
		kinds[s.Kind]++
	}
	if kinds["total"] != 1 || kinds["product"] != page.Total || kinds["category"] == 0 || kinds["region"] == 0 {
		t.Fatalf("kinds listed: %v", kinds)
	}
	// Every series' model is the refit's selection (model=auto), with its backtest accuracy.
	for _, s := range all.Series {
		if s.Selection.Source != forecast.SelectionPrecomputed || s.Selection.Backtest == nil || s.Model == forecast.AutoUnselected {
			t.Errorf("%s: model %q, selection %+v", s.Key, s.Model, s.Selection)
		}
	}
	total := decode[forecast.Response](t, call(t, h, get("/forecast", nil)))
	if total.Selection == nil || total.Selection.Choice != all.Series[0].Model {
		t.Errorf("the total is served by %+v, GET /series says %q", total.Selection, all.Series[0].Model)
	}
	if resp := call(t, h, get("/series", map[string]string{"kind": "shop", "colour": "red"})); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(resp.Body, "kind: must be") || !strings.Contains(resp.Body, "colour: unknown parameter") {
		t.Fatalf("bad parameters: %d %s", resp.StatusCode, resp.Body)
	}

	hist := decode[forecast.History](t, call(t, h, get("/series/history", map[string]string{"product_id": p1.Name, "days": "10"})))
	if hist.Key != "product/"+p1.Name || len(hist.Dates) == 0 || len(hist.Dates) > 10 || len(hist.Sales) != len(hist.Dates) || !hist.Dates[len(hist.Dates)-1].Equal(p1.LastDate.Time) {
		t.Fatalf("history: %+v", hist)
	}
	if def := decode[forecast.History](t, call(t, h, get("/series/history", map[string]string{"product_id": p1.Name}))); def.Days != api.DefaultHistoryDays {
		t.Fatalf("default history days: %d", def.Days)
	}
	if resp := call(t, h, get("/series/history", map[string]string{"product_id": "NOPE"})); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown product: %d", resp.StatusCode)
	}
}

// TestBrowserUpload follows a browser's upload: POST /uploads, the presigned PUT straight to
// S3, the merge of its event under the announced job id, and the job found by id and by name.
func TestBrowserUpload(t *testing.T) {
	ctx := context.Background()
	e := handlertest.NewEnv(t)
	h := api.New(e.Store, handlertest.Logger(t))
	merger := merge.New(e.Store, &handlertest.RecordingStarter{}, handlertest.Logger(t))
	body := string(handlertest.Testdata(t, "uploads/ok_next_days.csv"))

	grant := decode[api.UploadGrant](t, call(t, h, post("/uploads", `{"name": "next days.csv", "size": `+strconv.Itoa(len(body))+`, "content_type": "text/csv"}`)))
	if grant.Key != "uploads/next days.csv" || !pipeline.IsJobIDFor(grant.JobID, grant.Key) || grant.Upload.Method != http.MethodPut {
		t.Fatalf("grant: %+v", grant)
	}
	if until := time.Until(grant.Upload.Expires); until <= 0 || until > h.Uploads.Expiry {
		t.Fatalf("expires in %v", until)
	}
	// Before the file arrives, its job is not there yet.
	if resp := call(t, h, get("/jobs/"+grant.JobID, nil)); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("job before the upload: %d", resp.StatusCode)
	}
	putFile(t, grant.Upload, body)
	// Arrived, not merged yet: the upload's job is pending, under the announced id.
	waiting := decode[api.JobList](t, call(t, h, get("/jobs", map[string]string{"upload": "next days.csv"})))
	if len(waiting.Jobs) != 1 || waiting.Jobs[0].ID != grant.JobID || waiting.Jobs[0].Status != pipeline.StatusPending {
		t.Fatalf("jobs of the arrived upload: %+v", waiting.Jobs)
	}
	if err := merger.Handle(ctx, e.LastEvent()); err != nil {
		t.Fatal(err)
	}
	job := decode[api.JobView](t, call(t, h, get("/jobs/"+grant.JobID, nil)))
	if job.ID != grant.JobID || job.Status != pipeline.StatusTraining || job.Merge == nil || job.Merge.Inserted == 0 || job.Rejection != nil {
		t.Fatalf("job: %+v", job)
	}
	// A duplicate delivery of the event (the upload has moved to processed/) finds the same job.
	if err := merger.Handle(ctx, e.LastEvent()); err != nil {
		t.Fatal(err)
	}
	list := decode[api.JobList](t, call(t, h, get("/jobs", map[string]string{"upload": "next days.csv"})))
	if len(list.Jobs) != 1 || list.Jobs[0].ID != grant.JobID {
		t.Fatalf("jobs of the upload: %+v", list.Jobs)
	}

	// A bad file through the page: the job is refused and GET /jobs/{id} lists its bad lines.
	bad := string(handlertest.Testdata(t, "uploads/bad_sales.csv"))
	badGrant := decode[api.UploadGrant](t, call(t, h, post("/uploads", `{"name": "bad_sales.csv", "size": `+strconv.Itoa(len(bad))+`}`)))
	putFile(t, badGrant.Upload, bad)
	if err := merger.Handle(ctx, e.LastEvent()); err != nil {
		t.Fatal(err)
	}
	refused := decode[api.JobView](t, call(t, h, get("/jobs/"+badGrant.JobID, nil)))
	if refused.Status != pipeline.StatusRejected || refused.Rejection == nil || refused.Rejection.Total == 0 || refused.Rejection.Problems[0].Line != 2 {
		t.Fatalf("refused job: %+v (rejection %+v)", refused.Job, refused.Rejection)
	}
	if of := decode[api.JobList](t, call(t, h, get("/jobs", map[string]string{"upload": "bad_sales.csv"}))); len(of.Jobs) != 1 || of.Jobs[0].ID != badGrant.JobID || of.Jobs[0].Status != pipeline.StatusRejected {
		t.Fatalf("jobs of the refused upload: %+v", of.Jobs)
	}
	latest := decode[api.JobList](t, call(t, h, get("/jobs", map[string]string{"limit": "1"})))
	if len(latest.Jobs) != 1 || latest.Jobs[0].ID != badGrant.JobID {
		t.Fatalf("latest job: %+v", latest.Jobs)
	}
	if resp := call(t, h, get("/jobs", map[string]string{"limit": "0", "colour": "red"})); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(resp.Body, "limit: must be") || !strings.Contains(resp.Body, "colour: unknown parameter") {
		t.Fatalf("bad parameters: %d %s", resp.StatusCode, resp.Body)
	}

	// What the API does not grant: other files, folders, sizes, types.
	for _, tc := range []struct{ body, want string }{
		{`{"name": "a.txt", "size": 10}`, "must end in .csv"},
		{`{"name": "../a.csv", "size": 10}`, "plain file name"},
		{`{"name": "a/b.csv", "size": 10}`, "plain file name"},
		{`{"name": "a.csv", "size": 0}`, "size: must be"},
		{`{"name": "a.csv", "size": 67108865}`, "limited to 67108864 bytes"},
		{`{"name": "a.csv", "size": 10, "content_type": "image/png"}`, "content_type"},
		{`{"name": "a.csv", "size": 10, "colour": "red"}`, "unknown field"},
		{`{"size": 10}`, "name: required"},
		{`[]`, "must be a JSON object"},
	} {
		resp := call(t, h, post("/uploads", tc.body))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Body, tc.want) {
			t.Errorf("POST /uploads %s: %d %s, want 400 with %q", tc.body, resp.StatusCode, resp.Body, tc.want)
		}
	}
	if resp := call(t, h, get("/uploads", nil)); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /uploads: %d", resp.StatusCode)
	}
	// Without a presigner (a store that cannot sign), uploads through the API are off.
	off := api.New(store.NewMemory("b"), handlertest.Logger(t))
	if resp := call(t, off, post("/uploads", `{"name": "a.csv", "size": 10}`)); resp.StatusCode != http.StatusNotImplemented || !strings.Contains(resp.Body, "s3://b/uploads/") {
		t.Errorf("without a presigner: %d %s", resp.StatusCode, resp.Body)
	}
}

// TestReusedUploadURLGetsItsOwnJob: the same presigned URL used again with other content (of
// the same size) does not take over the first upload's job.
func TestReusedUploadURLGetsItsOwnJob(t *testing.T) {
	ctx := context.Background()
	e := handlertest.NewEnv(t)
	h := api.New(e.Store, handlertest.Logger(t))
	merger := merge.New(e.Store, &handlertest.RecordingStarter{}, handlertest.Logger(t))
	first := "date,product_id,sales\n2024-01-01,P1,3\n"
	second := "date,product_id,sales\n2024-01-02,P1,4\n"
	grant := decode[api.UploadGrant](t, call(t, h, post("/uploads", `{"name": "a.csv", "size": `+strconv.Itoa(len(first))+`}`)))
	putFile(t, grant.Upload, first)
	if err := merger.Handle(ctx, e.LastEvent()); err != nil {
		t.Fatal(err)
	}
	putFile(t, grant.Upload, second)
	if err := merger.Handle(ctx, e.LastEvent()); err != nil {
		t.Fatal(err)
	}
	jobs := decode[api.JobList](t, call(t, h, get("/jobs", map[string]string{"upload": "a.csv"})))
	if len(jobs.Jobs) != 2 || jobs.Jobs[1].ID != grant.JobID || jobs.Jobs[0].ID == grant.JobID || jobs.Jobs[0].Merge == nil || jobs.Jobs[0].Merge.Inserted != 1 {
		t.Fatalf("jobs: %+v", jobs.Jobs)
	}
}

// failingStarter fails every start, as a Step Functions outage would.
type failingStarter struct{}

func (failingStarter) Start(context.Context, pipeline.TaskInput) (string, error) {
	return "", errors.New("states: connection refused")
}

// TestRedeliveryAfterMidnightKeepsTheAnnouncedJob: the merge of a browser upload moves it to
// processed/<today>/ and then fails to start training; Lambda delivers the event again after
// midnight. The retry finds the upload where it went the day before, takes the announced job and
// starts its training.
func TestRedeliveryAfterMidnightKeepsTheAnnouncedJob(t *testing.T) {
	ctx := context.Background()
	e := handlertest.NewEnv(t)
	h := api.New(e.Store, handlertest.Logger(t))
	body := string(handlertest.Testdata(t, "uploads/ok_next_days.csv"))
	grant := decode[api.UploadGrant](t, call(t, h, post("/uploads", `{"name": "late.csv", "size": `+strconv.Itoa(len(body))+`}`)))
	putFile(t, grant.Upload, body)
	event := e.LastEvent()
	evening := time.Date(2024, 4, 12, 23, 59, 0, 0, time.UTC)
	first := merge.New(e.Store, failingStarter{}, handlertest.Logger(t))
	first.Now = func() time.Time { return evening }
	if err := first.Handle(ctx, event); err == nil {
		t.Fatal("a failed start must fail the invocation")
	}
	starter := &handlertest.RecordingStarter{}
	retry := merge.New(e.Store, starter, handlertest.Logger(t))
	retry.Now = func() time.Time { return evening.Add(2 * time.Minute) }
	if err := retry.Handle(ctx, event); err != nil {
		t.Fatal(err)
	}
	started := starter.Executions()
	if len(started) != 1 || started[0].JobID != grant.JobID {
		t.Fatalf("the retry started %+v, want the training of job %s", started, grant.JobID)
	}
	if list := decode[api.JobList](t, call(t, h, get("/jobs", map[string]string{"upload": "late.csv"}))); len(list.Jobs) != 1 || list.Jobs[0].ID != grant.JobID {
		t.Fatalf("jobs of the upload: %+v", list.Jobs)
	}
}

func putFile(t *testing.T, p store.PresignedPut, body string) {
	t.Helper()
	req, err := http.NewRequest(p.Method, p.URL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range p.Headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("presigned PUT: %d", resp.StatusCode)
	}
}
