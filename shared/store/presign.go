package store

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// PutGrant is what a presigned PUT lets its holder write: one key, with exactly this content
// type, size and user metadata, until the grant expires.
type PutGrant struct {
	Key         string
	ContentType string
	// Size is the body's exact length in bytes: the signature covers Content-Length.
	Size int64
	// Metadata is user metadata (x-amz-meta-*) the request must carry, as signed.
	Metadata map[string]string
	// Expiry is how long the URL is valid.
	Expiry time.Duration
}

// PresignedPut is a PUT request that needs no credentials, until Expires.
type PresignedPut struct {
	Method string `json:"method"`
	URL    string `json:"url"`
	// Headers are the headers the request must send with these values (Content-Length, which
	// every HTTP client sets from the body, and Host are left out).
	Headers map[string]string `json:"headers"`
	Expires time.Time         `json:"expires"`
}

// Presigner issues presigned PUTs into its bucket.
type Presigner interface {
	PresignPut(ctx context.Context, grant PutGrant) (PresignedPut, error)
}

// PresignPut signs a PutObject of the grant with the client's credentials (SigV4 query
// authentication), as a browser can send it straight to S3.
func (s *S3) PresignPut(ctx context.Context, grant PutGrant) (PresignedPut, error) {
	now := time.Now()
	presigner := s3.NewPresignClient(s.client, s3.WithPresignExpires(grant.Expiry))
	req, err := presigner.PresignPutObject(ctx, &s3.PutObjectInput{
		Bucket:        &s.bucket,
		Key:           &grant.Key,
		ContentType:   optional(grant.ContentType),
		ContentLength: aws.Int64(grant.Size),
		Metadata:      grant.Metadata,
	})
	if err != nil {
		return PresignedPut{}, fmt.Errorf("presign put %s: %w", s.location(grant.Key), err)
	}
	headers := map[string]string{}
	for name, values := range req.SignedHeader {
		switch http.CanonicalHeaderKey(name) {
		case "Host", "Content-Length":
		default:
			headers[http.CanonicalHeaderKey(name)] = values[0]
		}
	}
	return PresignedPut{Method: req.Method, URL: req.URL, Headers: headers, Expires: now.Add(grant.Expiry).UTC().Truncate(time.Second)}, nil
}
