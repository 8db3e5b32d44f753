// Package platform wires stockcast to its runtime: AWS clients with local endpoint overrides,
// structured logs and tracing. It is the one place that knows which tracing backend is used.
package platform

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-xray-sdk-go/instrumentation/awsv2"
)

// LoadAWSConfig loads the SDK configuration from the environment as every AWS tool does
// (credentials, region, and the standard AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>
// overrides), with X-Ray instrumentation on every client when tracing is on.
func LoadAWSConfig(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if TracingEnabled() {
		awsv2.AWSV2Instrumentor(&cfg.APIOptions)
	}
	return cfg, nil
}

// LocalAWSConfig is the configuration for an AWS-compatible endpoint on this machine (the
// embedded local stack, LocalStack, a test server): fixed test credentials, us-east-1.
func LocalAWSConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

// NewS3Client returns an S3 client; with an endpoint override (a local S3 server) it uses
// path-style addressing, which such servers need.
func NewS3Client(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = pathStyle(cfg)
	})
}

// NewStepFunctionsClient returns a Step Functions client.
func NewStepFunctionsClient(cfg aws.Config) *sfn.Client {
	return sfn.NewFromConfig(cfg)
}

func pathStyle(cfg aws.Config) bool {
	if force, err := strconv.ParseBool(os.Getenv("AWS_S3_FORCE_PATH_STYLE")); err == nil {
		return force
	}
	return cfg.BaseEndpoint != nil || os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
}
