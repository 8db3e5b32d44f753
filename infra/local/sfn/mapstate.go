package sfn

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
)

// DefaultMapConcurrency is how many iterations a Map state runs at once
// locally when neither its MaxConcurrency nor Interpreter.MapConcurrency
// bounds it lower.
const DefaultMapConcurrency = 40

// runMap runs a Map state on its effective input (after InputPath) and
// returns the array of its iterations' outputs, in item order: the items
// (ItemsPath or ItemReader), each item's input (ItemSelector), the
// ItemProcessor's states on each, at most the concurrency bound at once.
// ResultSelector, ResultPath and OutputPath follow in attempt.
func (r *run) runMap(ctx context.Context, s *state, env evalEnv, th *thread) (any, error) {
	m := s.mapping
	items, err := r.mapItems(ctx, m, env)
	if err != nil {
		r.emit(th, Event{Type: EventMapStateFailed})
		return nil, err
	}
	n := len(items)
	r.emit(th, Event{Type: EventMapStateStarted, Length: &n})
	var mapRun string
	if m.distributed {
		mapRun = r.mapRunARN(s)
		r.emit(th, Event{Type: EventMapRunStarted, MapRunARN: mapRun})
	}
	r.logger.Info("map started", "state", s.name, "items", n, "distributed", m.distributed, "concurrency", r.mapConcurrency(m))
	results, err := r.iterate(ctx, s, env, items, th, mapRun)
	var f *Failure
	switch {
	case err == nil:
		if m.distributed {
			r.emit(th, Event{Type: EventMapRunSucceeded})
		}
		r.emit(th, Event{Type: EventMapStateSucceeded})
		return results, nil
	case ctx.Err() != nil:
		if m.distributed {
			r.emit(th, Event{Type: EventMapRunAborted})
		}
		r.emit(th, Event{Type: EventMapStateAborted})
	default:
		if m.distributed {
			e := Event{Type: EventMapRunFailed}
			if errors.As(err, &f) {
				e.Error, e.Cause = f.Name, f.Cause
			}
			r.emit(th, e)
		}
		r.emit(th, Event{Type: EventMapStateFailed})
	}
	return nil, err
}

// mapItems selects the Map's items: read by its ItemReader, or the array at
// ItemsPath ($, the effective input, by default).
func (r *run) mapItems(ctx context.Context, m *mapConfig, env evalEnv) ([]any, error) {
	if m.reader != nil {
		return r.readItems(ctx, m.reader, env)
	}
	v, path := env.input, "$"
	if m.itemsPath != nil {
		path = m.itemsPath.String()
		var ok bool
		if v, ok = env.lookup(m.itemsPath); !ok {
			return nil, failf(ErrorRuntime, "Invalid path '%s' : No results for path: %s in the ItemsPath", path, path)
		}
	}
	items, ok := v.([]any)
	if !ok {
		return nil, failf(ErrorRuntime, "The ItemsPath '%s' must select an array, not a %s", path, jsonTypeName(v))
	}
	return items, nil
}

// readItems reads an ItemReader's JSON array from S3.
func (r *run) readItems(ctx context.Context, ir *itemReader, env evalEnv) ([]any, error) {
	v, err := ir.parameters(env)
	if err != nil {
		return nil, err
	}
	params, _ := v.(map[string]any)
	bucket, _ := params["Bucket"].(string)
	key, _ := params["Key"].(string)
	version, _ := params["VersionId"].(string)
	if _, has := params["VersionId"]; bucket == "" || key == "" || (has && version == "") {
		return nil, failf(ErrorItemReaderFailed, "The ItemReader's Parameters must give a non-empty string Bucket, Key and (if any) VersionId, not %s", mustEncodeJSON(params))
	}
	if r.it.Objects == nil {
		return nil, failf(ErrorItemReaderFailed, "The ItemReader cannot read s3://%s/%s: the local Step Functions has no S3 object reader", bucket, key)
	}
	data, err := r.it.Objects.GetObject(ctx, bucket, key, version)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, failf(ErrorItemReaderFailed, "The ItemReader could not read its items: %v", err)
	}
	doc, err := decodeJSON(data)
	if err != nil {
		return nil, failf(ErrorItemReaderFailed, "The ItemReader's object s3://%s/%s is not JSON: %v", bucket, key, err)
	}
	items, ok := doc.([]any)
	if !ok {
		return nil, failf(ErrorItemReaderFailed, "The ItemReader's object s3://%s/%s holds a %s, not a JSON array", bucket, key, jsonTypeName(doc))
	}
	if ir.maxItems > 0 && len(items) > ir.maxItems {
		items = items[:ir.maxItems]
	}
	return items, nil
}

// mapConcurrency is how many iterations of the Map run at once.
func (r *run) mapConcurrency(m *mapConfig) int {
	limit := cmp.Or(r.it.MapConcurrency, DefaultMapConcurrency)
	if m.maxConcurrency > 0 {
		limit = min(limit, m.maxConcurrency)
	}
	return limit
}

// iterate runs the items through the ItemProcessor, each iteration's output
// at its item's index. An inline Map fails with the first failed iteration's
// error; a distributed one puts a failed item's {"Error", "Cause"} at its
// index, and fails with States.ExceedToleratedFailureThreshold once the
// failures exceed its thresholds. Either way the running iterations are
// stopped and no more are started.
func (r *run) iterate(ctx context.Context, s *state, env evalEnv, items []any, th *thread, mapRun string) ([]any, error) {
	m := s.mapping
	n := len(items)
	results := make([]any, n)
	iterCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var (
		mu     sync.Mutex // guards failed and mapErr
		failed int
		mapErr error
		next   atomic.Int64
		wg     sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if mapErr == nil {
			mapErr = err
			stop(err)
		}
	}
	itemFailed := func(i int, f *Failure) {
		mu.Lock()
		failed++
		count := failed
		mu.Unlock()
		results[i] = map[string]any{"Error": f.Name, "Cause": f.Cause}
		r.logger.Warn("map item failed", "state", s.name, "item", i, "error", f.Name, "cause", f.Cause, "failed", count, "items", n)
		if m.exceeded(count, n) {
			fail(failf(ErrorExceedToleratedFailureThreshold,
				"The Map Run of state %q failed: %d of %d items failed, more than it tolerates (%s). The last failure: %s",
				s.name, count, n, m.thresholds(), f.Error()))
		}
	}
	for range min(r.mapConcurrency(m), n) {
		wg.Go(func() {
			for iterCtx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				input, err := r.itemInput(s, env, i, items[i])
				if err != nil {
					fail(err)
					return
				}
				out, err := r.iteration(iterCtx, s, i, input, th, mapRun)
				switch {
				case err == nil:
					results[i] = out
				case iterCtx.Err() != nil:
					return
				case m.distributed:
					itemFailed(i, asFailure(err))
				default:
					fail(asFailure(err))
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if mapErr != nil {
		return nil, mapErr
	}
	return results, nil
}

// itemInput is an iteration's input: the ItemSelector on the Map's
// effective input with $$.Map.Item.Index and $$.Map.Item.Value, or the item.
func (r *run) itemInput(s *state, env evalEnv, i int, item any) (any, error) {
	selector := s.mapping.itemSelector
	if selector == nil {
		return item, nil
	}
	object, _ := env.context.(map[string]any)
	object = maps.Clone(object)
	object["Map"] = map[string]any{"Item": map[string]any{"Index": json.Number(strconv.Itoa(i)), "Value": item}}
	return selector(evalEnv{input: env.input, context: object})
}

// iteration runs the ItemProcessor's states on one item's input. An inline
// iteration's events go in the execution's history between
// MapIterationStarted and its end; a distributed one runs as a child
// execution whose history is its own and is not kept.
func (r *run) iteration(ctx context.Context, s *state, i int, input any, th *thread, mapRun string) (any, error) {
	b := s.mapping.processor
	if s.mapping.distributed {
		child := r.child(mapRun, i, input)
		return child.runStates(ctx, b, b.startAt, input, &thread{})
	}
	ith := r.fork(th)
	r.emit(ith, Event{Type: EventMapIterationStarted, State: s.name, Index: &i})
	out, err := r.runStates(ctx, b, b.startAt, input, ith)
	end := EventMapIterationSucceeded
	switch {
	case err != nil && ctx.Err() != nil:
		end = EventMapIterationAborted
	case err != nil:
		end = EventMapIterationFailed
	}
	r.emit(ith, Event{Type: end, State: s.name, Index: &i})
	return out, err
}

// fork starts a line of events (an inline iteration's) from th's last event.
func (r *run) fork(th *thread) *thread {
	r.mu.Lock()
	defer r.mu.Unlock()
	return &thread{last: th.last}
}

// mapRunARN names a Distributed Map's run as AWS does:
// arn:aws:states:REGION:ACCOUNT:mapRun:MACHINE/LABEL:ID, the label defaulting
// to the state's name.
func (r *run) mapRunARN(s *state) string {
	base := strings.Replace(r.exec.StateMachineARN, ":stateMachine:", ":mapRun:", 1)
	return base + "/" + cmp.Or(s.mapping.label, s.name) + ":" + uuid.NewString()
}

// child is the run of a Distributed Map's item: a child execution of the
// same state machine, with the item's input as its execution input and a
// history of its own (and its own limit of events), which is not recorded.
func (r *run) child(mapRun string, i int, input any) *run {
	name := strconv.Itoa(i)
	info := r.exec
	info.ARN = strings.Replace(mapRun, ":mapRun:", ":execution:", 1) + ":" + name
	info.Name, info.StartTime = name, r.clock.Now()
	return &run{it: r.it, exec: info, clock: r.clock, logger: r.logger.With("mapRun", mapRun, "item", i),
		random: r.random, execInput: input}
}

// asFailure is err as a States error; an error that is not one is a
// States.Runtime error.
func asFailure(err error) *Failure {
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	return &Failure{Name: ErrorRuntime, Cause: err.Error()}
}
