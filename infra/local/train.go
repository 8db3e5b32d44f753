package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/lstminput"
	"github.com/stockcast/stockcast/shared/training"
)

// trainResult is what `stockcast train` prints.
type trainResult struct {
	Mode       training.Mode   `json:"mode"`
	Reason     string          `json:"reason"`
	Epochs     int             `json:"epochs"`
	Windows    int             `json:"windows"`
	Seconds    float64         `json:"seconds"`
	Loss       float64         `json:"loss"`
	ValLoss    float64         `json:"val_loss"`
	Stop       lstm.StopReason `json:"stop"`
	Since      string          `json:"since"`
	Until      string          `json:"until"`
	New        int             `json:"new_series"`
	Step       int64           `json:"optimizer_step"`
	Series     int             `json:"series"`
	Trained    string          `json:"trained_through"`
	Out        string          `json:"out"`
	Activation lstm.Activation `json:"activation"`
	// WindowsPerSecond is the training throughput: windows trained (epochs × windows) per
	// second of the run.
	WindowsPerSecond float64 `json:"windows_per_second"`
	// HeldOut is the number of last days left out of training (--holdout).
	HeldOut int `json:"held_out_days,omitempty"`
}

// runTrain trains the LSTM offline with the fine-tune function's code.
func runTrain(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("train", flag.ContinueOnError)
	source := addDataFlags(flags, "the dataset CSV, or a Prophet two-column ds,y CSV (required)")
	data := source.data
	checkpoint := flags.String("checkpoint", "", "checkpoint to continue from (none: train from scratch)")
	mode := flags.String("mode", "finetune", "finetune (continue from --checkpoint on the new days) or full")
	since := flags.String("since", "", "first new day (YYYY-MM-DD) for fine-tuning; default the day after the checkpoint's last")
	out := flags.String("out", "", "where to write the new checkpoint (required)")
	activation := flags.String("activation", string(lstm.Tanh), "cell activation: tanh or relu")
	fullEpochs := flags.Int("full-epochs", lstm.DefaultPolicy().FullEpochs, "most epochs of a full run")
	finetuneEpochs := flags.Int("finetune-epochs", lstm.DefaultPolicy().FineTuneEpochs, "most epochs of a fine-tuning run")
	covariates := flags.Bool("covariates", false, "read the dataset's known covariates (price, discount and every column outside the contract, such as promotion and holiday flags) at every step of the context")
	holdout := flags.Int("holdout", 0, "leave the last N days out of training, to evaluate with `stockcast forecast --holdout N` on days the model has not seen")
	flags.Usage = func() {
		fmt.Fprint(flags.Output(), "usage: stockcast train --data FILE [--checkpoint FILE] [--mode full|finetune] [--since DATE] --out FILE\n\n"+
			"Trains the global LSTM as the fine-tune function does and prints one JSON object; progress goes to stderr.\n\n")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return exitError{2}
	}
	if *data == "" || *out == "" || (*mode != string(training.Full) && *mode != string(training.FineTune)) {
		flags.Usage()
		return exitError{2}
	}
	opts := lstm.TrainOptions{Mode: training.Mode(*mode), Policy: lstm.DefaultPolicy()}
	opts.Policy.FullEpochs, opts.Policy.FineTuneEpochs = *fullEpochs, *finetuneEpochs
	if *since != "" {
		day, err := time.Parse(time.DateOnly, *since)
		if err != nil {
			return fmt.Errorf("--since %q is not a YYYY-MM-DD date", *since)
		}
		opts.Since = day
	}
	opts.Progress = func(e lstm.Epoch) {
		fmt.Fprintf(os.Stderr, "LSTM epoch %d/%d - loss=%.5f - val_loss=%.5f\n", e.Epoch, e.Epochs, e.Loss, e.ValLoss)
	}
	table, err := source.load(ctx)
	if err != nil {
		return err
	}
	cfg := lstm.DefaultConfig()
	cfg.Activation = lstm.Activation(*activation)
	if *covariates {
		cfg.Covariates = table.Covariates()
	}
	trainSeries, err := lstminput.Standard(table, cfg.Covariates)
	if err != nil {
		return err
	}
	if *holdout > 0 {
		last, _ := table.LastDate()
		trainSeries = lstm.Through(trainSeries, last.AddDate(0, 0, -*holdout))
	}
	model, err := resumeFile(*checkpoint, cfg)
	if err != nil {
		return err
	}
	started := time.Now()
	report, err := model.Train(ctx, trainSeries, opts)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	seconds := time.Since(started).Seconds()
	if err := writeCheckpoint(model, *out); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(trainResult{
		Mode: report.Mode, Reason: report.Reason, Epochs: report.Epochs, Windows: report.Windows, Seconds: seconds,
		Loss: report.Loss, ValLoss: report.ValLoss, Stop: report.Stop,
		Since: report.Since.Format(time.DateOnly), Until: report.Until.Format(time.DateOnly),
		New: len(report.NewSeries), Step: report.Step, Series: len(trainSeries),
		Trained: model.LastDate().Format(time.DateOnly), Out: *out, Activation: cfg.Activation,
		WindowsPerSecond: float64(report.Epochs*report.Windows) / seconds, HeldOut: *holdout,
	})
}

// resumeFile continues from the checkpoint file, or starts a new model (saying why) when there is
// none or it is unusable.
func resumeFile(path string, cfg lstm.Config) (*lstm.Model, error) {
	var r io.Reader
	if path != "" {
		file, err := os.Open(path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		if err == nil {
			defer file.Close()
			r = file
		}
	}
	model, fresh, err := lstm.Resume(r, cfg)
	if err != nil {
		return nil, err
	}
	if fresh != nil && path != "" {
		fmt.Fprintf(os.Stderr, "training from scratch: %v\n", fresh)
	}
	return model, nil
}

// writeCheckpoint writes the model beside out and renames it into place.
func writeCheckpoint(model *lstm.Model, out string) error {
	tmp, err := os.CreateTemp(filepath.Dir(out), ".checkpoint-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := model.WriteTo(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write checkpoint: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}
