// Command stockcast is stockcast on one machine: the embedded local stack (`stockcast run`) and
// the pipeline's steps offline on files (`stockcast merge`, …), running the same code as the
// Lambda functions.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// exitError ends the program with a specific status after printing nothing more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// commands are the subcommands, each taking its arguments after the name.
var commands = map[string]struct {
	run     func(ctx context.Context, args []string) error
	summary string
}{
	"run":      {runStack, "start the embedded local stack (S3 on 127.0.0.1:4566) with sample data"},
	"merge":    {runMerge, "merge uploads into a dataset file offline: merge --dataset FILE [--out FILE] UPLOAD..."},
	"forecast": {runForecast, "forecast offline with the API's JSON: forecast --data FILE [--days N] [--holdout N] [--product ID] [--model blend|trend|lstm --checkpoint FILE]"},
	"status":   {runStatus, "show the model being served and the latest jobs (or one job): status [JOB]"},
	"retry":    {runRetry, "train a failed job's rows again: retry JOB"},
	"backtest": {runBacktest, "backtest every product offline: backtest --data FILE [--horizon N] [--origins K] [--models a,b] [--sample N] [--json FILE] [--export DIR]"},
	"simulate": {runSimulate, "write a synthetic sharded dataset into a bucket or a directory: simulate [--products N] [--years Y] [--endpoint URL --bucket B | --dir DIR]"},
	"train":    {runTrain, "train the LSTM offline: train --data FILE [--checkpoint FILE] [--mode full|finetune] [--since DATE] --out FILE"},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) < 2 || commands[os.Args[1]].run == nil {
		usage()
		os.Exit(2)
	}
	err := commands[os.Args[1]].run(ctx, os.Args[2:])
	var exit exitError
	switch {
	case errors.As(err, &exit):
		os.Exit(exit.code)
	case err != nil:
		fmt.Fprintln(os.Stderr, "stockcast:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: stockcast COMMAND [flags]\n\ncommands:")
	for _, name := range []string{"run", "status", "merge", "train", "forecast", "backtest", "simulate"} {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", name, commands[name].summary)
	}
	fmt.Fprintln(os.Stderr, "\n'stockcast COMMAND -h' describes a command's flags.")
}
