package sfn

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ObjectReader reads the S3 object a Distributed Map's ItemReader names: its
// bucket, key and version (empty: the current version).
type ObjectReader interface {
	GetObject(ctx context.Context, bucket, key, versionID string) ([]byte, error)
}

// S3Objects is an ObjectReader on an S3 client: the local stack's own S3
// endpoint, as AWS's Step Functions reads the bucket with GetObject.
type S3Objects struct {
	Client *s3.Client
}

// maxItemReaderBytes bounds the object an ItemReader reads whole into memory.
const maxItemReaderBytes = 256 << 20

// GetObject reads an object (a version of it when versionID is set).
func (o S3Objects) GetObject(ctx context.Context, bucket, key, versionID string) ([]byte, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	out, err := o.Client.GetObject(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, maxItemReaderBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
	}
	if len(data) > maxItemReaderBytes {
		return nil, fmt.Errorf("read s3://%s/%s: larger than the %d MiB the local Step Functions reads", bucket, key, maxItemReaderBytes>>20)
	}
	return data, nil
}
