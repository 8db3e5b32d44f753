package dataset

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// ErrNotCanonical marks an existing dataset that Merge cannot stream: rows
// out of order or a key repeated. MergeInMemory handles such a dataset.
var ErrNotCanonical = errors.New("dataset not sorted by (date, product_id) with unique keys")

// ErrInvalidDataset marks an existing dataset with a malformed header or row;
// neither merge can use it.
var ErrInvalidDataset = errors.New("invalid dataset")

// Source is an existing dataset opened for one merge: its header has been
// read, its rows are read as the merge goes.
type Source struct {
	rr       *recordReader
	columns  []string
	date     int // index of the date column
	product  int // index of the product_id column
	consumed bool
}

// Open reads the header of the existing dataset from r. A nil r stands for a
// dataset that does not exist yet, as does an empty (zero-byte) object: the
// source then has no columns and no rows. A dataset with a header and no
// rows is valid. The header must name date, product_id and sales exactly.
func Open(r io.Reader) (*Source, error) {
	if r == nil {
		return &Source{}, nil
	}
	rr := newRecordReader(r)
	err := rr.next()
	if errors.Is(err, io.EOF) {
		return &Source{}, nil
	}
	var syn *syntaxError
	if errors.As(err, &syn) {
		return nil, fmt.Errorf("dataset header: %w: %v", ErrInvalidDataset, syn)
	}
	if err != nil {
		return nil, fmt.Errorf("read dataset header: %w", err)
	}
	columns := make([]string, len(rr.fields))
	for i, f := range rr.fields {
		columns[i] = string(f)
	}
	if err := checkDatasetHeader(columns); err != nil {
		return nil, fmt.Errorf("dataset header: %w: %v", ErrInvalidDataset, err)
	}
	return &Source{
		rr:      rr,
		columns: columns,
		date:    slices.Index(columns, ColDate),
		product: slices.Index(columns, ColProductID),
	}, nil
}

// Columns returns the dataset's columns (none for an absent dataset).
func (s *Source) Columns() []string { return slices.Clone(s.columns) }

// Stats describe a merge.
type Stats struct {
	RowsBefore int       `json:"rows_before"`
	RowsAfter  int       `json:"rows_after"`
	Inserted   int       `json:"inserted"`
	Replaced   int       `json:"replaced"`
	Columns    []string  `json:"columns"`
	NewColumns []string  `json:"new_columns"`
	FirstDate  time.Time `json:"first_date"` // the upload's earliest day
	LastDate   time.Time `json:"last_date"`  // the upload's latest day
	// Products counts the merged dataset's distinct products; First and Last (YYYY-MM-DD) are its
	// earliest and latest dates.
	Products int    `json:"products"`
	First    string `json:"dataset_first_date,omitempty"`
	Last     string `json:"dataset_last_date,omitempty"`
}

// outputs counts the products and the dates of the rows a merge writes, in any order.
type outputs struct {
	products    map[string]struct{}
	first, last string
}

func (o *outputs) add(r row) {
	if o.products == nil {
		o.products = map[string]struct{}{}
	}
	if _, ok := o.products[r.product]; !ok {
		o.products[strings.Clone(r.product)] = struct{}{}
	}
	if o.first == "" || r.date < o.first {
		o.first = strings.Clone(r.date)
	}
	if r.date > o.last {
		o.last = strings.Clone(r.date)
	}
}

// into records the counts in st.
func (o *outputs) into(st *Stats) {
	st.Products, st.First, st.Last = len(o.products), o.first, o.last
}

// existingRow turns the current record of s into an output row: the line is
// the record as read when possible, re-encoded when it came through the CSV
// parser or its key had to be normalised; pad is appended for new columns.
// The row's strings and line are valid until the next record.
func (s *Source) existingRow(pad string, scratch []byte) (row, []byte, error) {
	rr := s.rr
	if len(rr.fields) != len(s.columns) {
		return row{}, scratch, fmt.Errorf("%w: line %d: expected %d fields, got %d", ErrInvalidDataset, rr.start, len(s.columns), len(rr.fields))
	}
	rawDate, rawProduct := rr.fields[s.date], rr.fields[s.product]
	date, product := rawDate, bytes.TrimSpace(rawProduct)
	if !isCanonicalDate(date) {
		date = bytes.TrimSpace(date)
		if _, reason := parseDate(date); reason != "" {
			return row{}, scratch, fmt.Errorf("%w: line %d: date %q: %s", ErrInvalidDataset, rr.start, rawDate, reason)
		}
		date = date[:10]
	}
	if len(product) == 0 {
		return row{}, scratch, fmt.Errorf("%w: line %d: empty product_id", ErrInvalidDataset, rr.start)
	}
	if rr.rewrite || len(date) != len(rawDate) || len(product) != len(rawProduct) {
		fields := make([]string, len(rr.fields))
		for i, f := range rr.fields {
			fields[i] = string(f)
		}
		fields[s.date], fields[s.product] = string(date), string(product)
		line := appendRecord(scratch[:0], fields)
		line = append(append(line[:len(line)-1], pad...), '\n')
		return row{date: string(date), product: string(product), line: line}, line, nil
	}
	line := append(append(append(scratch[:0], rr.raw...), pad...), '\n')
	return row{date: bytesString(date), product: bytesString(product), line: line}, line, nil
}

// start checks that up was parsed against s's columns and marks s consumed.
func (s *Source) start(up *Upload) error {
	if s.consumed {
		return errors.New("dataset source already merged")
	}
	s.consumed = true
	if len(up.Columns) < len(s.columns) || !slices.Equal(up.Columns[:len(s.columns)], s.columns) {
		return fmt.Errorf("upload was parsed against columns %q, dataset has %q", up.Columns, s.columns)
	}
	return nil
}

// Merge streams the existing dataset and the upload into w as the merged,
// sorted dataset. Memory grows with the upload, not the dataset. If the
// dataset is not canonical the error wraps ErrNotCanonical; w then holds a
// partial result that must be discarded.
func Merge(ctx context.Context, src *Source, up *Upload, w io.Writer) (Stats, error) {
	if err := src.start(up); err != nil {
		return Stats{}, err
	}
	st := newStats(up)
	bw := bufio.NewWriterSize(w, 256<<10)
	if _, err := bw.Write(appendRecord(nil, up.Columns)); err != nil {
		return Stats{}, fmt.Errorf("write header: %w", err)
	}
	pad := strings.Repeat(",", len(up.NewColumns))
	next := 0 // next upload row to write
	var out outputs
	var prevDate, prevProduct, scratch []byte
	for src.rr != nil {
		if st.RowsBefore%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return Stats{}, fmt.Errorf("merge: %w", err)
			}
		}
		err := src.rr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Stats{}, readErr(err)
		}
		var r row
		r, scratch, err = src.existingRow(pad, scratch)
		if err != nil {
			return Stats{}, err
		}
		if st.RowsBefore > 0 {
			if c := compareKey(r.date, r.product, bytesString(prevDate), bytesString(prevProduct)); c <= 0 {
				return Stats{}, fmt.Errorf("line %d: key (%s, %s) after (%s, %s): %w", src.rr.start, r.date, r.product, prevDate, prevProduct, ErrNotCanonical)
			}
		}
		prevDate, prevProduct = append(prevDate[:0], r.date...), append(prevProduct[:0], r.product...)
		st.RowsBefore++
		for next < up.len() && compareRows(up.at(next), r) < 0 {
			if _, err := bw.Write(up.at(next).line); err != nil {
				return Stats{}, fmt.Errorf("write row: %w", err)
			}
			out.add(up.at(next))
			next++
			st.Inserted++
		}
		out.add(r)
		line := r.line
		if next < up.len() && compareRows(up.at(next), r) == 0 {
			line = up.at(next).line
			next++
			st.Replaced++
		}
		if _, err := bw.Write(line); err != nil {
			return Stats{}, fmt.Errorf("write row: %w", err)
		}
	}
	// The rows after the dataset's last one are the only ones that can lie too far ahead.
	if err := up.CheckHorizon(string(prevDate)); err != nil {
		return Stats{}, err
	}
	for ; next < up.len(); next++ {
		r := up.at(next)
		if _, err := bw.Write(r.line); err != nil {
			return Stats{}, fmt.Errorf("write row: %w", err)
		}
		out.add(r)
		st.Inserted++
	}
	if err := bw.Flush(); err != nil {
		return Stats{}, fmt.Errorf("flush merged dataset: %w", err)
	}
	st.RowsAfter = st.RowsBefore + st.Inserted
	out.into(&st)
	return st, nil
}

// MergeInMemory reads the whole existing dataset, appends the upload, keeps
// the last row of each key, sorts and writes the result to w. It accepts a
// dataset in any order; memory grows with the dataset.
func MergeInMemory(ctx context.Context, src *Source, up *Upload, w io.Writer) (Stats, error) {
	if err := src.start(up); err != nil {
		return Stats{}, err
	}
	st := newStats(up)
	pad := strings.Repeat(",", len(up.NewColumns))
	var rows []row
	existing := map[[2]string]bool{}
	for src.rr != nil {
		if len(rows)%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return Stats{}, fmt.Errorf("merge: %w", err)
			}
		}
		err := src.rr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Stats{}, readErr(err)
		}
		r, _, err := src.existingRow(pad, nil)
		if err != nil {
			return Stats{}, err
		}
		r.date, r.product = strings.Clone(r.date), strings.Clone(r.product)
		rows = append(rows, r)
		existing[[2]string{r.date, r.product}] = true
	}
	st.RowsBefore = len(rows)
	var datasetLast string
	for _, r := range rows {
		datasetLast = max(datasetLast, r.date)
	}
	if err := up.CheckHorizon(datasetLast); err != nil {
		return Stats{}, err
	}
	for i := range up.len() {
		r := up.at(i)
		rows = append(rows, r)
		if existing[[2]string{r.date, r.product}] {
			st.Replaced++
		} else {
			st.Inserted++
		}
	}
	rows = sortKeepLast(rows)
	st.RowsAfter = len(rows)
	bw := bufio.NewWriterSize(w, 256<<10)
	if _, err := bw.Write(appendRecord(nil, up.Columns)); err != nil {
		return Stats{}, fmt.Errorf("write header: %w", err)
	}
	var out outputs
	for _, r := range rows {
		if _, err := bw.Write(r.line); err != nil {
			return Stats{}, fmt.Errorf("write row: %w", err)
		}
		out.add(r)
	}
	out.into(&st)
	if err := bw.Flush(); err != nil {
		return Stats{}, fmt.Errorf("flush merged dataset: %w", err)
	}
	return st, nil
}

func newStats(up *Upload) Stats {
	return Stats{
		Columns:    slices.Clone(up.Columns),
		NewColumns: slices.Clone(up.NewColumns),
		FirstDate:  up.FirstDate,
		LastDate:   up.LastDate,
	}
}

// readErr wraps an error from reading the existing dataset.
func readErr(err error) error {
	var syn *syntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("%w: %v", ErrInvalidDataset, syn)
	}
	return fmt.Errorf("read dataset: %w", err)
}

// compareKey orders keys by date, then product_id, in byte order.
func compareKey(date, product, otherDate, otherProduct string) int {
	if c := strings.Compare(date, otherDate); c != 0 {
		return c
	}
	return strings.Compare(product, otherProduct)
}
