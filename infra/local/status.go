package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/store"
)

// runStatus shows the current model and the latest jobs, or one job in detail.
func runStatus(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("status", flag.ContinueOnError)
	endpoint := flags.String("endpoint", "http://127.0.0.1:4566", "AWS endpoint (empty: AWS itself, from the usual environment)")
	bucket := flags.String("bucket", "stockcast-local", "the data bucket")
	limit := flags.Int("n", 15, "how many of the latest jobs to list")
	flags.Usage = func() {
		fmt.Fprint(flags.Output(), "usage: stockcast status [--endpoint URL] [--bucket NAME] [JOB]\n\n"+
			"Without JOB: the model being served and the latest jobs, with a progress bar for a running fine-tune.\n"+
			"With JOB: that job's record and its execution's history.\n\n")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil || flags.NArg() > 1 {
		return exitError{2}
	}
	cfg, err := awsConfig(ctx, *endpoint)
	if err != nil {
		return err
	}
	objects := store.NewS3(platform.NewS3Client(cfg), *bucket)
	states := platform.NewStepFunctionsClient(cfg)
	if flags.NArg() == 1 {
		return showJob(ctx, os.Stdout, objects, states, flags.Arg(0))
	}
	return showJobs(ctx, os.Stdout, objects, *limit)
}

func showJobs(ctx context.Context, w io.Writer, objects store.Store, limit int) error {
	manifest, obj, err := pipeline.ReadManifest(ctx, objects)
	switch {
	case errors.Is(err, pipeline.ErrNoManifest):
		fmt.Fprintln(w, "model: none published yet")
	case err != nil:
		return err
	default:
		fmt.Fprintf(w, "model: %s (trained through %s, %d rows, LSTM %s %d epochs, val_loss %.5f) manifest %s\n",
			manifest.Version, manifest.Dataset.LastDate, manifest.Dataset.Rows, manifest.Metrics.Mode,
			manifest.Metrics.Epochs, manifest.Metrics.ValLoss, obj.ETag)
	}
	if err := showDataset(ctx, w, objects); err != nil {
		return err
	}
	records, err := objects.List(ctx, pipeline.JobsPrefix)
	if err != nil {
		return err
	}
	slices.SortFunc(records, func(a, b store.Object) int { return b.LastModified.Compare(a.LastModified) })
	records = records[:min(limit, len(records))]
	jobs := pipeline.NewJobs(objects)
	table := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(table, "\nJOB\tSTATUS\tSTAGE\tUPLOAD\tUPDATED\tPROGRESS")
	for _, record := range records {
		id := strings.TrimSuffix(strings.TrimPrefix(record.Key, pipeline.JobsPrefix), ".json")
		job, err := jobs.Get(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(table, "%s\t%s\t%s\t%s\t%s\t%s\n", job.ID, job.Status, job.Stage, job.Upload.Key,
			job.Updated.Local().Format(time.DateTime), progress(job))
	}
	return table.Flush()
}

// showDataset is one line on the current dataset, from its index.
func showDataset(ctx context.Context, w io.Writer, objects store.Store) error {
	current, err := pipeline.CurrentDataset(ctx, objects)
	switch {
	case errors.Is(err, store.ErrNotFound):
		fmt.Fprintln(w, "dataset: none yet")
	case err != nil:
		return err
	case !current.Indexed():
		fmt.Fprintf(w, "dataset: %s (%d bytes; the next merge indexes it)\n", current.Ref.Key, current.Index[0].Bytes)
	default:
		x := current.Index
		var parts int
		var bytes int64
		for _, sh := range x {
			parts += len(sh.Parts)
			bytes += sh.Bytes
		}
		fmt.Fprintf(w, "dataset: %d rows, %s to %s, %d shards, %d parts, %d bytes (index %s)\n",
			x.Rows(), x.FirstDate(), x.LastDate(), x.Count(), parts, bytes, current.Object.ETag)
	}
	return nil
}

// progress is one line on a job: a bar while the LSTM trains, otherwise its outcome.
func progress(job *pipeline.Job) string {
	switch {
	case job.Status == pipeline.StatusRejected || job.Status == pipeline.StatusFailed:
		return job.Error
	case job.FineTune != nil && job.FineTune.Status == pipeline.StatusRunning && job.FineTune.Epochs > 0:
		const width = 20
		done := width * job.FineTune.Epoch / job.FineTune.Epochs
		return fmt.Sprintf("[%s%s] LSTM epoch %d/%d loss=%.5f", strings.Repeat("#", done), strings.Repeat(".", width-done),
			job.FineTune.Epoch, job.FineTune.Epochs, job.FineTune.Loss)
	case job.Publish != nil && job.Publish.Version != "":
		return "model " + job.Publish.Version
	case job.Merge != nil:
		m := job.Merge
		return fmt.Sprintf("merged: +%d rows, %d replaced; %d of %d shards, %d parts, %d bytes written", m.Inserted, m.Replaced,
			touched(m), m.Shards, m.PartsWritten, m.BytesWritten)
	}
	return ""
}

// touched counts the shards a merge rewrote: every one after a resharding.
func touched(m *pipeline.MergeReport) int {
	if m.ReshardedFrom > 0 {
		return m.Shards
	}
	return len(m.Touched)
}

func showJob(ctx context.Context, w io.Writer, objects store.Store, states *sfn.Client, id string) error {
	job, err := pipeline.NewJobs(objects).Get(ctx, id)
	if err != nil {
		return err
	}
	record, err := json.MarshalIndent(job, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s\n", record)
	if job.Execution == "" {
		return nil
	}
	history, err := states.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(job.Execution)})
	if err != nil {
		return fmt.Errorf("execution %s: %w", job.Execution, err)
	}
	fmt.Fprintf(w, "\nexecution %s\n", job.Execution)
	for _, event := range history.Events {
		detail := ""
		switch {
		case event.StateEnteredEventDetails != nil:
			detail = aws.ToString(event.StateEnteredEventDetails.Name)
		case event.StateExitedEventDetails != nil:
			detail = aws.ToString(event.StateExitedEventDetails.Name)
		case event.TaskFailedEventDetails != nil:
			detail = cmp.Or(aws.ToString(event.TaskFailedEventDetails.Error), "") + " " + aws.ToString(event.TaskFailedEventDetails.Cause)
		case event.MapStateStartedEventDetails != nil:
			detail = fmt.Sprintf("%d items", event.MapStateStartedEventDetails.Length)
		case event.MapRunStartedEventDetails != nil:
			detail = aws.ToString(event.MapRunStartedEventDetails.MapRunArn)
		case event.MapRunFailedEventDetails != nil:
			detail = aws.ToString(event.MapRunFailedEventDetails.Error) + " " + aws.ToString(event.MapRunFailedEventDetails.Cause)
		case event.ExecutionFailedEventDetails != nil:
			detail = aws.ToString(event.ExecutionFailedEventDetails.Error) + " " + aws.ToString(event.ExecutionFailedEventDetails.Cause)
		}
		fmt.Fprintf(w, "  %s  %-28s %s\n", aws.ToTime(event.Timestamp).Local().Format("15:04:05.000"), event.Type, detail)
	}
	return nil
}

// awsConfig is the AWS configuration of the commands that talk to a running stack: the endpoint
// on this machine, or AWS itself from the usual environment when endpoint is empty.
func awsConfig(ctx context.Context, endpoint string) (aws.Config, error) {
	if endpoint == "" {
		return platform.LoadAWSConfig(ctx)
	}
	return platform.LocalAWSConfig(endpoint), nil
}
