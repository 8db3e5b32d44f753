package platform

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stockcast/stockcast/shared/store"
)

// Function is what a Lambda function's main needs: its JSON logger, its configuration from the
// environment and the AWS configuration. Problems found while wiring are collected and reported
// together by Start, which then refuses to start.
type Function struct {
	Logger *slog.Logger
	Env    *Env
	AWS    aws.Config
	errs   []error
}

// NewFunction sets up the function named name.
func NewFunction(name string) *Function {
	f := &Function{Logger: SetupLambdaLogging(name), Env: NewEnv()}
	if limit := LimitMemory(f.Env); limit > 0 {
		f.Logger.Debug("Go memory limit set from the function's memory", "bytes", limit)
	}
	var err error
	if f.AWS, err = LoadAWSConfig(context.Background()); err != nil {
		f.errs = append(f.errs, err)
	}
	return f
}

// DataBucket is the store over the bucket named by DATA_BUCKET.
func (f *Function) DataBucket() store.Store {
	return store.NewS3(NewS3Client(f.AWS), f.Env.Required("DATA_BUCKET"))
}

// Start checks the configuration (and the extra checks given) and hands handler to the Lambda
// runtime; a misconfigured function logs every problem and exits.
func (f *Function) Start(handler any, checks ...error) {
	if err := errors.Join(append(append(f.errs, f.Env.Err()), checks...)...); err != nil {
		f.Logger.Error("cannot start", "error", err)
		os.Exit(1)
	}
	lambda.Start(handler)
}
