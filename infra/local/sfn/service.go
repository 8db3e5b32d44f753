package sfn

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Options configures a Service.
type Options struct {
	// Dir is where executions are persisted (created if missing).
	Dir string
	// Invoker runs the functions of Task states.
	Invoker Invoker
	// Objects reads the S3 objects of Distributed Maps' ItemReaders (see
	// Interpreter.Objects).
	Objects ObjectReader
	// MapConcurrency bounds the iterations a Map state runs at once (see
	// Interpreter.MapConcurrency).
	MapConcurrency int
	// Clock is used for Retry intervals, Wait states and dates; nil means
	// SystemClock.
	Clock Clock
	// Logger gets the service's and the interpreter's logs; nil means
	// slog.Default().
	Logger *slog.Logger
	// Region and Account make up ARNs; defaults "us-east-1" and
	// "000000000000".
	Region  string
	Account string
}

// Service is an embedded Step Functions service: it holds registered state
// machines and their executions, runs executions in the background, and
// persists them under Options.Dir. It is safe for concurrent use.
type Service struct {
	region, account string
	clock           Clock
	logger          *slog.Logger
	interp          *Interpreter
	store           *store

	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	machines   map[string]*stateMachine // by ARN
	executions map[string]*execution    // by ARN
}

// StateMachine describes a registered state machine.
type StateMachine struct {
	ARN          string
	Name         string
	Definition   string
	RoleARN      string
	CreationDate time.Time
}

type stateMachine struct {
	StateMachine
	def *Definition
}

// Execution is an execution's record, as DescribeExecution reports it and as
// it is persisted.
type Execution struct {
	ARN             string     `json:"executionArn"`
	Name            string     `json:"name"`
	StateMachineARN string     `json:"stateMachineArn"`
	Status          Status     `json:"status"`
	Input           string     `json:"input"`
	Output          string     `json:"output,omitempty"`
	Error           string     `json:"error,omitempty"`
	Cause           string     `json:"cause,omitempty"`
	StartDate       time.Time  `json:"startDate"`
	StopDate        *time.Time `json:"stopDate,omitempty"`
	// RedriveCount counts the redrives; RedriveDate is the last one's time.
	RedriveCount int        `json:"redriveCount,omitempty"`
	RedriveDate  *time.Time `json:"redriveDate,omitempty"`
}

// Redrivable reports whether RedriveExecution can continue the execution: it
// failed, timed out or was aborted.
func (e Execution) Redrivable() bool {
	return e.Status == StatusFailed || e.Status == StatusTimedOut || e.Status == StatusAborted
}

// execution is an execution known to the service. rec is guarded by
// Service.mu; done is closed once the execution is over.
type execution struct {
	rec    Execution
	done   chan struct{}
	cancel context.CancelCauseFunc
	events *eventLog
}

// CauseStopped is the cause given to executions that were running when the
// service stopped.
const CauseStopped = "The local stack stopped while the execution was running."

// API error codes, as Step Functions names them on the wire.
const (
	CodeExecutionAlreadyExists   = "ExecutionAlreadyExists"
	CodeExecutionDoesNotExist    = "ExecutionDoesNotExist"
	CodeStateMachineDoesNotExist = "StateMachineDoesNotExist"
	CodeInvalidArn               = "InvalidArn"
	CodeInvalidName              = "InvalidName"
	CodeInvalidExecutionInput    = "InvalidExecutionInput"
	CodeInvalidDefinition        = "InvalidDefinition"
	CodeInvalidToken             = "InvalidToken"
	CodeValidation               = "ValidationException"
	CodeExecutionNotRedrivable   = "ExecutionNotRedrivable"
)

// APIError is an error the service reports to clients with its Step
// Functions error code.
type APIError struct {
	Code    string
	Message string
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

func apiErrorf(code, format string, args ...any) *APIError {
	return &APIError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// validName holds for names of state machines and executions.
var validName = regexp.MustCompile(`^[0-9A-Za-z_-]{1,80}$`)

// New opens the service's directory, loads the executions persisted there,
// and marks those that were still running as ABORTED with CauseStopped.
func New(opts Options) (*Service, error) {
	if opts.Dir == "" {
		return nil, errors.New("new step functions service: no directory")
	}
	if opts.Invoker == nil {
		return nil, errors.New("new step functions service: no invoker")
	}
	s := &Service{
		region: cmp.Or(opts.Region, "us-east-1"), account: cmp.Or(opts.Account, "000000000000"),
		clock: opts.Clock, logger: opts.Logger,
		machines: map[string]*stateMachine{}, executions: map[string]*execution{},
	}
	if s.clock == nil {
		s.clock = SystemClock{}
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	s.interp = &Interpreter{Invoker: opts.Invoker, Objects: opts.Objects, MapConcurrency: opts.MapConcurrency,
		Clock: s.clock, Logger: s.logger, Region: s.region}
	st, err := openStore(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("new step functions service: %w", err)
	}
	s.store = st
	recs, err := st.loadExecutions()
	if err != nil {
		return nil, fmt.Errorf("new step functions service: %w", err)
	}
	for _, rec := range recs {
		ex := &execution{rec: rec, done: make(chan struct{}), events: st.eventLog(rec)}
		close(ex.done)
		if rec.Status == StatusRunning {
			if err := s.abortStale(ex); err != nil {
				return nil, fmt.Errorf("new step functions service: %w", err)
			}
		}
		s.executions[rec.ARN] = ex
	}
	s.ctx, s.cancel = context.WithCancelCause(context.Background())
	return s, nil
}

// abortStale marks an execution left RUNNING by a previous process as
// ABORTED and records why.
func (s *Service) abortStale(ex *execution) error {
	now := s.clock.Now()
	ex.rec.Status, ex.rec.Cause, ex.rec.StopDate = StatusAborted, CauseStopped, &now
	if err := ex.events.appendNext(Event{Type: EventExecutionAborted, Timestamp: now, Cause: CauseStopped}); err != nil {
		return err
	}
	s.logger.Warn("execution aborted: it was running when the service stopped", "execution", ex.rec.ARN)
	return s.store.saveExecution(ex.rec)
}

// Close aborts the running executions with CauseStopped and waits for them.
func (s *Service) Close() error {
	s.cancel(&Failure{Cause: CauseStopped})
	s.wg.Wait()
	return nil
}

func (s *Service) stateMachineARN(name string) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", s.region, s.account, name)
}

func (s *Service) executionARN(machine, name string) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:execution:%s:%s", s.region, s.account, machine, name)
}

// RegisterStateMachine registers (or replaces) the state machine name with a
// definition and returns its ARN. Invalid definitions are refused with every
// problem found.
func (s *Service) RegisterStateMachine(name string, definition []byte) (string, error) {
	if !validName.MatchString(name) {
		return "", apiErrorf(CodeInvalidName, "invalid state machine name %q: 1 to 80 characters of letters, digits, - and _", name)
	}
	def, err := ParseDefinition(definition)
	if err != nil {
		return "", &APIError{Code: CodeInvalidDefinition, Message: fmt.Sprintf("state machine %s: %v", name, err)}
	}
	sm := &stateMachine{
		StateMachine: StateMachine{
			ARN:          s.stateMachineARN(name),
			Name:         name,
			Definition:   string(definition),
			RoleARN:      fmt.Sprintf("arn:aws:iam::%s:role/service-role/StepFunctions-%s-role", s.account, name),
			CreationDate: s.clock.Now(),
		},
		def: def,
	}
	s.mu.Lock()
	s.machines[sm.ARN] = sm
	s.mu.Unlock()
	s.logger.Info("state machine registered", "stateMachine", sm.ARN)
	return sm.ARN, nil
}

// DescribeStateMachine returns a registered state machine.
func (s *Service) DescribeStateMachine(arn string) (StateMachine, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sm, ok := s.machines[arn]
	if !ok {
		return StateMachine{}, apiErrorf(CodeStateMachineDoesNotExist, "State Machine Does Not Exist: '%s'", arn)
	}
	return sm.StateMachine, nil
}

// ListStateMachines returns the registered state machines by name.
func (s *Service) ListStateMachines() []StateMachine {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]StateMachine, 0, len(s.machines))
	for _, sm := range s.machines {
		out = append(out, sm.StateMachine)
	}
	slices.SortFunc(out, func(a, b StateMachine) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// StartExecution starts an execution of a state machine with input (a JSON
// text; empty means {}). An empty name gets a UUID. Starting a name that
// already exists returns that execution if it is RUNNING with the same input,
// as Step Functions does for standard workflows, and fails with
// ExecutionAlreadyExists otherwise.
func (s *Service) StartExecution(ctx context.Context, stateMachineARN, name, input string) (Execution, error) {
	if name == "" {
		name = uuid.NewString()
	}
	if !validName.MatchString(name) {
		return Execution{}, apiErrorf(CodeInvalidName, "Invalid Name: '%s': 1 to 80 characters of letters, digits, - and _", name)
	}
	if input == "" {
		input = "{}"
	}
	if !json.Valid([]byte(input)) {
		return Execution{}, apiErrorf(CodeInvalidExecutionInput, "Invalid State Machine Execution Input: the input is not JSON")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ctx.Err(); err != nil {
		return Execution{}, fmt.Errorf("start execution: the service is closed: %w", err)
	}
	sm, ok := s.machines[stateMachineARN]
	if !ok {
		return Execution{}, apiErrorf(CodeStateMachineDoesNotExist, "State Machine Does Not Exist: '%s'", stateMachineARN)
	}
	arn := s.executionARN(sm.Name, name)
	if ex, ok := s.executions[arn]; ok {
		if ex.rec.Status == StatusRunning && ex.rec.Input == input {
			return ex.rec, nil
		}
		return Execution{}, apiErrorf(CodeExecutionAlreadyExists, "Execution Already Exists: '%s'", arn)
	}
	rec := Execution{ARN: arn, Name: name, StateMachineARN: sm.ARN, Status: StatusRunning, Input: input, StartDate: s.clock.Now()}
	if err := s.store.saveExecution(rec); err != nil {
		return Execution{}, fmt.Errorf("start execution %s: %w", arn, err)
	}
	runCtx, cancel := context.WithCancelCause(s.ctx)
	ex := &execution{rec: rec, done: make(chan struct{}), cancel: cancel, events: s.store.eventLog(rec)}
	s.executions[arn] = ex
	s.wg.Add(1)
	go s.execute(runCtx, ex, rec, sm, func(ctx context.Context, info ExecutionInfo, record func(Event)) Outcome {
		return s.interp.Run(ctx, sm.def, info, rec.Input, record)
	})
	s.logger.InfoContext(ctx, "execution started", "execution", arn)
	return rec, nil
}

// RedriveExecution continues a failed, timed-out or aborted execution from
// its unsuccessful step (see Interpreter.Redrive), under the same ARN, and
// returns its record, RUNNING again. Any other execution is refused with
// ExecutionNotRedrivable.
func (s *Service) RedriveExecution(ctx context.Context, arn string) (Execution, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ctx.Err(); err != nil {
		return Execution{}, fmt.Errorf("redrive execution: the service is closed: %w", err)
	}
	ex, err := s.lookup(arn)
	if err != nil {
		return Execution{}, err
	}
	if !ex.rec.Redrivable() {
		return Execution{}, apiErrorf(CodeExecutionNotRedrivable, "Execution is %s and cannot be redriven: '%s'", ex.rec.Status, arn)
	}
	sm, ok := s.machines[ex.rec.StateMachineARN]
	if !ok {
		return Execution{}, apiErrorf(CodeStateMachineDoesNotExist, "State Machine Does Not Exist: '%s'", ex.rec.StateMachineARN)
	}
	history, err := ex.events.read()
	if err != nil {
		return Execution{}, fmt.Errorf("redrive %s: %w", arn, err)
	}
	now := s.clock.Now()
	rec := ex.rec
	rec.Status, rec.Output, rec.Error, rec.Cause, rec.StopDate = StatusRunning, "", "", "", nil
	rec.RedriveCount, rec.RedriveDate = rec.RedriveCount+1, &now
	if err := s.store.saveExecution(rec); err != nil {
		return Execution{}, fmt.Errorf("redrive execution %s: %w", arn, err)
	}
	runCtx, cancel := context.WithCancelCause(s.ctx)
	ex.rec, ex.done, ex.cancel = rec, make(chan struct{}), cancel
	s.wg.Add(1)
	go s.execute(runCtx, ex, rec, sm, func(ctx context.Context, info ExecutionInfo, record func(Event)) Outcome {
		return s.interp.Redrive(ctx, sm.def, info, history, rec.RedriveCount, record)
	})
	s.logger.InfoContext(ctx, "execution redriven", "execution", arn, "redrive_count", rec.RedriveCount)
	return rec, nil
}

// execute runs an execution (with run) to its end and records the outcome.
func (s *Service) execute(ctx context.Context, ex *execution, rec Execution, sm *stateMachine,
	run func(context.Context, ExecutionInfo, func(Event)) Outcome) {
	defer s.wg.Done()
	defer close(ex.done)
	defer ex.cancel(nil)
	info := ExecutionInfo{
		ARN: rec.ARN, Name: rec.Name, StartTime: rec.StartDate, RoleARN: sm.RoleARN,
		StateMachineARN: sm.ARN, StateMachineName: sm.Name,
	}
	out := run(ctx, info, func(e Event) {
		if err := ex.events.append(e); err != nil {
			s.logger.Error("record history event", "execution", rec.ARN, "error", err)
		}
	})
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ex.rec.Status, ex.rec.Output, ex.rec.Error, ex.rec.Cause, ex.rec.StopDate = out.Status, out.Output, out.Error, out.Cause, &now
	if err := s.store.saveExecution(ex.rec); err != nil {
		s.logger.Error("save execution", "execution", ex.rec.ARN, "error", err)
	}
}

func (s *Service) lookup(arn string) (*execution, error) {
	if !strings.HasPrefix(arn, "arn:") {
		return nil, apiErrorf(CodeInvalidArn, "Invalid Arn: '%s'", arn)
	}
	ex, ok := s.executions[arn]
	if !ok {
		return nil, apiErrorf(CodeExecutionDoesNotExist, "Execution Does Not Exist: '%s'", arn)
	}
	return ex, nil
}

// DescribeExecution returns an execution's record.
func (s *Service) DescribeExecution(arn string) (Execution, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ex, err := s.lookup(arn)
	if err != nil {
		return Execution{}, err
	}
	return ex.rec, nil
}

// ListExecutions returns a state machine's executions, newest first,
// optionally only those with the given status.
func (s *Service) ListExecutions(stateMachineARN string, status Status) ([]Execution, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Execution
	known := s.machines[stateMachineARN] != nil
	for _, ex := range s.executions {
		if ex.rec.StateMachineARN != stateMachineARN {
			continue
		}
		known = true
		if status == "" || ex.rec.Status == status {
			out = append(out, ex.rec)
		}
	}
	if !known {
		return nil, apiErrorf(CodeStateMachineDoesNotExist, "State Machine Does Not Exist: '%s'", stateMachineARN)
	}
	slices.SortFunc(out, func(a, b Execution) int {
		if c := b.StartDate.Compare(a.StartDate); c != 0 {
			return c
		}
		return strings.Compare(b.Name, a.Name)
	})
	return out, nil
}

// History returns an execution's events in order.
func (s *Service) History(arn string) ([]Event, error) {
	s.mu.Lock()
	ex, err := s.lookup(arn)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	events, err := ex.events.read()
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", arn, err)
	}
	return events, nil
}

// StopExecution aborts a running execution with an optional error and cause
// and waits until it has stopped. Stopping an execution that is over changes
// nothing.
func (s *Service) StopExecution(ctx context.Context, arn, errorName, cause string) (Execution, error) {
	s.mu.Lock()
	ex, err := s.lookup(arn)
	var cancel context.CancelCauseFunc
	if err == nil {
		cancel = ex.cancel
	}
	s.mu.Unlock()
	if err != nil {
		return Execution{}, err
	}
	if cancel != nil {
		cancel(&Failure{Name: errorName, Cause: cause})
	}
	return s.Wait(ctx, arn)
}

// Wait waits until an execution is over (or ctx is done) and returns its
// record.
func (s *Service) Wait(ctx context.Context, arn string) (Execution, error) {
	s.mu.Lock()
	ex, err := s.lookup(arn)
	var done chan struct{}
	if err == nil {
		done = ex.done
	}
	s.mu.Unlock()
	if err != nil {
		return Execution{}, err
	}
	select {
	case <-done:
	case <-ctx.Done():
		return Execution{}, fmt.Errorf("wait for %s: %w", arn, ctx.Err())
	}
	return s.DescribeExecution(arn)
}
