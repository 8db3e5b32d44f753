package refit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stockcast/stockcast/shared/grouped"
	"github.com/stockcast/stockcast/shared/handlers/task"
	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/lstminput"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/stats"
	"github.com/stockcast/stockcast/shared/store"
)

// HandleGroups is the group step: it adds up the shards' partial sums — a shard whose refit
// failed has its partials computed from its data here — into the group series, fits and
// backtests them, and stores them as a grouped.Set at pipeline.GroupsKey. It returns the refit's
// output: every shard's result in shard order (a failed shard's with its Trend empty, to be
// published with its data only), the groups, and the summary over the whole dataset.
func (h *Handler) HandleGroups(ctx context.Context, t GroupsTask) (pipeline.RefitOutput, error) {
	ctx, end := platform.Trace(ctx, "refit-groups")
	out, err := h.groups(ctx, t)
	end(err)
	if err != nil {
		h.Logger.ErrorContext(ctx, "group refit failed", "job_id", t.Input.JobID, "error", err)
	}
	return out, task.Retryable(err)
}

func (h *Handler) groups(ctx context.Context, t GroupsTask) (pipeline.RefitOutput, error) {
	in := t.Input.TaskInput
	if err := task.Check("refit", in, h.Store); err != nil {
		return pipeline.RefitOutput{}, err
	}
	out, err := h.fitGroups(ctx, in, t.Input.Results.Shards)
	if err != nil {
		return pipeline.RefitOutput{}, h.failed(ctx, in.JobID, err)
	}
	if _, err := h.Jobs.Update(ctx, in.JobID, func(job *pipeline.Job) error {
		job.Refit = &pipeline.Refit{Status: pipeline.StatusSucceeded, Series: out.Series, Fallbacks: out.Fallbacks, Failed: out.Failed,
			FitMS: out.FitMS, TrendKey: out.Groups.Key}
		return nil
	}); err != nil {
		return pipeline.RefitOutput{}, err
	}
	h.Logger.InfoContext(ctx, "group series fitted", "job_id", in.JobID, "shards", len(out.Shards), "series", out.Series,
		"fallbacks", out.Fallbacks, "fit_ms", out.FitMS, "key", out.Groups.Key)
	return out, nil
}

func (h *Handler) fitGroups(ctx context.Context, in pipeline.TaskInput, results []json.RawMessage) (pipeline.RefitOutput, error) {
	index, err := pipeline.DatasetIndex(ctx, h.Store, in)
	if err != nil {
		return pipeline.RefitOutput{}, err
	}
	if len(results) != len(index) {
		return pipeline.RefitOutput{}, fmt.Errorf("refit: %d shard results for the %d shards of the dataset index", len(results), len(index))
	}
	work, stop := h.beforeDeadline(ctx)
	defer stop()
	out := pipeline.RefitOutput{Shards: make([]pipeline.ShardRefitOutput, len(index))}
	var sums series.PartialSums
	for k, raw := range results {
		sh, partials, err := h.shardPartials(work, index[k], raw)
		if err != nil {
			return pipeline.RefitOutput{}, h.stopped(work, err, "refit: partial sums of the shards", len(index))
		}
		if err := sums.Add(partials); err != nil {
			return pipeline.RefitOutput{}, fmt.Errorf("shard %d: %w", k, err)
		}
		out.Shards[k] = sh
	}
	groups := sums.Groups()
	if len(groups.Series) == 0 {
		return pipeline.RefitOutput{}, fmt.Errorf("dataset %s has no rows", in.DatasetKey)
	}
	started := time.Now()
	set, failed, err := h.fitAll(work, groups.Series)
	if err != nil {
		return pipeline.RefitOutput{}, err
	}
	fitMS := time.Since(started).Milliseconds()
	result := grouped.Set{Format: grouped.Format, Series: groups.Series, Trends: set}
	var pooled []*pipeline.Backtest
	if h.Select {
		sel, summary, err := h.selectModels(work, groups.Series, stats.Detect(groups.Series[0].Dates), func(names []string) ([]lstm.Series, error) {
			return groupInputs(groups, names)
		})
		if err != nil {
			return pipeline.RefitOutput{}, h.stopped(work, err, "refit: backtests of the groups", len(groups.Series))
		}
		result.Selections = sel
		pooled = append(pooled, summary)
	}
	a, err := h.put(ctx, pipeline.GroupsKey(in.JobID), result, "group results")
	if err != nil {
		return pipeline.RefitOutput{}, err
	}
	out.Groups = &a
	out.Series, out.Fallbacks, out.Failed, out.FitMS = len(set.Models), len(failed), pipeline.Listed(failed), fitMS
	for _, sh := range out.Shards {
		out.Series += sh.Series
		out.Fallbacks += sh.Fallbacks
		out.Failed = pipeline.Listed(append(out.Failed, sh.Failed...))
		out.FitMS += sh.FitMS
		out.Rows += sh.Rows
		if sh.FirstDate != "" && (out.FirstDate == "" || sh.FirstDate < out.FirstDate) {
			out.FirstDate = sh.FirstDate
		}
		out.LastDate = max(out.LastDate, sh.LastDate)
		pooled = append(pooled, sh.Backtest)
	}
	out.Backtest = poolBacktests(pooled).Bounded()
	return out, nil
}

// shardPartials returns a shard's result and its partial sums: those its refit stored, or, for a
// shard whose Map result is not a pipeline.ShardRefitOutput of it (the error object of a failed
// item), the partials of its data and a result naming no artifacts.
func (h *Handler) shardPartials(ctx context.Context, sh shards.Shard, raw json.RawMessage) (pipeline.ShardRefitOutput, []series.Partial, error) {
	var res pipeline.ShardRefitOutput
	if err := json.Unmarshal(raw, &res); err == nil && res.Partials.Key != "" && res.Shard == sh.Shard && res.Of == sh.Of {
		partials, err := h.readPartials(ctx, res.Partials)
		return res, partials, err
	}
	h.Logger.WarnContext(ctx, "the shard's refit failed: its group partials are computed from its data, and it is published with its data only",
		"shard", sh.Shard, "of", sh.Of, "result", truncate(string(raw), 1000))
	table, err := pipeline.LoadShard(ctx, h.Store, sh)
	if err != nil {
		return pipeline.ShardRefitOutput{}, nil, err
	}
	return shardData(sh, table), table.Partials(), nil
}

// shardData is the result of shard sh, whose data is table, before any fit: the shard, its rows
// and its first and last dates.
func shardData(sh shards.Shard, table *series.Table) pipeline.ShardRefitOutput {
	out := pipeline.ShardRefitOutput{Shard: sh.Shard, Of: sh.Of, Rows: table.Rows()}
	if first, ok := table.FirstDate(); ok {
		last, _ := table.LastDate()
		out.FirstDate, out.LastDate = first.Format(time.DateOnly), last.Format(time.DateOnly)
	}
	return out
}

// readPartials reads the partial sums a shard's refit stored, exactly that version.
func (h *Handler) readPartials(ctx context.Context, a pipeline.Artifact) ([]series.Partial, error) {
	var partials []series.Partial
	if _, err := pipeline.ReadJSON(ctx, h.Store, "partial sums", a.Key, store.GetOptions{VersionID: a.VersionID, IfMatch: a.ETag}, &partials); err != nil {
		return nil, err
	}
	return partials, nil
}

// groupInputs are the LSTM's inputs of the group series, with their covariates.
func groupInputs(groups series.Groups, names []string) ([]lstm.Series, error) {
	out := make([]lstm.Series, 0, len(groups.Series))
	for i, s := range groups.Series {
		d, err := lstminput.FromSeries(s, groups.Covariates[i], names)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// poolBacktests summarises the backtests of every shard and of the groups as one: counts and
// times added up (the choices each listed, and those it counted as others), the MASE and the coverage averaged with each part's selected series as its
// weight; nil when there were none.
func poolBacktests(parts []*pipeline.Backtest) *pipeline.Backtest {
	var out *pipeline.Backtest
	var covered float64
	covering := 0
	for _, b := range parts {
		if b == nil {
			continue
		}
		if out == nil {
			out = &pipeline.Backtest{Choices: map[string]int{}}
		}
		out.Selected += b.Selected
		out.Unselected += b.Unselected
		out.MS += b.MS
		out.MASE += b.MASE * float64(b.Selected)
		if b.Coverage != nil {
			covered += *b.Coverage * float64(b.Selected)
			covering += b.Selected
		}
		for choice, n := range b.Choices {
			out.Choices[choice] += n
		}
		out.OtherChoices += b.OtherChoices
	}
	if out == nil {
		return nil
	}
	if out.Selected > 0 {
		out.MASE /= float64(out.Selected)
	}
	if covering > 0 {
		c := covered / float64(covering)
		out.Coverage = &c
	}
	return out
}

// truncate shortens s to at most n bytes for a log line.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func (h *Handler) failed(ctx context.Context, jobID string, cause error) error {
	if _, err := h.Jobs.Update(ctx, jobID, func(job *pipeline.Job) error {
		job.Refit = &pipeline.Refit{Status: pipeline.StatusFailed}
		return nil
	}); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}
