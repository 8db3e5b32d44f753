package pipeline

import (
	"fmt"

	"github.com/stockcast/stockcast/shared/shards"
)

// Keys of the per-shard training artifacts of one model version.
const (
	// GroupsPrefix holds each version's group results: GroupsKey(version).
	GroupsPrefix = "models/groups/"
	// PartialsPrefix holds each version's per-shard group partial sums.
	PartialsPrefix = "models/partials/"
)

// ShardTrendKey is where the refit keeps the trend models of shard k's series of one version.
func ShardTrendKey(version string, k int) string {
	return TrendPrefix + version + "/" + shardName(k) + ".json"
}

// ShardSelectionKey is where the refit keeps the backtest selections of shard k's series.
func ShardSelectionKey(version string, k int) string {
	return SelectionPrefix + version + "/" + shardName(k) + ".json"
}

// PartialsKey is where the refit keeps shard k's partial sums of the group series (total,
// categories, regions) of one version, which the group step adds up.
func PartialsKey(version string, k int) string {
	return PartialsPrefix + version + "/" + shardName(k) + ".json"
}

// GroupsKey is where the group step keeps the group series of one version with their trend
// models and selections.
func GroupsKey(version string) string { return GroupsPrefix + version + ".json" }

func shardName(k int) string { return fmt.Sprintf("%04d", k) }

// ShardTask is what the refit receives for one item of the training state machine's
// Distributed Map: the Map state's input (the TaskInput, with the fine-tune's output under
// results.finetune) and the shard's entry of the dataset index.
type ShardTask struct {
	Input struct {
		TaskInput
		Results struct {
			FineTune FineTuneOutput `json:"finetune"`
		} `json:"results"`
	} `json:"input"`
	Shard shards.Shard `json:"shard"`
}

// ShardRefitOutput is what the refit returns for one shard: its series' trend models and
// selections, and its partial sums of the group series. Every shard's output is in the training
// state machine's state at once (the Distributed Map's results), which Step Functions bounds to
// 256 KiB, so its size does not grow with the shard's series: lists are cut to a few entries
// (Listed) and the complete ones stay in the shard's artifacts.
type ShardRefitOutput struct {
	Shard     int       `json:"shard"`
	Of        int       `json:"of"`
	Trend     Artifact  `json:"trend"`
	Selection *Artifact `json:"selection,omitempty"`
	Partials  Artifact  `json:"partials"`
	Series    int       `json:"series"`
	// Fallbacks counts the series fitted with the fallback model; Failed names at most
	// MaxListed of them (Listed): every one, with the reason, is in the trend models' fallbacks.
	Fallbacks int      `json:"fallbacks"`
	Failed    []string `json:"failed"`
	FitMS     int64    `json:"fit_ms"`
	Rows      int      `json:"rows"`
	FirstDate string   `json:"first_date,omitempty"`
	LastDate  string   `json:"last_date,omitempty"`
	// Backtest summarises the shard's backtests, its Choices cut to the MaxListed most frequent
	// (Backtest.Bounded): the selections' own summary has them all.
	Backtest *Backtest `json:"backtest,omitempty"`
}

// ShardModel is one shard of a published model version: the shard's entry of the dataset index
// (its parts, exactly) and the artifacts of its series.
type ShardModel struct {
	Data      shards.Shard `json:"data"`
	Trend     Artifact     `json:"trend"`
	Selection *Artifact    `json:"selection,omitempty"`
}
