// Package shards splits the dataset into shards by a stable hash of product_id: which shard a
// product lives in, how many shards a dataset of a given size has, where each shard is kept, and
// the index that names the shards of one dataset version.
//
// A shard of a dataset of several shards is kept in parts, one object per calendar quarter
// (PartKey), so that a daily upload of every product rewrites only the current quarter's part of
// each shard. Every part holds the data contract's CSV (sorted by date, product_id) with the
// dataset's columns; a shard's rows are its parts' rows in period order. A small dataset is one
// shard of one part kept at SingleKey, data/large_dataset.csv, as before sharding.
//
// The index (IndexKey) is the dataset's commit point: a merge writes the parts its upload
// touches, then replaces the index conditionally on the ETag it read. It is a plain JSON array of
// Shard entries, so that a Step Functions Distributed Map reads it directly as its items.
package shards

import (
	"fmt"
	"hash/fnv"
	"slices"
	"time"
)

// The keys of the sharded dataset.
const (
	// IndexKey is the index of the current dataset version.
	IndexKey = "data/index.json"
	// SingleKey is where the one shard of a dataset of one shard lives.
	SingleKey = "data/large_dataset.csv"
	// Prefix is where the shards of a dataset of several shards live: Prefix + "<count>/<k>.csv".
	Prefix = "data/shards/"
)

// DefaultMaxRows is how many rows a shard holds at most before the dataset doubles its shard
// count: about 40 MB of CSV, which one refit invocation fits and backtests well within its time.
const DefaultMaxRows = 1_000_000

// Of returns the shard of productID in a dataset of count shards: FNV-1a (32 bits) of the id
// modulo count. It is stable across runs and builds; count 1 (or less) gives 0.
func Of(productID string, count int) int {
	if count <= 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(productID))
	return int(h.Sum32() % uint32(count))
}

// PeriodOf returns the period (calendar quarter, "2024-Q3") of a day.
func PeriodOf(day time.Time) string {
	return fmt.Sprintf("%04d-Q%d", day.Year(), (int(day.Month())+2)/3)
}

// PartKey returns where the part of shard k of count shards for period is kept; a dataset of
// one shard has one part, at SingleKey, whatever the period.
func PartKey(k, count int, period string) string {
	if count <= 1 {
		return SingleKey
	}
	return fmt.Sprintf("%s%d/%04d/%s.csv", Prefix, count, k, period)
}

// ProductsKey returns where the product list of shard k of count shards is kept.
func ProductsKey(k, count int) string {
	return fmt.Sprintf("%s%d/%04d/products.json", Prefix, count, k)
}

// MaxCount is the most shards a dataset has: the training state machine holds every shard's
// refit result in its state at once, which Step Functions bounds to 256 KiB. Past MaxCount ×
// maxRows rows the shards grow instead (at DefaultMaxRows, 128 million rows: 100,000 products
// over 3.5 years).
const MaxCount = 128

// CountFor returns the shard count for a dataset of rows rows that has current shards now: the
// smallest power of two, not below current, whose shards hold at most maxRows rows each on
// average, but at most MaxCount. The count never shrinks, so a dataset is resharded only when it
// doubles.
func CountFor(rows, maxRows, current int) int {
	n := max(current, 1)
	if maxRows <= 0 {
		return n
	}
	for rows > n*maxRows && n < MaxCount {
		n *= 2
	}
	return n
}

// Shard is one shard of one dataset version, as the index lists it.
type Shard struct {
	// Shard is k, Of the shard count: the shard holds the products p with Of(p, Of) == k.
	Shard int `json:"shard"`
	Of    int `json:"of"`
	// Rows and Products count its rows and products; Bytes its size.
	Rows     int   `json:"rows"`
	Products int   `json:"products"`
	Bytes    int64 `json:"bytes"`
	// FirstDate and LastDate (YYYY-MM-DD) are its earliest and latest dates; empty when it has
	// no rows.
	FirstDate string `json:"first_date,omitempty"`
	LastDate  string `json:"last_date,omitempty"`
	// Columns are the dataset's columns, the header of every part, in order.
	Columns []string `json:"columns"`
	// Parts are its objects, oldest period first; none for an empty shard.
	Parts []Part `json:"parts"`
	// ProductList, in a dataset of several shards, names the object listing the shard's products
	// (ProductsKey: a JSON array of product_id, sorted; its Rows is their count), which keeps
	// Products exact while a merge rewrites only some parts; absent for an empty shard, and in
	// an index written without it (a merge then lists the shard's parts' products once).
	ProductList *Part `json:"product_list,omitempty"`
}

// Part is one object of a shard: its rows of one period.
type Part struct {
	// Period is the calendar quarter of its rows ("2024-Q3"); empty for the one part of a
	// dataset of one shard.
	Period string `json:"period,omitempty"`
	// Key, ETag and VersionID name the object exactly.
	Key       string `json:"key"`
	ETag      string `json:"etag"`
	VersionID string `json:"version_id,omitempty"`
	Rows      int    `json:"rows"`
	Bytes     int64  `json:"bytes"`
	// Products counts the part's distinct products.
	Products int `json:"products,omitempty"`
}

// Index lists the shards of one dataset version, shard 0 first: one entry for each k below the
// shard count, empty shards included.
type Index []Shard

// Count returns the shard count.
func (x Index) Count() int { return len(x) }

// Rows returns the rows of all shards.
func (x Index) Rows() int {
	n := 0
	for _, s := range x {
		n += s.Rows
	}
	return n
}

// Products returns the products of all shards.
func (x Index) Products() int {
	n := 0
	for _, s := range x {
		n += s.Products
	}
	return n
}

// FirstDate and LastDate return the dataset's earliest and latest dates (YYYY-MM-DD), empty
// for an empty dataset.
func (x Index) FirstDate() string {
	first := ""
	for _, s := range x {
		if s.FirstDate != "" && (first == "" || s.FirstDate < first) {
			first = s.FirstDate
		}
	}
	return first
}

// LastDate returns the dataset's latest date (YYYY-MM-DD), empty for an empty dataset.
func (x Index) LastDate() string {
	last := ""
	for _, s := range x {
		if s.LastDate > last {
			last = s.LastDate
		}
	}
	return last
}

// Columns returns the dataset's columns (every shard has the same).
func (x Index) Columns() []string {
	if len(x) == 0 {
		return nil
	}
	return x[0].Columns
}

// For returns the entry of productID's shard.
func (x Index) For(productID string) Shard { return x[Of(productID, len(x))] }

// Validate reports the first way x is not an index: no shard, an entry out of place, a count
// or columns that disagree, a part out of order or at a key that is not its own.
func (x Index) Validate() error {
	if len(x) == 0 {
		return fmt.Errorf("shard index: no shard")
	}
	for k, s := range x {
		switch {
		case s.Shard != k:
			return fmt.Errorf("shard index: entry %d is shard %d", k, s.Shard)
		case s.Of != len(x):
			return fmt.Errorf("shard index: shard %d says %d shards, the index has %d", k, s.Of, len(x))
		case !slices.Equal(s.Columns, x[0].Columns):
			return fmt.Errorf("shard index: shard %d has columns %v, shard 0 %v", k, s.Columns, x[0].Columns)
		case len(x) == 1 && len(s.Parts) > 1:
			return fmt.Errorf("shard index: the one shard has %d parts", len(s.Parts))
		}
		rows := 0
		for i, p := range s.Parts {
			switch {
			case p.Key != PartKey(k, len(x), p.Period):
				return fmt.Errorf("shard index: shard %d part %s is at %s, not %s", k, p.Period, p.Key, PartKey(k, len(x), p.Period))
			case i > 0 && p.Period <= s.Parts[i-1].Period:
				return fmt.Errorf("shard index: shard %d part %s follows part %s", k, p.Period, s.Parts[i-1].Period)
			case p.ETag == "":
				return fmt.Errorf("shard index: shard %d part %s has no ETag", k, p.Period)
			}
			rows += p.Rows
		}
		if rows != s.Rows {
			return fmt.Errorf("shard index: shard %d has %d rows, its parts %d", k, s.Rows, rows)
		}
		if l := s.ProductList; l != nil && (l.Key != ProductsKey(k, len(x)) || l.ETag == "" || l.Rows != s.Products) {
			return fmt.Errorf("shard index: shard %d's product list %s (%d products, ETag %q) is not its own of %d products", k, l.Key, l.Rows, l.ETag, s.Products)
		}
	}
	return nil
}
