package fakes3_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/stockcast/stockcast/shared/fakes3"
	"github.com/stockcast/stockcast/shared/store"
)

// awsMultipartETag is the ETag S3 documents for an object made by a multipart upload of parts:
// the MD5 of the concatenation of the parts' binary MD5s, "-", the number of parts (quoted).
func awsMultipartETag(parts ...[]byte) string {
	var sums []byte
	for _, p := range parts {
		sum := md5.Sum(p)
		sums = append(sums, sum[:]...)
	}
	all := md5.Sum(sums)
	return fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(all[:]), len(parts))
}

// TestMultipartObjectsHaveS3sETag reads an object written by a multipart upload through every
// operation that reports its ETag, with the SDK against the real server, and uses the ETag in
// conditions as the pipeline does.
func TestMultipartObjectsHaveS3sETag(t *testing.T) {
	ctx := context.Background()
	var created []fakes3.Notification
	s, client, stop := serve(t, fakes3.Options{Buckets: []string{"b"}, OnObjectCreated: func(n fakes3.Notification) { created = append(created, n) }})
	defer stop()
	s.PartSize = store.MinPartSize
	parts := [][]byte{bytes.Repeat([]byte("a"), store.MinPartSize), bytes.Repeat([]byte("b"), store.MinPartSize), []byte("the last part")}
	content := bytes.Join(parts, nil)
	want := awsMultipartETag(parts...)

	obj, err := s.Put(ctx, "models/lstm/checkpoint.bin", bytes.NewReader(content), store.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if obj.ETag != want {
		t.Fatalf("CompleteMultipartUpload answered ETag %s, S3 gives %s", obj.ETag, want)
	}
	key := aws.String("models/lstm/checkpoint.bin")
	head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("b"), Key: key})
	if err != nil || aws.ToString(head.ETag) != want || aws.ToInt64(head.ContentLength) != int64(len(content)) {
		t.Fatalf("HeadObject: ETag %s, length %d (%v), want %s", aws.ToString(head.ETag), aws.ToInt64(head.ContentLength), err, want)
	}
	// The SDK validates the checksums a response carries (x-amz-checksum-mode is on by default).
	get, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b"), Key: key, ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(get.Body)
	get.Body.Close()
	if err != nil || !bytes.Equal(body, content) || aws.ToString(get.ETag) != want {
		t.Fatalf("GetObject: %d bytes (%v), ETag %s, want %d bytes and %s", len(body), err, aws.ToString(get.ETag), len(content), want)
	}
	list, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("b"), Prefix: aws.String("models/")})
	if err != nil || len(list.Contents) != 1 || aws.ToString(list.Contents[0].ETag) != want {
		t.Fatalf("ListObjectsV2: %+v (%v), want one object with ETag %s", list, err, want)
	}
	if len(created) != 1 || created[0].EventName != "ObjectCreated:CompleteMultipartUpload" || `"`+created[0].ETag+`"` != want {
		t.Errorf("notifications %+v, want one of the completion with ETag %s unquoted", created, want)
	}

	// Conditions name that ETag: reads, a single-part replacement, a multipart one.
	if _, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("b"), Key: key, IfNoneMatch: aws.String(want)}); httpStatus(err) != http.StatusNotModified {
		t.Errorf("HEAD If-None-Match with the current ETag: %v, want 304", err)
	}
	// If-None-Match decides alone: another ETag reads the object whatever If-Modified-Since says.
	if got, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b"), Key: key, IfNoneMatch: aws.String(`"0123-2"`),
		IfModifiedSince: aws.Time(time.Now().Add(time.Hour))}); err != nil {
		t.Errorf("GET If-None-Match another ETag, If-Modified-Since later: %v, want the object", err)
	} else {
		got.Body.Close()
	}
	if _, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b"), Key: key, IfMatch: aws.String(`"0123"`)}); httpStatus(err) != http.StatusPreconditionFailed {
		t.Errorf("GET If-Match with another ETag: %v, want 412", err)
	}
	body2, _, err := s.Get(ctx, "models/lstm/checkpoint.bin", store.GetOptions{IfMatch: obj.ETag})
	if err != nil {
		t.Fatalf("GET If-Match with the ETag the upload answered: %v", err)
	}
	body2.Close()
	if _, err := s.Put(ctx, "models/lstm/checkpoint.bin", bytes.NewReader([]byte("x")), store.PutOptions{IfMatch: `"0123-2"`}); !errors.Is(err, store.ErrPreconditionFailed) {
		t.Errorf("PUT If-Match with another ETag: %v", err)
	}
	second := [][]byte{bytes.Repeat([]byte("c"), store.MinPartSize), []byte("tail")}
	next, err := s.Put(ctx, "models/lstm/checkpoint.bin", bytes.NewReader(bytes.Join(second, nil)), store.PutOptions{IfMatch: obj.ETag})
	if err != nil || next.ETag != awsMultipartETag(second...) {
		t.Fatalf("multipart replacement If-Match the multipart ETag: %+v, %v; want ETag %s", next, err, awsMultipartETag(second...))
	}
	small, err := s.Put(ctx, "models/lstm/checkpoint.bin", bytes.NewReader([]byte("small")), store.PutOptions{IfMatch: next.ETag})
	if sum := md5.Sum([]byte("small")); err != nil || small.ETag != `"`+hex.EncodeToString(sum[:])+`"` {
		t.Fatalf("single-part replacement If-Match the multipart ETag: %+v, %v", small, err)
	}

	// Every version keeps its own ETag, read by id and listed.
	versions, err := s.Versions(ctx, "models/lstm/checkpoint.bin")
	if err != nil || len(versions) != 3 {
		t.Fatalf("versions %v (%v)", versions, err)
	}
	for i, v := range []store.Object{small, next, obj} {
		if versions[i].VersionID != v.VersionID || versions[i].ETag != v.ETag {
			t.Errorf("version %d listed as %+v, written as %+v", i, versions[i], v)
		}
		got, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("b"), Key: key, VersionId: aws.String(v.VersionID)})
		if err != nil || aws.ToString(got.ETag) != v.ETag {
			t.Errorf("version %d: HEAD by id gives ETag %s (%v), written %s", i, aws.ToString(got.ETag), err, v.ETag)
		}
	}
	// A copy is one PUT: its ETag is its content's MD5, as S3's is.
	copied, err := s.Copy(ctx, "models/lstm/checkpoint.bin", "models/copy.bin")
	if sum := md5.Sum([]byte("small")); err != nil || copied.ETag != `"`+hex.EncodeToString(sum[:])+`"` {
		t.Errorf("copy: %+v, %v", copied, err)
	}
}

func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return -1
	}
	return 0
}
