package stack_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/store"
)

// TestNewProductWithAFewDaysIsServed uploads only a new product, launched two months after the
// dataset's last day and sold on two days: too few for any LSTM window with an observed target
// (its context is empty before its first day, and its second day falls among the validation
// days). The training succeeds all the same — the fine-tune records that it had no new window —
// and a newly published model forecasts the product.
func TestNewProductWithAFewDaysIsServed(t *testing.T) {
	s := start(t, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	aws3 := platform.LocalAWSConfig(s.Endpoint())
	client := platform.NewStepFunctionsClient(aws3)
	objects := store.NewS3(platform.NewS3Client(aws3), "stockcast-local")
	waitForExecutions(t, client, s.StateMachineARN(), 1)
	first, _, err := pipeline.ReadManifest(ctx, objects)
	if err != nil {
		t.Fatalf("no model after the seed: %v", err)
	}
	// small_dataset.csv ends on 2024-02-29; the LSTM reads 28 days and predicts 28.
	upload := "date,product_id,sales,category,region\n2024-05-01,NEWP,7,Toys,North\n2024-05-12,NEWP,9,Toys,North\n"
	if _, err := platform.NewS3Client(aws3).PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("stockcast-local"), Key: aws.String("uploads/launch.csv"), Body: strings.NewReader(upload),
	}); err != nil {
		t.Fatal(err)
	}
	executions := waitForExecutions(t, client, s.StateMachineARN(), 2)
	if executions[0].Status != types.ExecutionStatusSucceeded {
		t.Fatalf("the new product's training: %s", executions[0].Status)
	}
	job, err := pipeline.NewJobs(objects).Get(ctx, aws.ToString(executions[0].Name))
	if err != nil || job.Status != pipeline.StatusSucceeded || job.FineTune == nil || !strings.Contains(job.FineTune.Message, "no_new_window") {
		t.Fatalf("the new product's job: %+v (%v), want succeeded with a fine-tune that had no new window", job, err)
	}
	latest, _, err := pipeline.ReadManifest(ctx, objects)
	if err != nil || latest.Version == first.Version || latest.Dataset.LastDate != "2024-05-12" {
		t.Fatalf("manifest after the upload: %+v (%v), want a new model of the dataset through 2024-05-12", latest, err)
	}
	if version := forecastVersion(t, s, "NEWP"); version != latest.Version {
		t.Errorf("the new product is forecast by %q, want %q", version, latest.Version)
	}
}
