//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/stockcast/stockcast/shared/datagen"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/shards"
)

// shardedSeed is the seed of the sharded test: 320 products over 120 days (38,400 rows), which
// --shard-max-rows 6000 spreads over 8 shards.
var shardedSeed = datagen.Config{Products: 320, Days: 120, Seed: 5}

// TestShardedDataset runs the pipeline on a dataset of several shards: the seed is merged into
// shards, the training's Distributed Map refits every shard and the group step adds them up, and
// the model is published with every shard; an upload touching two products rewrites only their
// shards' parts, and the next training maps over every shard again and publishes; the API
// answers a product, a group and an ad-hoc filter from the sharded model.
func TestShardedDataset(t *testing.T) {
	dir := t.TempDir()
	build(t, dir)
	var seed bytes.Buffer
	if err := datagen.Write(context.Background(), &seed, shardedSeed); err != nil {
		t.Fatal(err)
	}
	seedFile := filepath.Join(dir, "seed.csv")
	if err := os.WriteFile(seedFile, seed.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	s := run(t, dir, "--seed", seedFile, "--shard-max-rows", "6000")
	ctx := context.Background()

	s.eventually(5*time.Minute, "the first model is served", func() bool {
		status, _ := s.forecast("P0001")
		return status == http.StatusOK
	})
	s.settled(1)
	index, _, err := pipeline.ReadIndex(ctx, s.objects, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if index.Count() < 4 || index.Rows() != shardedSeed.Products*shardedSeed.Days || index.Products() != shardedSeed.Products {
		t.Fatalf("the seed's index: %d shards, %d rows, %d products; want 4 or more shards of the %d rows", index.Count(), index.Rows(), index.Products(),
			shardedSeed.Products*shardedSeed.Days)
	}
	first := s.manifest()
	s.checkSharded(first, index)

	// An upload of the next day of two products of different shards.
	a, b := "P0001", ""
	for p := 2; b == ""; p++ {
		if id := fmt.Sprintf("P%04d", p); shards.Of(id, index.Count()) != shards.Of(a, index.Count()) {
			b = id
		}
	}
	next, err := time.Parse(time.DateOnly, index.LastDate())
	if err != nil {
		t.Fatal(err)
	}
	day := next.AddDate(0, 0, 1).Format(time.DateOnly)
	category := map[string]string{}
	for _, line := range strings.Split(seed.String(), "\n")[1:] {
		if f := strings.Split(line, ","); len(f) > 4 && (f[1] == a || f[1] == b) {
			category[f[1]] = f[3] + "," + f[4]
		}
	}
	upload := "date,product_id,sales,category,region\n" + day + "," + a + ",9," + category[a] + "\n" + day + "," + b + ",4," + category[b] + "\n"
	if _, err := s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("uploads/two-products.csv"),
		Body: strings.NewReader(upload)}); err != nil {
		t.Fatal(err)
	}
	executions := s.settled(2)
	if executions[0].Status != types.ExecutionStatusSucceeded {
		t.Fatalf("the upload's execution: %s", executions[0].Status)
	}
	after, _, err := pipeline.ReadIndex(ctx, s.objects, "", "")
	if err != nil {
		t.Fatal(err)
	}
	touched := []int{shards.Of(a, index.Count()), shards.Of(b, index.Count())}
	for k := range after {
		changed := !slices.Equal(partETags(after[k]), partETags(index[k]))
		if changed != slices.Contains(touched, k) {
			t.Errorf("shard %d: parts changed %v (ETags %v, before %v); the upload touched shards %v", k, changed, partETags(after[k]), partETags(index[k]), touched)
		}
	}
	if after.Count() != index.Count() || after.Rows() != index.Rows()+2 || after.LastDate() != day {
		t.Errorf("index after the upload: %d shards, %d rows to %s", after.Count(), after.Rows(), after.LastDate())
	}
	latest := s.manifest()
	if latest.Version == first.Version {
		t.Fatal("no new model was published")
	}
	s.checkSharded(latest, after)
	s.checkMapRan(executions[0], after.Count())

	for _, query := range []string{"product_id=" + b, "category=" + strings.Split(category[a], ",")[0],
		"category=" + strings.Split(category[a], ",")[0] + "&region=" + strings.Split(category[a], ",")[1]} {
		resp, err := s.get("/forecast?" + query + "&days=7")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Stockcast-Model-Version") != latest.Version {
			t.Errorf("forecast of %s: %d from %q, want 200 from %q", query, resp.StatusCode, resp.Header.Get("X-Stockcast-Model-Version"), latest.Version)
		}
	}
}

// partETags are a shard's parts' ETags, in period order.
func partETags(sh shards.Shard) []string {
	var out []string
	for _, p := range sh.Parts {
		out = append(out, p.Period+"="+p.ETag)
	}
	return out
}

// checkSharded checks that a published model names the dataset index and, for each of its
// shards, exactly its index entry with the trend models and selections of its refit, and the
// group results.
func (s *system) checkSharded(m *pipeline.Manifest, index shards.Index) {
	s.t.Helper()
	if m.Dataset.Key != shards.IndexKey || len(m.Shards) != index.Count() || m.Groups == nil || len(m.Metrics.FailedShards) != 0 {
		s.t.Fatalf("manifest %s: dataset %s, %d shards of %d, groups %v, failed shards %v", m.Version, m.Dataset.Key, len(m.Shards), index.Count(),
			m.Groups, m.Metrics.FailedShards)
	}
	for k, sh := range m.Shards {
		if !slices.Equal(partETags(sh.Data), partETags(index[k])) || sh.Trend.Key != pipeline.ShardTrendKey(m.Version, k) || sh.Selection == nil {
			s.t.Errorf("manifest %s, shard %d: parts %v (the index's %v), trend %s, selection %v", m.Version, k, partETags(sh.Data), partETags(index[k]),
				sh.Trend.Key, sh.Selection)
		}
	}
}

// checkMapRan checks in an execution's history that its Distributed Map ran over every shard
// of the index and succeeded.
func (s *system) checkMapRan(e types.ExecutionListItem, count int) {
	s.t.Helper()
	out, err := s.states.GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{ExecutionArn: e.ExecutionArn, MaxResults: 1000})
	if err != nil {
		s.t.Fatal(err)
	}
	length, ran := -1, false
	for _, ev := range out.Events {
		switch ev.Type {
		case types.HistoryEventTypeMapStateStarted:
			length = int(ev.MapStateStartedEventDetails.Length)
		case types.HistoryEventTypeMapRunSucceeded:
			ran = true
		}
	}
	if length != count || !ran {
		s.t.Errorf("execution %s: the Map started over %d items (want the %d shards), its run succeeded: %v", aws.ToString(e.Name), length, count, ran)
	}
}
