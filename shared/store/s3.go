package store

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// MinPartSize is the smallest part S3 accepts in a multipart upload (all parts but the last).
const MinPartSize = 5 << 20

// S3 is a Store over one S3 bucket. Bodies of any length are streamed: a body that fits in one
// part is sent with PutObject, a longer one as a multipart upload whose memory use is bounded by
// PartSize × (Concurrency + 1), whatever the object's size.
type S3 struct {
	client *s3.Client
	bucket string
	// PartSize is the size of each multipart part (at least MinPartSize).
	PartSize int
	// Concurrency is how many parts are uploaded at once.
	Concurrency int
}

// DefaultPartSize is the part size of a Store NewS3 returns.
const DefaultPartSize = 8 << 20

// NewS3 returns a Store for bucket, streaming large writes in DefaultPartSize (8 MiB) parts, two
// at a time.
func NewS3(client *s3.Client, bucket string) *S3 {
	return &S3{client: client, bucket: bucket, PartSize: DefaultPartSize, Concurrency: 2}
}

// Bucket names the bucket.
func (s *S3) Bucket() string { return s.bucket }

func (s *S3) location(key string) string { return "s3://" + s.bucket + "/" + key }

// Get opens the object; ErrNotFound and ErrPreconditionFailed are reported as such.
func (s *S3) Get(ctx context.Context, key string, opts GetOptions) (io.ReadCloser, Object, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: &s.bucket, Key: &key, IfMatch: optional(opts.IfMatch), VersionId: optional(opts.VersionID),
	})
	if err != nil {
		if opts.VersionID == "" {
			err = s.absentIfUnlisted(ctx, key, err)
		}
		return nil, Object{}, fmt.Errorf("get %s: %w", s.location(key), classify(err))
	}
	obj := Object{
		Key:          key,
		ETag:         aws.ToString(out.ETag),
		Size:         aws.ToInt64(out.ContentLength),
		VersionID:    aws.ToString(out.VersionId),
		LastModified: aws.ToTime(out.LastModified),
		ContentType:  aws.ToString(out.ContentType),
	}
	return out.Body, obj, nil
}

// Head describes the object without reading it.
func (s *S3) Head(ctx context.Context, key string) (Object, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return Object{}, fmt.Errorf("head %s: %w", s.location(key), classify(s.absentIfUnlisted(ctx, key, err)))
	}
	return Object{
		Key:          key,
		ETag:         aws.ToString(out.ETag),
		Size:         aws.ToInt64(out.ContentLength),
		VersionID:    aws.ToString(out.VersionId),
		LastModified: aws.ToTime(out.LastModified),
		ContentType:  aws.ToString(out.ContentType),
		Metadata:     lowerKeys(out.Metadata),
	}, nil
}

// lowerKeys returns m with its keys in lower case, as S3 keeps user metadata names.
func lowerKeys(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

// Put streams body to key. The conditions apply to the whole write: for a multipart upload they
// are checked when the upload completes, so a conflicting writer in between makes it fail.
func (s *S3) Put(ctx context.Context, key string, body io.Reader, opts PutOptions) (Object, error) {
	contentType := opts.ContentType
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	first, err := readUpTo(body, s.partSize())
	if err != nil {
		return Object{}, fmt.Errorf("put %s: read body: %w", s.location(key), err)
	}
	if len(first) < s.partSize() {
		return s.putSingle(ctx, key, first, contentType, opts)
	}
	return s.putMultipart(ctx, key, first, body, contentType, opts)
}

// firstRead is the buffer a write starts with; it doubles up to a part's size only while the body
// fills it, so a small write (a job record, a manifest) allocates about its own size.
const firstRead = 16 << 10

// readUpTo reads r until EOF or limit bytes, whichever comes first.
func readUpTo(r io.Reader, limit int) ([]byte, error) {
	buf := make([]byte, 0, min(firstRead, limit))
	for {
		n, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return buf, nil
		case err != nil:
			return nil, err
		case len(buf) == limit:
			return buf, nil
		}
		grown := make([]byte, len(buf), min(2*cap(buf), limit))
		copy(grown, buf)
		buf = grown
	}
}

func (s *S3) partSize() int { return max(s.PartSize, MinPartSize) }

func (s *S3) putSingle(ctx context.Context, key string, data []byte, contentType string, opts PutOptions) (Object, error) {
	out, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        &s.bucket,
		Key:           &key,
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		ContentType:   &contentType,
		IfMatch:       optional(opts.IfMatch),
		IfNoneMatch:   optional(opts.IfNoneMatch),
	})
	if err != nil {
		return Object{}, fmt.Errorf("put %s: %w", s.location(key), classify(err))
	}
	return Object{
		Key:         key,
		ETag:        aws.ToString(out.ETag),
		Size:        int64(len(data)),
		VersionID:   aws.ToString(out.VersionId),
		ContentType: contentType,
	}, nil
}

func (s *S3) putMultipart(ctx context.Context, key string, first []byte, rest io.Reader, contentType string, opts PutOptions) (Object, error) {
	created, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: &s.bucket, Key: &key, ContentType: &contentType,
	})
	if err != nil {
		return Object{}, fmt.Errorf("put %s: create multipart upload: %w", s.location(key), classify(err))
	}
	uploadID := created.UploadId
	parts, size, err := s.uploadParts(ctx, key, uploadID, first, rest)
	if err == nil {
		var obj Object
		obj, err = s.completeMultipart(ctx, key, uploadID, parts, opts)
		if err == nil {
			obj.Size, obj.ContentType = size, contentType
			return obj, nil
		}
	}
	// The upload is abandoned: abort it so its parts are not kept (and billed). The caller's
	// context may be what failed, so the abort gets its own.
	_, abortErr := s.client.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{
		Bucket: &s.bucket, Key: &key, UploadId: uploadID,
	})
	if abortErr != nil {
		err = errors.Join(err, fmt.Errorf("abort multipart upload: %w", abortErr))
	}
	return Object{}, fmt.Errorf("put %s: %w", s.location(key), err)
}

// uploadParts sends first and then the rest of the body, part by part, at most Concurrency parts
// in flight.
func (s *S3) uploadParts(ctx context.Context, key string, uploadID *string, first []byte, rest io.Reader) ([]types.CompletedPart, int64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// first is one buffer; Concurrency more let that many parts upload while the next is read.
	buffers := make(chan []byte, max(s.Concurrency, 1)+1)
	for range cap(buffers) - 1 {
		buffers <- make([]byte, s.partSize())
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		parts []types.CompletedPart
		size  int64
	)
	upload := func(number int32, data []byte) {
		defer wg.Done()
		out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: &s.bucket, Key: &key, UploadId: uploadID, PartNumber: aws.Int32(number),
			Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
		})
		if err != nil {
			cancel(fmt.Errorf("upload part %d: %w", number, classify(err)))
		} else {
			mu.Lock()
			parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(number)})
			mu.Unlock()
		}
		buffers <- data[:cap(data)]
	}
	data := first
	for number := int32(1); ; number++ {
		size += int64(len(data))
		wg.Add(1)
		go upload(number, data)
		var buf []byte
		select {
		case buf = <-buffers:
		case <-ctx.Done():
			wg.Wait()
			return nil, 0, context.Cause(ctx)
		}
		n, err := io.ReadFull(rest, buf)
		if n == 0 && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
			break
		}
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			cancel(fmt.Errorf("read body: %w", err))
			break
		}
		data = buf[:n]
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, 0, err
	}
	slices.SortFunc(parts, func(a, b types.CompletedPart) int { return cmp.Compare(*a.PartNumber, *b.PartNumber) })
	return parts, size, nil
}

func (s *S3) completeMultipart(ctx context.Context, key string, uploadID *string, parts []types.CompletedPart, opts PutOptions) (Object, error) {
	out, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &s.bucket, Key: &key, UploadId: uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		IfMatch:         optional(opts.IfMatch), IfNoneMatch: optional(opts.IfNoneMatch),
	})
	if err != nil {
		return Object{}, fmt.Errorf("complete multipart upload: %w", classify(err))
	}
	// S3 answers with the ETag later reads report (the parts' "<md5>-<parts>"): the one
	// conditions on this version must name.
	return Object{Key: key, ETag: aws.ToString(out.ETag), VersionID: aws.ToString(out.VersionId)}, nil
}

// Copy copies srcKey to dstKey within the bucket.
func (s *S3) Copy(ctx context.Context, srcKey, dstKey string) (Object, error) {
	out, err := s.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket:     &s.bucket,
		Key:        &dstKey,
		CopySource: aws.String(escapePath(s.bucket + "/" + srcKey)),
	})
	if err != nil {
		return Object{}, fmt.Errorf("copy %s to %s: %w", s.location(srcKey), dstKey, classify(err))
	}
	obj := Object{Key: dstKey, VersionID: aws.ToString(out.VersionId)}
	if out.CopyObjectResult != nil {
		obj.ETag = aws.ToString(out.CopyObjectResult.ETag)
		obj.LastModified = aws.ToTime(out.CopyObjectResult.LastModified)
	}
	return obj, nil
}

// optional is nil for an empty option, which the SDK then leaves out of the request.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// escapePath URL-encodes each segment of a bucket/key path, as CopySource requires, '+'
// included (servers read a bare '+' there as a space).
func escapePath(path string) string {
	segments := strings.Split(path, "/")
	for i, segment := range segments {
		segments[i] = strings.ReplaceAll(url.QueryEscape(segment), "+", "%20")
	}
	return strings.Join(segments, "/")
}

// Delete removes the object.
func (s *S3) Delete(ctx context.Context, key string) error {
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &key}); err != nil {
		return fmt.Errorf("delete %s: %w", s.location(key), classify(err))
	}
	return nil
}

// List returns every object under prefix, following continuation tokens.
func (s *S3) List(ctx context.Context, prefix string) ([]Object, error) {
	var out []Object
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &prefix})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", s.location(prefix), classify(err))
		}
		for _, item := range page.Contents {
			out = append(out, Object{
				Key:          aws.ToString(item.Key),
				ETag:         aws.ToString(item.ETag),
				Size:         aws.ToInt64(item.Size),
				LastModified: aws.ToTime(item.LastModified),
			})
		}
	}
	return out, nil
}

// Versions lists the versions of key that hold content, newest first as S3 lists them.
func (s *S3) Versions(ctx context.Context, key string) ([]Object, error) {
	var out []Object
	pages := s3.NewListObjectVersionsPaginator(s.client, &s3.ListObjectVersionsInput{Bucket: &s.bucket, Prefix: &key})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list versions of %s: %w", s.location(key), classify(err))
		}
		for _, item := range page.Versions {
			if aws.ToString(item.Key) != key {
				continue // a longer key with this one as its prefix
			}
			version := aws.ToString(item.VersionId)
			if version == "null" {
				version = "" // an object written before versioning was enabled
			}
			out = append(out, Object{
				Key:          key,
				ETag:         aws.ToString(item.ETag),
				Size:         aws.ToInt64(item.Size),
				VersionID:    version,
				LastModified: aws.ToTime(item.LastModified),
			})
		}
	}
	return out, nil
}

// absentIfUnlisted refines S3's answer 403 to a read of key. S3 answers 403 rather than 404 for a
// missing key unless the caller may list it, and a ListBucket permission narrowed to a prefix
// (s3:prefix) may not count for that; a listing of the key itself, which such a permission
// allows, tells whether it exists. The error gains ErrNotFound when the key is not there.
func (s *S3) absentIfUnlisted(ctx context.Context, key string, err error) error {
	var status *smithyhttp.ResponseError
	if !errors.As(err, &status) || status.HTTPStatusCode() != http.StatusForbidden {
		return err
	}
	out, listErr := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &key, MaxKeys: aws.Int32(1)})
	if listErr != nil || (len(out.Contents) > 0 && aws.ToString(out.Contents[0].Key) == key) {
		return err // denied indeed, or the listing is denied too
	}
	return errors.Join(ErrNotFound, err)
}

// classify maps S3's not-found and precondition answers onto this package's sentinels, keeping
// the original error in the chain.
func classify(err error) error {
	var status *smithyhttp.ResponseError
	if errors.As(err, &status) {
		switch status.HTTPStatusCode() {
		case http.StatusNotFound:
			return errors.Join(ErrNotFound, err)
		case http.StatusPreconditionFailed:
			return errors.Join(ErrPreconditionFailed, err)
		}
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NoSuchKey", "NotFound", "NoSuchVersion":
			return errors.Join(ErrNotFound, err)
		case "PreconditionFailed", "ConditionalRequestConflict":
			return errors.Join(ErrPreconditionFailed, err)
		}
	}
	return err
}
