package sfn

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/training"
)

// The largest values of the training's state that the pipeline makes: a job id (a 48-character
// stem and 16 hex digits), an S3 ETag (quoted MD5, or a multipart one) and version id (AWS's
// are 32 characters; the local stack's S3, 68).
var (
	worstJobID   = strings.Repeat("u", 48) + "-0123456789abcdef"
	worstETag    = `"` + strings.Repeat("e", 32) + `-10000"`
	worstVersion = strings.Repeat("v", 68)
)

func worstArtifact(key string) pipeline.Artifact {
	return pipeline.Artifact{Key: key, ETag: worstETag, VersionID: worstVersion}
}

// worstNames are n names of MaxListedBytes.
func worstNames(n int, prefix string) []string {
	out := make([]string, n)
	for i := range out {
		name := fmt.Sprintf("%s%d-", prefix, i)
		out[i] = name + strings.Repeat("n", pipeline.MaxListedBytes-len(name))
	}
	return out
}

// worstBacktest is a backtest summary with as many choices as a task's output lists, each of the
// longest name, and every count at its largest.
func worstBacktest() *pipeline.Backtest {
	coverage := 0.8123456789012345
	b := &pipeline.Backtest{Selected: 999_999_999, Unselected: 999_999_999, MS: 999_999_999_999, MASE: 0.123456789012345678,
		Coverage: &coverage, Choices: map[string]int{}, OtherChoices: 999_999_999}
	for _, name := range worstNames(pipeline.MaxListed, "weighted(") {
		b.Choices[name] = 999_999_999
	}
	return b
}

// worstShard is the largest output the refit of shard k of n returns (pipeline.ShardRefitOutput:
// a few names, counts, the artifacts).
func worstShard(k, n int) pipeline.ShardRefitOutput {
	sel := worstArtifact(pipeline.ShardSelectionKey(worstJobID, k))
	return pipeline.ShardRefitOutput{Shard: k, Of: n, Trend: worstArtifact(pipeline.ShardTrendKey(worstJobID, k)), Selection: &sel,
		Partials: worstArtifact(pipeline.PartialsKey(worstJobID, k)), Series: 999_999_999, Fallbacks: 999_999_999,
		Failed: worstNames(pipeline.MaxListed, "product-"), FitMS: 999_999_999_999, Rows: 999_999_999,
		FirstDate: "2020-01-01", LastDate: "2026-12-31", Backtest: worstBacktest()}
}

// worstTraining runs the deployed training definition over a dataset index of n shards, each
// shard's refit answering with shard(k), the group step with the training results of those, and
// returns the outcome and the sizes of the JSON that entered RefitGroups and Publish.
func worstTraining(t *testing.T, n int, shard func(k, n int) pipeline.ShardRefitOutput) (Outcome, map[string]int) {
	t.Helper()
	all := make([]int, n)
	for k := range all {
		all[k] = k
	}
	covers := make([]string, 10)
	for i := range covers {
		covers[i] = worstJobID
	}
	in := pipeline.TaskInput{Bucket: "data", DatasetKey: shards.IndexKey, DatasetETag: worstETag, DatasetVersionID: "v1",
		JobID: worstJobID, NewFrom: "2026-12-01", NewTo: "2026-12-31", Mode: training.FineTune,
		DatasetWritten: time.Date(2026, 12, 2, 4, 44, 2, 123456789, time.UTC), Covers: covers, Touched: all}
	origins := make([]pipeline.Origin, 3)
	for i := range origins {
		origins[i] = pipeline.Origin{Key: pipeline.OriginsPrefix + strings.Repeat("o", 40) + ".bin", ETag: worstETag, VersionID: worstVersion,
			Through: "2026-12-03", Mode: training.FineTune, Epochs: 999, Windows: 999_999_999, TrainMS: 999_999_999}
	}
	finetune := pipeline.FineTuneOutput{CheckpointKey: pipeline.CheckpointKey, CheckpointETag: worstETag, VersionID: worstVersion,
		Mode: training.FineTune, Epochs: 999, Loss: 0.123456789012345678, ValLoss: 0.123456789012345678, Windows: 999_999_999,
		TrainMS: 999_999_999, Origins: origins, Read: &pipeline.DatasetRead{Shards: n, Read: all, Replay: all, Bytes: 999_999_999_999,
			Series: 999_999_999, ReplaySeries: 999_999_999, Windows: 999_999_999, ReplayWindows: 999_999_999}}
	inv := newFakeInvoker().
		on("stockcast-finetune", func(context.Context, []byte) ([]byte, error) { return json.Marshal(finetune) }).
		on("stockcast-refit", func(_ context.Context, payload []byte) ([]byte, error) {
			var task struct {
				Step  string
				Shard struct{ Shard, Of int }
				Input struct {
					Results struct {
						FineTune pipeline.FineTuneOutput     `json:"finetune"`
						Shards   []pipeline.ShardRefitOutput `json:"shards"`
					} `json:"results"`
				} `json:"input"`
			}
			if err := json.Unmarshal(payload, &task); err != nil {
				return nil, err
			}
			if task.Step == "shard" {
				return json.Marshal(shard(task.Shard.Shard, task.Shard.Of))
			}
			refit := pipeline.RefitOutput{Series: 999_999_999, Fallbacks: 999_999_999, Failed: worstNames(pipeline.MaxListed, "product-"),
				FitMS: 999_999_999_999, Rows: 999_999_999, FirstDate: "2020-01-01", LastDate: "2026-12-31", Backtest: worstBacktest(),
				Shards: task.Input.Results.Shards, Groups: new(worstArtifact(pipeline.GroupsKey(worstJobID)))}
			return json.Marshal(pipeline.TrainResults{Refit: refit, FineTune: task.Input.Results.FineTune})
		})
	publish := &publishRecorder{}
	inv.on("stockcast-publish", publish.fn)
	input, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	it := &Interpreter{Invoker: inv, Objects: indexObjects{n}, Random: func() float64 { return 0 }}
	out, events := runDefinition(t, it, string(trainingDefinition(t)), string(input))
	sizes := map[string]int{}
	for _, e := range events {
		if e.Input != "" && (e.State == "RefitGroups" || e.State == "Publish") {
			sizes[e.State] = len(e.Input)
		}
	}
	return out, sizes
}

// TestTrainingStateFitsAtTheLargestShardCount is the worst case the design allows, run through
// the deployed training definition: shards.MaxCount shards, each shard's refit returning the
// largest output it can (MaxListed names and choices of MaxListedBytes, every count at its
// largest, AWS-sized ETags and version ids), the fine-tune's output reading every shard. The
// inputs of RefitGroups (the execution input, the fine-tune's output, the Map's results) and of
// Publish (the execution input, the training results) stay under Step Functions' 256 KiB with a
// margin of a fifth (about 75% with the local S3's version ids, 70% with AWS's); and a shard output that lists every fallback, as before, fails the run with
// States.DataLimitExceeded, as on AWS.
func TestTrainingStateFitsAtTheLargestShardCount(t *testing.T) {
	out, sizes := worstTraining(t, shards.MaxCount, worstShard)
	if out.Status != StatusSucceeded {
		t.Fatalf("outcome %+v", out)
	}
	for _, state := range []string{"RefitGroups", "Publish"} {
		t.Logf("%s input at %d shards: %d bytes (%.1f%% of %d)", state, shards.MaxCount, sizes[state],
			100*float64(sizes[state])/MaxPayloadBytes, MaxPayloadBytes)
		if sizes[state] == 0 || sizes[state] > MaxPayloadBytes*4/5 {
			t.Errorf("%s input: %d bytes, want at most four fifths of %d", state, sizes[state], MaxPayloadBytes)
		}
	}
	unbounded := func(k, n int) pipeline.ShardRefitOutput {
		s := worstShard(k, n)
		s.Failed = worstNames(100, "product-")
		return s
	}
	if out, _ := worstTraining(t, shards.MaxCount, unbounded); out.Status != StatusFailed || out.Error != ErrorDataLimitExceeded {
		t.Errorf("a Map's results of 100 names a shard: outcome %s %s, want FAILED with %s", out.Status, out.Error, ErrorDataLimitExceeded)
	}
}
