package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/stockcast/stockcast/infra/simulate"
	"github.com/stockcast/stockcast/shared/datagen"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
)

// runSimulate writes a synthetic sharded dataset into a bucket (a running local stack's, any
// S3's) or into a directory-backed store, and commits it as the current dataset.
func runSimulate(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("simulate", flag.ContinueOnError)
	products := flags.Int("products", 10000, "how many products")
	years := flags.Int("years", 3, "how many years of daily rows each")
	seed := flags.Int64("seed", 1, "the generator's seed (the same seed writes the same dataset)")
	intermittent := flags.Float64("intermittent", 0.1, "the share of products with intermittent demand")
	maxRows := flags.Int("shard-max-rows", shards.DefaultMaxRows, "rows a shard holds at most (sets the shard count, as the merge's MERGE_SHARD_MAX_ROWS)")
	workers := flags.Int("workers", 4, "parts written at once")
	endpoint := flags.String("endpoint", "http://127.0.0.1:4566", "S3 endpoint (empty: AWS itself, from the usual environment)")
	bucket := flags.String("bucket", "stockcast-local", "the data bucket")
	dir := flags.String("dir", "", "write into this directory-backed store instead of S3 (what the scale benchmarks read)")
	upload := flags.String("upload", "", "instead of the dataset, write an upload continuing it to this CSV file: the --upload-days after its last day of its first --upload-products")
	uploadProducts := flags.Int("upload-products", 0, "products of the --upload (0: every product)")
	uploadDays := flags.Int("upload-days", 1, "days of the --upload")
	flags.Usage = func() {
		fmt.Fprint(flags.Output(), "usage: stockcast simulate [--products N] [--years Y] [--endpoint URL --bucket B | --dir DIR | --upload FILE]\n\n"+
			"Writes a synthetic dataset of N products × Y years of days in the sharded layout (quarterly parts of\n"+
			"each shard, then data/index.json) and makes it the current dataset; the next upload merges into it\n"+
			"and trains it. 100,000 × 3 is about 110 million rows, 5.3 GB, in 128 shards. With --upload, writes\n"+
			"instead the CSV of the days after that dataset (the same flags name it), to upload into it.\n\n")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil || flags.NArg() > 0 {
		return exitError{2}
	}
	cfg := simulate.Config{Products: *products, Years: *years, Seed: *seed, Intermittent: *intermittent, MaxRows: *maxRows, Workers: *workers,
		Logger: platform.NewLogger(os.Stderr)}
	if *upload != "" {
		return writeUpload(ctx, *upload, cfg, *uploadProducts, *uploadDays)
	}
	var objects store.Store
	if *dir != "" {
		d, err := store.NewDir(*dir, *bucket)
		if err != nil {
			return err
		}
		objects = d
	} else {
		cfg, err := awsConfig(ctx, *endpoint)
		if err != nil {
			return err
		}
		objects = store.NewS3(platform.NewS3Client(cfg), *bucket)
	}
	fmt.Fprintf(os.Stderr, "writing %d products × %d days (%d rows) in %d shards into %s\n",
		*products, cfg.Dataset().Days, cfg.Dataset().Rows(), cfg.Count(), location(objects, *dir))
	report, err := simulate.Write(ctx, objects, cfg)
	if err != nil {
		return err
	}
	fmt.Printf("wrote %d rows, %.1f MB in %d shards of %d parts in %.1f s; index %s %s\n",
		report.Rows, float64(report.Bytes)/1e6, report.Shards, report.Parts, report.Elapsed.Seconds(), shards.IndexKey, report.Index.ETag)
	return nil
}

// location names where simulate writes.
func location(s store.Store, dir string) string {
	if dir != "" {
		return dir
	}
	return "s3://" + s.Bucket()
}

// writeUpload writes to path the upload of the days days after the dataset c describes for its
// first products products (0: all).
func writeUpload(ctx context.Context, path string, c simulate.Config, products, days int) error {
	d := c.Dataset()
	if products > 0 {
		d.Products = min(products, d.Products)
	}
	up := datagen.NextDays(d, d.Products*days)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := datagen.Write(ctx, f, up); err != nil {
		f.Close()
		return fmt.Errorf("write the upload %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write the upload %s: %w", path, err)
	}
	fmt.Printf("wrote %s: %d rows, %s to %s, products %s to %s\n", path, up.Rows(), up.Start.Format(time.DateOnly),
		up.End().AddDate(0, 0, -1).Format(time.DateOnly), d.ProductID(1), d.ProductID(d.Products))
	return nil
}
