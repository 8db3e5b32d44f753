package sfn

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stockcast/stockcast/infra/local/lambdaerr"
	"github.com/stockcast/stockcast/shared/fakes3"
	"github.com/stockcast/stockcast/shared/platform"
)

// testBucket is the bucket of the tests' S3 server.
const testBucket = "data"

// s3Server starts a real S3 server (versioned buckets) and returns a client
// for it.
func s3Server(t *testing.T) *s3.Client {
	t.Helper()
	server, err := fakes3.New(fakes3.Options{Buckets: []string{testBucket}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server)
	t.Cleanup(srv.Close)
	return platform.NewS3Client(platform.LocalAWSConfig(srv.URL))
}

// put writes an object and returns its version id.
func put(t *testing.T, client *s3.Client, key, body string) string {
	t.Helper()
	out, err := client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(testBucket), Key: aws.String(key), Body: bytes.NewReader([]byte(body)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.VersionId) == "" {
		t.Fatal("the S3 server gave no version id")
	}
	return aws.ToString(out.VersionId)
}

// readerDefinition is a Distributed Map reading its items from S3 (readerConfig
// and params: the ItemReader's ReaderConfig and Parameters), each item passed
// to echo, with a Catch of States.ItemReaderFailed into $.error.
func readerDefinition(readerConfig, params string) string {
	return `{"StartAt":"M","States":{"M":{"Type":"Map",
		"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":` + readerConfig + `,"Parameters":` + params + `},
		"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
			"StartAt":"W","States":{"W":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:echo","End":true}}},
		"ResultPath":"$.items",
		"Catch":[{"ErrorEquals":["States.ItemReaderFailed"],"ResultPath":"$.error","Next":"NoItems"}],
		"End":true},
		"NoItems":{"Type":"Pass","End":true}}}`
}

// TestMapItemReader checks a Distributed Map's ItemReader against a real S3
// server: the JSON array of the object (of the version asked for, by static
// or path parameters), MaxItems, and States.ItemReaderFailed for an object or
// version that does not exist, an object that is not a JSON array, and no
// object reader at all.
func TestMapItemReader(t *testing.T) {
	client := s3Server(t)
	v1 := put(t, client, "index.json", `[{"k":0},{"k":1}]`)
	put(t, client, "index.json", `[{"k":0},{"k":1},{"k":2}]`)
	put(t, client, "object.json", `{"k":0}`)
	put(t, client, "broken.json", `[{"k":0},`)
	objects := S3Objects{Client: client}
	tests := []struct {
		name    string
		config  string
		params  string
		input   string
		objects ObjectReader
		want    string // the output's items, or "" for a caught ItemReaderFailed
		cause   string
	}{
		{"latest version", `{"InputType":"JSON"}`, `{"Bucket":"data","Key":"index.json"}`, `{}`, objects,
			`[{"k":0},{"k":1},{"k":2}]`, ""},
		{"pinned version, paths", `{"InputType":"JSON"}`, `{"Bucket.$":"$.bucket","Key.$":"$.key","VersionId.$":"$.version"}`,
			fmt.Sprintf(`{"bucket":"data","key":"index.json","version":%q}`, v1), objects, `[{"k":0},{"k":1}]`, ""},
		{"MaxItems", `{"InputType":"JSON","MaxItems":1}`, `{"Bucket":"data","Key":"index.json"}`, `{}`, objects, `[{"k":0}]`, ""},
		{"missing object", `{"InputType":"JSON"}`, `{"Bucket":"data","Key":"missing.json"}`, `{}`, objects, "", "NoSuchKey"},
		{"missing version", `{"InputType":"JSON"}`, `{"Bucket":"data","Key":"index.json","VersionId":"no-such-version"}`, `{}`, objects, "", "index.json"},
		{"missing bucket", `{"InputType":"JSON"}`, `{"Bucket":"other","Key":"index.json"}`, `{}`, objects, "", "NoSuchBucket"},
		{"not an array", `{"InputType":"JSON"}`, `{"Bucket":"data","Key":"object.json"}`, `{}`, objects, "", "holds a object, not a JSON array"},
		{"not JSON", `{"InputType":"JSON"}`, `{"Bucket":"data","Key":"broken.json"}`, `{}`, objects, "", "is not JSON"},
		{"empty key", `{"InputType":"JSON"}`, `{"Bucket":"data","Key.$":"$.key"}`, `{"key":""}`, objects, "", "non-empty string"},
		{"no object reader", `{"InputType":"JSON"}`, `{"Bucket":"data","Key":"index.json"}`, `{}`, nil, "", "no S3 object reader"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := &Interpreter{Invoker: newFakeInvoker().echo("echo"), Objects: tt.objects}
			out, _ := runDefinition(t, it, readerDefinition(tt.config, tt.params), tt.input)
			if out.Status != StatusSucceeded {
				t.Fatalf("outcome %+v", out)
			}
			var got struct {
				Items json.RawMessage `json:"items"`
				Error struct{ Error, Cause string }
			}
			if err := json.Unmarshal([]byte(out.Output), &got); err != nil {
				t.Fatal(err)
			}
			if tt.want != "" {
				if got.Items == nil || !jsonEqual(t, string(got.Items), tt.want) {
					t.Errorf("items %s, want %s", got.Items, tt.want)
				}
				return
			}
			if got.Error.Error != ErrorItemReaderFailed || !strings.Contains(got.Error.Cause, tt.cause) {
				t.Errorf("caught %+v, want %s with a cause containing %q", got.Error, ErrorItemReaderFailed, tt.cause)
			}
		})
	}
}

// TestMapShardRefitShape runs the refit's fan-out in the shape the training
// state machine gives it (notes: plan of issue 14): a Distributed Map whose
// ItemReader reads the dataset index the task input pins (bucket,
// dataset_key, dataset_version_id) from S3, whose ItemSelector hands each
// shard and the whole state input to the refit function, with per-item
// retries, a 5% failure tolerance, MaxConcurrency 100 and the results in
// $.results.shards, in index order, a failed shard's error object in its
// place.
func TestMapShardRefitShape(t *testing.T) {
	client := s3Server(t)
	shards := make([]string, 40)
	for k := range shards {
		shards[k] = fmt.Sprintf(`{"k":%d,"of":40}`, k)
	}
	version := put(t, client, "data/index.json", "["+strings.Join(shards, ",")+"]")
	put(t, client, "data/index.json", `[{"k":0,"of":1}]`) // a later merge: the run still reads its pinned version

	def := `{"StartAt":"RefitShards","States":{"RefitShards":{"Type":"Map",
		"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},
			"Parameters":{"Bucket.$":"$.bucket","Key.$":"$.dataset_key","VersionId.$":"$.dataset_version_id"}},
		"ItemSelector":{"step":"shard","input.$":"$","shard.$":"$$.Map.Item.Value"},
		"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"RefitShard","States":{
			"RefitShard":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
				"Parameters":{"FunctionName":"arn:aws:lambda:us-east-1:000000000000:function:refit","Payload.$":"$"},
				"OutputPath":"$.Payload",
				"Retry":[{"ErrorEquals":["Lambda.ServiceException","Lambda.TooManyRequestsException"],"IntervalSeconds":1,"MaxAttempts":1},
					{"ErrorEquals":["DatasetChanged"],"IntervalSeconds":1,"MaxAttempts":1},
					{"ErrorEquals":["DeadlineNear"],"IntervalSeconds":1,"MaxAttempts":1}],
				"End":true}}},
		"MaxConcurrency":100,"ToleratedFailurePercentage":5,"ResultPath":"$.results.shards",
		"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"Failed"}],
		"Next":"RefitGroups"},
		"RefitGroups":{"Type":"Pass","End":true},
		"Failed":{"Type":"Fail","ErrorPath":"$.error.Error","CausePath":"$.error.Cause"}}}`
	input := fmt.Sprintf(`{"bucket":"data","dataset_key":"data/index.json","dataset_version_id":%q,"results":{"finetune":{"checkpoint":"c"}}}`, version)

	run := func(t *testing.T, failing map[int]int) (Outcome, map[int]int) {
		var mu sync.Mutex
		calls := map[int]int{}
		inv := newFakeInvoker().on("refit", func(_ context.Context, payload []byte) ([]byte, error) {
			var p struct {
				Step  string         `json:"step"`
				Input map[string]any `json:"input"`
				Shard struct{ K, Of int }
			}
			if err := json.Unmarshal(payload, &p); err != nil {
				return nil, err
			}
			if p.Step != "shard" || p.Input["dataset_version_id"] != version || p.Input["results"] == nil || p.Shard.Of != 40 {
				return nil, fmt.Errorf("unexpected payload %s", payload)
			}
			mu.Lock()
			calls[p.Shard.K]++
			n := calls[p.Shard.K]
			mu.Unlock()
			if n <= failing[p.Shard.K] {
				return nil, &lambdaerr.Error{Type: "DatasetChanged", Message: "a part changed"}
			}
			return json.Marshal(map[string]int{"k": p.Shard.K})
		})
		out, _ := runDefinition(t, &Interpreter{Invoker: inv, Objects: S3Objects{Client: client}, Clock: &instantClock{}}, def, input)
		return out, calls
	}

	t.Run("retried and tolerated", func(t *testing.T) {
		// Shard 3 succeeds on its retry; 7 and 20 fail beyond it: 2 of 40, within 5%.
		out, calls := run(t, map[int]int{3: 1, 7: 2, 20: 2})
		if out.Status != StatusSucceeded {
			t.Fatalf("outcome %+v", out)
		}
		if len(calls) != 40 || calls[3] != 2 || calls[7] != 2 || calls[0] != 1 {
			t.Errorf("calls per shard %v: want every shard of the pinned index, shards 3, 7 and 20 twice", calls)
		}
		var got struct {
			Results struct {
				Finetune any              `json:"finetune"`
				Shards   []map[string]any `json:"shards"`
			} `json:"results"`
		}
		if err := json.Unmarshal([]byte(out.Output), &got); err != nil {
			t.Fatal(err)
		}
		if got.Results.Finetune == nil || len(got.Results.Shards) != 40 {
			t.Fatalf("output %s: want results.finetune kept and 40 shard results", out.Output)
		}
		for k, r := range got.Results.Shards {
			switch {
			case slices.Contains([]int{7, 20}, k):
				if r["Error"] != "DatasetChanged" {
					t.Errorf("shard %d: %v, want its error object", k, r)
				}
			case r["k"] != float64(k):
				t.Errorf("shard %d: %v, want its output", k, r)
			}
		}
	})
	t.Run("beyond the tolerance", func(t *testing.T) {
		out, _ := run(t, map[int]int{1: 2, 2: 2, 3: 2})
		if out.Status != StatusFailed || out.Error != ErrorExceedToleratedFailureThreshold {
			t.Errorf("outcome %+v, want FAILED with %s", out, ErrorExceedToleratedFailureThreshold)
		}
	})
}
