package simulate_test

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"
)

// mapConcurrency is the training state machine's Map MaxConcurrency on AWS (training.asl.json).
const mapConcurrency = 100

// lambdaMBPerVCPU is the memory at which Lambda gives a function one full vCPU.
const lambdaMBPerVCPU = 1769

// BenchmarkMapRefit is the training's refit of the scale dataset as the state machine runs it:
// the refit of one shard (shard 0, one item of the Map: its products fitted, every candidate
// backtested on each, on all cores), then the group step over every shard's partial sums (the
// other shards' computed from their data in the set-up, as their refits store them). From the
// measured times it reports what the Map takes at a concurrency of mapConcurrency — waves of
// shards, each as long as its largest shard (the shard's time scaled by products), then the group
// step — against the same work in one invocation (every shard one after the other, then the
// groups: the refit before sharding), and the Lambda GB-seconds of one refit: every shard's time
// (scaled by products) and the group step's ×
// the RefitFunction's MemorySize in template.yaml. This machine's two cores are about what the
// RefitFunction's 3,008 MB get (1.7 vCPU); lambda-shard-s is the shard's CPU time over that
// share, its time on such a Lambda with this machine's load taken out.
func BenchmarkMapRefit(b *testing.B) {
	products := scaleProducts(b)
	b.Run(fmt.Sprintf("products=%d", products), func(b *testing.B) {
		r := sharedRefit(b)
		var shardTime, shardCPU, groupsTime, groupsCPU time.Duration
		var heap uint64
		var output int
		for b.Loop() {
			run := r.run(b)
			shardTime, shardCPU = shardTime+run.shardTime, shardCPU+run.shardCPU
			groupsTime, groupsCPU = groupsTime+run.groupsTime, groupsCPU+run.groupsCPU
			heap = max(heap, run.shardHeap)
			data, err := json.Marshal(run.shard)
			if err != nil {
				b.Fatal(err)
			}
			output = len(data)
		}
		n := float64(b.N)
		memoryMB := float64(templateMemoryMB(b, "RefitFunction"))
		vcpus := memoryMB / lambdaMBPerVCPU
		count := float64(len(r.groups.Input.Results.Shards))
		// Shards take time in proportion to their products: the Map's waves last as long as the
		// largest shard, one invocation as long as every shard.
		largest := float64(r.largest) / float64(r.shard.Shard.Products)
		all := float64(r.total) / float64(r.shard.Shard.Products)
		waves := math.Ceil(count / mapConcurrency)
		// The Map's wall time and the work of one invocation, from this machine's wall times and
		// from the CPU times over the RefitFunction's share of a vCPU (a Lambda's times).
		shardS, groupsS := shardTime.Seconds()/n, groupsTime.Seconds()/n
		lambdaShardS, lambdaGroupsS := shardCPU.Seconds()/n/vcpus, groupsCPU.Seconds()/n/vcpus
		b.ReportMetric(count, "shards")
		b.ReportMetric(float64(r.shard.Shard.Products), "products/shard")
		b.ReportMetric(shardS, "shard-s")
		b.ReportMetric(groupsS, "groups-s")
		b.ReportMetric(waves*largest*shardS+groupsS, "map-wall-s")
		b.ReportMetric(all*shardS+groupsS, "one-invocation-s")
		b.ReportMetric(lambdaShardS, "lambda-shard-s")
		b.ReportMetric(lambdaGroupsS, "lambda-groups-s")
		b.ReportMetric(waves*largest*lambdaShardS+lambdaGroupsS, "lambda-map-wall-s")
		b.ReportMetric(all*lambdaShardS+lambdaGroupsS, "lambda-one-invocation-s")
		b.ReportMetric((all*lambdaShardS+lambdaGroupsS)/(waves*largest*lambdaShardS+lambdaGroupsS), "map-speedup")
		b.ReportMetric((all*lambdaShardS+lambdaGroupsS)*memoryMB/1024, "refit-GB-s")
		b.ReportMetric(float64(heap)/1e6, "shard-peak-heap-MB")
		b.ReportMetric(count*float64(output)/1024, "map-output-KiB")
	})
}
