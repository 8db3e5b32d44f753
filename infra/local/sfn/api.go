package sfn

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// targetPrefix starts the X-Amz-Target header of every Step Functions
// request.
const targetPrefix = "AWSStepFunctions."

// contentType is the AWS JSON 1.0 protocol's content type.
const contentType = "application/x-amz-json-1.0"

// maxRequestBytes bounds a request body; Step Functions' own input limit is
// 256 KiB.
const maxRequestBytes = 1 << 20

// IsRequest reports whether r is a Step Functions API request, by its
// X-Amz-Target header, so that one port can serve several services.
func IsRequest(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
}

// ServeHTTP serves the Step Functions API over the AWS JSON 1.0 protocol:
// POST / with X-Amz-Target: AWSStepFunctions.<Operation>. Supported
// operations: StartExecution, DescribeExecution, ListExecutions,
// StopExecution, RedriveExecution, GetExecutionHistory, DescribeStateMachine,
// ListStateMachines. Errors are HTTP 400 (500 for internal failures) with
// {"__type": CODE, "message": …}.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", uuid.NewString())
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "UnknownOperationException", "Step Functions requests are POST requests")
		return
	}
	name := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	op, ok := s.operations()[name]
	if !ok {
		writeError(w, http.StatusBadRequest, "UnknownOperationException", fmt.Sprintf("operation %q is not supported by the local Step Functions", name))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeValidation, fmt.Sprintf("read request body: %v", err))
		return
	}
	resp, err := op(r.Context(), body)
	var apiErr *APIError
	switch {
	case errors.As(err, &apiErr):
		writeError(w, http.StatusBadRequest, apiErr.Code, apiErr.Message)
		return
	case err != nil:
		s.logger.ErrorContext(r.Context(), "step functions request failed", "operation", name, "error", err)
		writeError(w, http.StatusInternalServerError, "InternalFailure", err.Error())
		return
	}
	data, err := json.Marshal(resp)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "InternalFailure", fmt.Sprintf("encode response: %v", err))
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Write(data)
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	data, _ := json.Marshal(map[string]string{"__type": code, "message": message})
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	w.Write(data)
}

type operation func(ctx context.Context, body []byte) (any, error)

// handle decodes a request body into In and calls fn.
func handle[In any](fn func(ctx context.Context, in In) (any, error)) operation {
	return func(ctx context.Context, body []byte) (any, error) {
		var in In
		if len(body) > 0 {
			if err := json.Unmarshal(body, &in); err != nil {
				return nil, apiErrorf(CodeValidation, "invalid request body: %v", err)
			}
		}
		return fn(ctx, in)
	}
}

func (s *Service) operations() map[string]operation {
	return map[string]operation{
		"StartExecution":       handle(s.apiStartExecution),
		"DescribeExecution":    handle(s.apiDescribeExecution),
		"ListExecutions":       handle(s.apiListExecutions),
		"StopExecution":        handle(s.apiStopExecution),
		"RedriveExecution":     handle(s.apiRedriveExecution),
		"GetExecutionHistory":  handle(s.apiGetExecutionHistory),
		"DescribeStateMachine": handle(s.apiDescribeStateMachine),
		"ListStateMachines":    handle(s.apiListStateMachines),
	}
}

// epoch is a time on the wire: seconds since the epoch, with milliseconds.
type epoch time.Time

func (t epoch) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(time.Time(t).UnixMilli())/1000, 'f', -1, 64)), nil
}

func epochPtr(t *time.Time) *epoch {
	if t == nil {
		return nil
	}
	e := epoch(*t)
	return &e
}

type dataDetails struct {
	Included bool `json:"included"`
}

var included = &dataDetails{Included: true}

type startExecutionRequest struct {
	StateMachineArn string `json:"stateMachineArn"`
	Name            string `json:"name"`
	Input           string `json:"input"`
}

func (s *Service) apiStartExecution(ctx context.Context, in startExecutionRequest) (any, error) {
	ex, err := s.StartExecution(ctx, in.StateMachineArn, in.Name, in.Input)
	if err != nil {
		return nil, err
	}
	return struct {
		ExecutionArn string `json:"executionArn"`
		StartDate    epoch  `json:"startDate"`
	}{ex.ARN, epoch(ex.StartDate)}, nil
}

type redriveExecutionRequest struct {
	ExecutionArn string `json:"executionArn"`
	ClientToken  string `json:"clientToken"`
}

func (s *Service) apiRedriveExecution(ctx context.Context, in redriveExecutionRequest) (any, error) {
	ex, err := s.RedriveExecution(ctx, in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	return struct {
		RedriveDate epoch `json:"redriveDate"`
	}{epoch(*ex.RedriveDate)}, nil
}

type executionArnRequest struct {
	ExecutionArn string `json:"executionArn"`
}

func (s *Service) apiDescribeExecution(_ context.Context, in executionArnRequest) (any, error) {
	ex, err := s.DescribeExecution(in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	out := struct {
		ExecutionArn    string       `json:"executionArn"`
		StateMachineArn string       `json:"stateMachineArn"`
		Name            string       `json:"name"`
		Status          Status       `json:"status"`
		StartDate       epoch        `json:"startDate"`
		StopDate        *epoch       `json:"stopDate,omitempty"`
		Input           string       `json:"input"`
		InputDetails    *dataDetails `json:"inputDetails"`
		Output          string       `json:"output,omitempty"`
		OutputDetails   *dataDetails `json:"outputDetails,omitempty"`
		Error           string       `json:"error,omitempty"`
		Cause           string       `json:"cause,omitempty"`
		RedriveCount    int          `json:"redriveCount"`
		RedriveDate     *epoch       `json:"redriveDate,omitempty"`
		RedriveStatus   string       `json:"redriveStatus"`
	}{
		ExecutionArn: ex.ARN, StateMachineArn: ex.StateMachineARN, Name: ex.Name, Status: ex.Status,
		StartDate: epoch(ex.StartDate), StopDate: epochPtr(ex.StopDate), Input: ex.Input, InputDetails: included,
		Output: ex.Output, Error: ex.Error, Cause: ex.Cause,
		RedriveCount: ex.RedriveCount, RedriveDate: epochPtr(ex.RedriveDate), RedriveStatus: "NOT_REDRIVABLE",
	}
	if ex.Redrivable() {
		out.RedriveStatus = "REDRIVABLE"
	}
	if ex.Status == StatusSucceeded {
		out.OutputDetails = included
	}
	return out, nil
}

type executionListItem struct {
	ExecutionArn    string `json:"executionArn"`
	StateMachineArn string `json:"stateMachineArn"`
	Name            string `json:"name"`
	Status          Status `json:"status"`
	StartDate       epoch  `json:"startDate"`
	StopDate        *epoch `json:"stopDate,omitempty"`
}

type listExecutionsRequest struct {
	StateMachineArn string `json:"stateMachineArn"`
	StatusFilter    Status `json:"statusFilter"`
	MaxResults      int    `json:"maxResults"`
	NextToken       string `json:"nextToken"`
}

func (s *Service) apiListExecutions(_ context.Context, in listExecutionsRequest) (any, error) {
	switch in.StatusFilter {
	case "", StatusRunning, StatusSucceeded, StatusFailed, StatusTimedOut, StatusAborted, "PENDING_REDRIVE":
	default:
		return nil, apiErrorf(CodeValidation, "invalid statusFilter %q", in.StatusFilter)
	}
	all, err := s.ListExecutions(in.StateMachineArn, in.StatusFilter)
	if err != nil {
		return nil, err
	}
	page, next, err := paginate(all, func(e Execution) string { return e.ARN }, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	items := make([]executionListItem, len(page))
	for i, ex := range page {
		items[i] = executionListItem{ex.ARN, ex.StateMachineARN, ex.Name, ex.Status, epoch(ex.StartDate), epochPtr(ex.StopDate)}
	}
	return struct {
		Executions []executionListItem `json:"executions"`
		NextToken  string              `json:"nextToken,omitempty"`
	}{items, next}, nil
}

type stopExecutionRequest struct {
	ExecutionArn string `json:"executionArn"`
	Error        string `json:"error"`
	Cause        string `json:"cause"`
}

func (s *Service) apiStopExecution(ctx context.Context, in stopExecutionRequest) (any, error) {
	ex, err := s.StopExecution(ctx, in.ExecutionArn, in.Error, in.Cause)
	if err != nil {
		return nil, err
	}
	return struct {
		StopDate *epoch `json:"stopDate"`
	}{epochPtr(ex.StopDate)}, nil
}

type historyRequest struct {
	ExecutionArn         string `json:"executionArn"`
	MaxResults           int    `json:"maxResults"`
	NextToken            string `json:"nextToken"`
	ReverseOrder         bool   `json:"reverseOrder"`
	IncludeExecutionData *bool  `json:"includeExecutionData"`
}

func (s *Service) apiGetExecutionHistory(_ context.Context, in historyRequest) (any, error) {
	events, err := s.History(in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	if in.ReverseOrder {
		for i, j := 0, len(events)-1; i < j; i, j = i+1, j-1 {
			events[i], events[j] = events[j], events[i]
		}
	}
	page, next, err := paginate(events, func(e Event) string { return strconv.FormatInt(e.ID, 10) }, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	withData := in.IncludeExecutionData == nil || *in.IncludeExecutionData
	wire := make([]map[string]any, len(page))
	for i, e := range page {
		wire[i] = wireEvent(e, withData)
	}
	return struct {
		Events    []map[string]any `json:"events"`
		NextToken string           `json:"nextToken,omitempty"`
	}{wire, next}, nil
}

// wireEvent renders an event as a Step Functions HistoryEvent: its details
// go in the object named after its type.
func wireEvent(e Event, withData bool) map[string]any {
	m := map[string]any{"id": e.ID, "timestamp": epoch(e.Timestamp), "type": e.Type}
	if e.PreviousEventID != 0 {
		m["previousEventId"] = e.PreviousEventID
	}
	details := map[string]any{}
	set := func(key, v string) {
		if v != "" {
			details[key] = v
		}
	}
	set("name", e.State)
	if withData {
		set("input", e.Input)
		set("output", e.Output)
		set("parameters", e.Parameters)
	}
	if _, ok := details["input"]; ok {
		details["inputDetails"] = map[string]bool{"truncated": false}
	}
	if _, ok := details["output"]; ok {
		details["outputDetails"] = map[string]bool{"truncated": false}
	}
	set("resource", e.Resource)
	set("resourceType", e.ResourceType)
	set("region", e.Region)
	set("error", e.Error)
	set("cause", e.Cause)
	set("roleArn", e.RoleARN)
	if e.RedriveCount > 0 {
		details["redriveCount"] = e.RedriveCount
	}
	if e.TimeoutSeconds > 0 {
		details["timeoutInSeconds"] = e.TimeoutSeconds
	}
	if e.Length != nil {
		details["length"] = *e.Length
	}
	if e.Index != nil {
		details["index"] = *e.Index
	}
	set("mapRunArn", e.MapRunARN)
	if len(details) > 0 {
		m[detailsKey(e.Type)] = details
	}
	return m
}

// detailsKey names the details field of an event type.
func detailsKey(typ string) string {
	switch {
	case strings.HasSuffix(typ, "StateEntered"):
		return "stateEnteredEventDetails"
	case strings.HasSuffix(typ, "StateExited"):
		return "stateExitedEventDetails"
	}
	return strings.ToLower(typ[:1]) + typ[1:] + "EventDetails"
}

type stateMachineArnRequest struct {
	StateMachineArn string `json:"stateMachineArn"`
}

func (s *Service) apiDescribeStateMachine(_ context.Context, in stateMachineArnRequest) (any, error) {
	sm, err := s.DescribeStateMachine(in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	return struct {
		StateMachineArn string `json:"stateMachineArn"`
		Name            string `json:"name"`
		Status          string `json:"status"`
		Definition      string `json:"definition"`
		RoleArn         string `json:"roleArn"`
		Type            string `json:"type"`
		CreationDate    epoch  `json:"creationDate"`
	}{sm.ARN, sm.Name, "ACTIVE", sm.Definition, sm.RoleARN, "STANDARD", epoch(sm.CreationDate)}, nil
}

type pageRequest struct {
	MaxResults int    `json:"maxResults"`
	NextToken  string `json:"nextToken"`
}

func (s *Service) apiListStateMachines(_ context.Context, in pageRequest) (any, error) {
	page, next, err := paginate(s.ListStateMachines(), func(sm StateMachine) string { return sm.ARN }, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	type item struct {
		StateMachineArn string `json:"stateMachineArn"`
		Name            string `json:"name"`
		Type            string `json:"type"`
		CreationDate    epoch  `json:"creationDate"`
	}
	items := make([]item, len(page))
	for i, sm := range page {
		items[i] = item{sm.ARN, sm.Name, "STANDARD", epoch(sm.CreationDate)}
	}
	return struct {
		StateMachines []item `json:"stateMachines"`
		NextToken     string `json:"nextToken,omitempty"`
	}{items, next}, nil
}

// Page sizes, as Step Functions has them.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// paginate returns the page of items after the one whose key is in token
// (opaque to clients), and the token for the next page, empty at the end.
func paginate[T any](items []T, key func(T) string, maxResults int, token string) ([]T, string, error) {
	switch {
	case maxResults < 0 || maxResults > maxPageSize:
		return nil, "", apiErrorf(CodeValidation, "maxResults must be from 0 to %d", maxPageSize)
	case maxResults == 0:
		maxResults = defaultPageSize
	}
	start := 0
	if token != "" {
		after, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			return nil, "", apiErrorf(CodeInvalidToken, "Invalid Token: '%s'", token)
		}
		start = -1
		for i, it := range items {
			if key(it) == string(after) {
				start = i + 1
				break
			}
		}
		if start < 0 {
			return nil, "", apiErrorf(CodeInvalidToken, "Invalid Token: '%s'", token)
		}
	}
	end := min(start+maxResults, len(items))
	page := items[start:end]
	if end == len(items) {
		return page, "", nil
	}
	return page, base64.RawURLEncoding.EncodeToString([]byte(key(items[end-1]))), nil
}
