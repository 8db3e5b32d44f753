package fakes3_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stockcast/stockcast/shared/fakes3"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/store"
)

func serve(t *testing.T, opts fakes3.Options) (*store.S3, *s3.Client, func()) {
	t.Helper()
	server, err := fakes3.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	http := httptest.NewServer(server)
	client := platform.NewS3Client(platform.LocalAWSConfig(http.URL))
	return store.NewS3(client, "b"), client, http.Close
}

func TestObjectsSurviveARestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, client, stop := serve(t, fakes3.Options{Dir: dir, Buckets: []string{"b"}})
	big := bytes.Repeat([]byte("x"), store.MinPartSize+123)
	s.PartSize = store.MinPartSize
	want := map[string][]byte{"data/big.csv": big, "jobs/a b.json": []byte(`{"a":1}`), "uploads/keep.csv": []byte("k")}
	etags := map[string]string{}
	for key, content := range want {
		obj, err := s.Put(ctx, key, bytes.NewReader(content), store.PutOptions{ContentType: "text/csv"})
		if err != nil {
			t.Fatal(err)
		}
		etags[key] = obj.ETag
	}
	if _, err := s.Copy(ctx, "uploads/keep.csv", "processed/keep.csv"); err != nil {
		t.Fatal(err)
	}
	want["processed/keep.csv"] = []byte("k")
	for _, key := range []string{"gone", "gone-too"} {
		if _, err := s.Put(ctx, key, bytes.NewReader([]byte(key)), store.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("b"), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String("gone-too")}},
	}}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(etags["data/big.csv"], `-2"`) {
		t.Fatalf("the two-part upload's ETag is %s, not S3's \"<md5>-2\"", etags["data/big.csv"])
	}
	before, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	stop()
	time.Sleep(1100 * time.Millisecond) // so that a restart's own time would show, also at S3's one-second precision

	s, _, stop = serve(t, fakes3.Options{Dir: dir})
	defer stop()
	list, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for i, obj := range list {
		// The journal takes the time right after the write: the same instant give or take a few ms.
		if i >= len(before) || obj.Key != before[i].Key || obj.LastModified.Sub(before[i].LastModified).Abs() > 500*time.Millisecond {
			t.Errorf("after restart %s was last modified at %v; before, %v", obj.Key, obj.LastModified, before[min(i, len(before)-1)].LastModified)
		}
	}
	if len(list) != len(want) {
		t.Errorf("after restart: %d objects %v, want %d", len(list), list, len(want))
	}
	for key, content := range want {
		got, obj, err := store.ReadAll(ctx, s, key)
		if err != nil {
			t.Fatalf("after restart: %v", err)
		}
		if !bytes.Equal(got, content) {
			t.Errorf("%s: content differs after restart", key)
		}
		if etag, ok := etags[key]; ok && !store.SameETag(etag, obj.ETag) {
			t.Errorf("%s: ETag %s after restart, was %s (conditional writes would fail)", key, obj.ETag, etag)
		}
	}
}

func TestNotificationsAndRequestCounts(t *testing.T) {
	var got []fakes3.Notification
	s, _, stop := serve(t, fakes3.Options{Buckets: []string{"b"}, OnObjectCreated: func(n fakes3.Notification) { got = append(got, n) }})
	defer stop()
	ctx := context.Background()
	if _, err := s.Put(ctx, "uploads/x y.csv", bytes.NewReader([]byte("abc")), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Copy(ctx, "uploads/x y.csv", "uploads/z.csv"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Head(ctx, "uploads/z.csv"); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].EventName != "ObjectCreated:Put" || got[1].EventName != "ObjectCreated:Copy" {
		t.Fatalf("notifications = %+v", got)
	}
	if got[0].Key != "uploads/x y.csv" || got[0].Size != 3 || got[0].ETag != "900150983cd24fb0d6963f7d28e17f72" || got[0].Sequencer >= got[1].Sequencer {
		t.Errorf("notification = %+v", got[0])
	}
	if key := got[0].S3Event("us-east-1").Records[0].S3.Object.Key; key != "uploads/x+y.csv" {
		t.Errorf("event key %q, want uploads/x+y.csv", key)
	}
}

func TestVersionsSurviveARestartWithTheirIDs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, client, stop := serve(t, fakes3.Options{Dir: dir, Buckets: []string{"b"}})
	s.PartSize = store.MinPartSize
	big := bytes.Repeat([]byte("y"), store.MinPartSize+7)
	var written []store.Object
	for _, content := range [][]byte{[]byte("v1"), big, []byte("v3")} {
		obj, err := s.Put(ctx, "data/large_dataset.csv", bytes.NewReader(content), store.PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		written = append(written, obj)
	}
	doomed, err := s.Put(ctx, "models/manifest.json", bytes.NewReader([]byte("m1")), store.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "models/manifest.json", bytes.NewReader([]byte("m2")), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("b"), Key: aws.String("models/manifest.json"), VersionId: aws.String(doomed.VersionID)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "data/large_dataset.csv"); err != nil {
		t.Fatal(err)
	}
	before, err := s.Versions(ctx, "data/large_dataset.csv")
	if err != nil || len(before) != 3 {
		t.Fatalf("versions before the restart: %v, %v", before, err)
	}
	stop()

	for restart := 1; restart <= 2; restart++ {
		s, _, stop = serve(t, fakes3.Options{Dir: dir, Buckets: []string{"b"}})
		after, err := s.Versions(ctx, "data/large_dataset.csv")
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(before) {
			t.Fatalf("restart %d: %d versions, want %d", restart, len(after), len(before))
		}
		for i, v := range after {
			if v.VersionID != before[i].VersionID || !store.SameETag(v.ETag, before[i].ETag) || !v.LastModified.Equal(before[i].LastModified) {
				t.Errorf("restart %d: version %d = %+v, was %+v", restart, i, v, before[i])
			}
		}
		for i, obj := range written {
			body, got, err := s.Get(ctx, obj.Key, store.GetOptions{VersionID: obj.VersionID, IfMatch: obj.ETag})
			if err != nil {
				t.Fatalf("restart %d: get version %d by its id: %v", restart, i, err)
			}
			body.Close()
			if got.VersionID != obj.VersionID {
				t.Errorf("restart %d: read version %s, asked for %s", restart, got.VersionID, obj.VersionID)
			}
		}
		if _, err := s.Head(ctx, "data/large_dataset.csv"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("restart %d: the delete marker was lost: %v", restart, err)
		}
		manifests, err := s.Versions(ctx, "models/manifest.json")
		if err != nil || len(manifests) != 1 {
			t.Errorf("restart %d: manifest versions %v (%v), want the one not deleted", restart, manifests, err)
		}
		// A version made after a restart is kept by the next one too.
		if _, err := s.Put(ctx, "jobs/after-"+strconv.Itoa(restart)+".json", bytes.NewReader([]byte("{}")), store.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		stop()
	}
	s, _, stop = serve(t, fakes3.Options{Dir: dir})
	defer stop()
	jobs, err := s.List(ctx, "jobs/")
	if err != nil || len(jobs) != 2 {
		t.Errorf("objects made after restarts: %v (%v), want 2", jobs, err)
	}
}

func TestAStoreOfTheLatestVersionsIsRestored(t *testing.T) {
	dir := t.TempDir()
	// The format before versions were kept: <bucket>/<sha256(key)>.data and .json.
	bucket := filepath.Join(dir, "b")
	if err := os.MkdirAll(bucket, 0o755); err != nil {
		t.Fatal(err)
	}
	stem := filepath.Join(bucket, strings.Repeat("ab", 32))
	if err := os.WriteFile(stem+".data", []byte("date,product_id,sales\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stem+".json", []byte(`{"key":"data/large_dataset.csv","metadata":{"Content-Type":"text/csv"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for restart := range 2 {
		s, _, stop := serve(t, fakes3.Options{Dir: dir})
		data, obj, err := store.ReadAll(context.Background(), s, "data/large_dataset.csv")
		stop()
		if err != nil || string(data) != "date,product_id,sales\n" || obj.VersionID == "" {
			t.Fatalf("restart %d: %q %+v %v", restart, data, obj, err)
		}
	}
}
