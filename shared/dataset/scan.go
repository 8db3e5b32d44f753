package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// Row is one typed dataset row. Byte slices are valid until the next Scan.
// A numeric column that is absent, empty or not a finite number is NaN; an
// absent text column is empty.
type Row struct {
	Day       Day
	ProductID []byte
	Sales     float64
	Category  []byte
	Region    []byte
	Price     float64
	Discount  float64
	Rating    float64
}

// Scanner reads typed rows from a dataset stream. It is the fast path for
// loading a large dataset: no allocation per row for rows without quotes.
type Scanner struct {
	rr      *recordReader
	columns []string
	idx     [8]int // date, product_id, sales, category, region, price, discount, rating; -1 if absent
	row     Row
	rows    int
	err     error

	lastDate []byte // the previous row's date text and its day
	lastDay  Day
}

// NewScanner reads the dataset's header from r. An empty stream is a dataset
// with no rows; a header without the required columns is an error wrapping
// ErrInvalidDataset.
func NewScanner(r io.Reader) (*Scanner, error) {
	src, err := Open(r)
	if err != nil {
		return nil, err
	}
	s := &Scanner{rr: src.rr, columns: src.columns}
	for i, name := range canonicalColumns {
		s.idx[i] = slices.Index(s.columns, name)
	}
	return s, nil
}

// Columns returns the dataset's columns.
func (s *Scanner) Columns() []string { return slices.Clone(s.columns) }

// Scan advances to the next row; it returns false at the end or on an error,
// which Err reports. The scanner does not watch a context: callers check
// theirs between rows.
func (s *Scanner) Scan() bool {
	if s.rr == nil || s.err != nil {
		return false
	}
	err := s.rr.next()
	if errors.Is(err, io.EOF) {
		return false
	}
	if err != nil {
		s.err = readErr(err)
		return false
	}
	s.rows++
	f := s.rr.fields
	if len(f) != len(s.columns) {
		s.err = fmt.Errorf("%w: line %d: expected %d fields, got %d", ErrInvalidDataset, s.rr.start, len(s.columns), len(f))
		return false
	}
	day, ok := s.day(f[s.idx[0]])
	if !ok {
		return false
	}
	product := bytes.TrimSpace(f[s.idx[1]])
	if len(product) == 0 {
		s.err = fmt.Errorf("%w: line %d: empty product_id", ErrInvalidDataset, s.rr.start)
		return false
	}
	sales := parseNumber(f[s.idx[2]])
	if math.IsNaN(sales) {
		s.err = fmt.Errorf("%w: line %d: sales %q is not a finite number", ErrInvalidDataset, s.rr.start, f[s.idx[2]])
		return false
	}
	s.row = Row{
		Day:       day,
		ProductID: product,
		Sales:     sales,
		Category:  s.text(3),
		Region:    s.text(4),
		Price:     s.number(5),
		Discount:  s.number(6),
		Rating:    s.number(7),
	}
	return true
}

// day parses a date, reusing the previous row's day when the text repeats,
// as it does on every row of a day in a sorted dataset.
func (s *Scanner) day(raw []byte) (Day, bool) {
	if s.rows > 1 && bytes.Equal(raw, s.lastDate) {
		return s.lastDay, true
	}
	day, reason := parseDate(bytes.TrimSpace(raw))
	if reason != "" {
		s.err = fmt.Errorf("%w: line %d: date %q: %s", ErrInvalidDataset, s.rr.start, raw, reason)
		return 0, false
	}
	s.lastDate, s.lastDay = append(s.lastDate[:0], raw...), day
	return day, true
}

func (s *Scanner) text(k int) []byte {
	if s.idx[k] < 0 {
		return nil
	}
	return s.rr.fields[s.idx[k]]
}

func (s *Scanner) number(k int) float64 {
	if s.idx[k] < 0 {
		return math.NaN()
	}
	return parseNumber(s.rr.fields[s.idx[k]])
}

// Row returns the current row.
func (s *Scanner) Row() *Row { return &s.row }

// Covariate reads column i (in Columns order) of the current row as a
// known covariate: its number when it is one, NaN when it is empty, and 1
// for any other text (a flag written as a code, such as a holiday's "a").
func (s *Scanner) Covariate(i int) float64 {
	f := bytes.TrimSpace(s.rr.fields[i])
	if len(f) == 0 {
		return math.NaN()
	}
	if v := parseNumber(f); !math.IsNaN(v) {
		return v
	}
	return 1
}

// Rows returns the number of rows scanned so far.
func (s *Scanner) Rows() int { return s.rows }

// Err returns the error that stopped Scan, if any.
func (s *Scanner) Err() error { return s.err }
