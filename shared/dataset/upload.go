package dataset

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// DefaultMaxProblems is the number of problems a ValidationError lists when
// Options.MaxProblems is zero.
const DefaultMaxProblems = 100

// maxValueLen caps the value quoted in a Problem.
const maxValueLen = 200

// Options tune ParseUpload.
type Options struct {
	// MaxProblems caps the problems listed in a ValidationError (the total is
	// always counted); zero means DefaultMaxProblems.
	MaxProblems int
	// Limits bound the upload's columns, fields and dates; zero fields take their defaults.
	Limits Limits
	// SizeHint is the upload's size in bytes, if known: the rows are then allocated once, from
	// the size of the first ones, instead of grown step by step (each step holding the old
	// and the new array at once).
	SizeHint int64
}

// Problem is one reason an upload is refused. Line is the 1-based physical
// line (0 for the file as a whole); Column is the column name as it appears in
// the upload, or the required column's name when it is missing.
type Problem struct {
	Line   int    `json:"line"`
	Column string `json:"column"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
}

// String formats the problem as "line N: column "c": value "v": reason".
func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Column != "" {
		fmt.Fprintf(&b, "column %q: ", p.Column)
	}
	if p.Value != "" {
		fmt.Fprintf(&b, "value %q: ", p.Value)
	}
	b.WriteString(p.Reason)
	return b.String()
}

// ValidationError refuses an upload: the file is not merged at all.
type ValidationError struct {
	// Problems lists the problems in file order, at most the configured cap.
	Problems []Problem `json:"problems"`
	// Total counts all problems, listed or not.
	Total int `json:"total"`
}

// Error summarises the refusal and names the first problem.
func (e *ValidationError) Error() string {
	if len(e.Problems) == 0 {
		return "upload refused"
	}
	if e.Total == 1 {
		return "upload refused: " + e.Problems[0].String()
	}
	return fmt.Sprintf("upload refused: %d problems, first: %s", e.Total, e.Problems[0])
}

// Upload is a validated upload, laid out in the dataset's columns after the
// merge, deduplicated (last row of a key wins) and sorted by key.
type Upload struct {
	// Columns are the dataset's columns after merging this upload.
	Columns []string
	// NewColumns are the columns this upload adds to the dataset.
	NewColumns []string
	// DataRows counts the data rows in the file, duplicates included.
	DataRows int
	// Duplicates counts rows dropped because a later row had the same key.
	Duplicates int
	// FirstDate and LastDate are the upload's earliest and latest days.
	FirstDate, LastDate time.Time

	rows        []row
	limits      Limits // the limits it was parsed with, for the checks of the merge
	maxProblems int
	part        bool // a part of an upload (Split): its horizon is checked on the whole
	// sel, for a part, are the indexes in rows (the whole upload's) of the part's rows, in order.
	sel []int32
}

// Rows returns the number of distinct (date, product_id) rows.
func (u *Upload) Rows() int { return u.len() }

// len is how many rows the upload (or part) holds; at returns its i-th.
func (u *Upload) len() int {
	if u.part {
		return len(u.sel)
	}
	return len(u.rows)
}

func (u *Upload) at(i int) row {
	if u.part {
		return u.rows[u.sel[i]]
	}
	return u.rows[i]
}

// row is one output row: its key and its encoded CSV line.
type row struct {
	date, product string
	line          []byte
	at            int // the upload's line it came from (0 for the dataset's rows)
}

func compareRows(a, b row) int { return compareKey(a.date, a.product, b.date, b.product) }

// problemList collects problems up to a cap.
type problemList struct {
	max int
	err ValidationError
}

func (l *problemList) add(p Problem) {
	if len(p.Value) > maxValueLen {
		p.Value = p.Value[:maxValueLen] + "…"
	}
	l.err.Total++
	if len(l.err.Problems) < l.max {
		l.err.Problems = append(l.err.Problems, p)
	}
}

// ParseUpload reads and validates an upload against the existing dataset's
// columns (nil when there is no dataset yet). A refused file gives a
// *ValidationError; other errors are read failures.
func ParseUpload(ctx context.Context, r io.Reader, existingColumns []string, opts Options) (*Upload, error) {
	problems := &problemList{max: cmp.Or(opts.MaxProblems, DefaultMaxProblems)}
	if opts.MaxProblems < 0 {
		problems.max = 0
	}
	rr := newRecordReader(r)
	var syn *syntaxError
	err := rr.next()
	switch {
	case errors.Is(err, io.EOF):
		problems.add(Problem{Reason: "empty file"})
		return nil, &problems.err
	case errors.As(err, &syn):
		problems.add(Problem{Line: syn.line, Reason: "header: " + syn.err.Error()})
		return nil, &problems.err
	case err != nil:
		return nil, fmt.Errorf("read upload header: %w", err)
	}
	header := make([]string, len(rr.fields))
	for i, f := range rr.fields {
		header[i] = string(f)
	}
	limits := opts.Limits.resolved()
	hm, headerProblems := matchHeader(header, existingColumns, rr.start)
	if len(headerProblems) == 0 {
		headerProblems = limits.checkColumns(hm, rr.start)
	}
	headerProblems = append(limits.checkHeader(header, rr.start), headerProblems...)
	if len(headerProblems) > 0 {
		for _, p := range headerProblems {
			problems.add(p)
		}
		return nil, &problems.err
	}

	up := &Upload{Columns: hm.columns, NewColumns: hm.newColumns, limits: limits, maxProblems: problems.max}
	di, pi, si := hm.required[0], hm.required[1], hm.required[2]
	out := make([][]byte, len(hm.columns))
	var (
		first, last Day
		rows        arena
		scratch     []byte
		sized       int // bytes of the rows so far, to size the rows from SizeHint
	)
	for {
		if up.DataRows%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("parse upload: %w", err)
			}
		}
		err := rr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.As(err, &syn) {
			up.DataRows++
			problems.add(Problem{Line: syn.line, Reason: "malformed CSV: " + syn.err.Error()})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read upload line %d: %w", rr.line, err)
		}
		up.DataRows++
		if len(rr.fields) != len(header) {
			problems.add(Problem{Line: rr.start, Reason: fmt.Sprintf("expected %d fields, got %d", len(header), len(rr.fields))})
			continue
		}
		bad := problems.err.Total
		for i, f := range rr.fields {
			if reason := limits.fieldTooLong(f); reason != "" {
				problems.add(Problem{Line: rr.start, Column: header[i], Value: string(f), Reason: reason})
			}
		}
		dateAt, date := required(rr.fields, di, hm.fallback[0])
		day, reason := parseDate(date)
		if reason == "" {
			reason = limits.dateTooEarly(day)
		}
		if reason != "" {
			problems.add(Problem{Line: rr.start, Column: header[dateAt], Value: string(rr.fields[dateAt]), Reason: reason})
		}
		productAt, product := required(rr.fields, pi, hm.fallback[1])
		if len(product) == 0 {
			problems.add(Problem{Line: rr.start, Column: header[productAt], Value: string(rr.fields[productAt]), Reason: "empty product_id"})
		}
		salesAt, salesText := required(rr.fields, si, hm.fallback[2])
		sales, reason := parseSales(salesText)
		if reason != "" {
			problems.add(Problem{Line: rr.start, Column: header[salesAt], Value: string(rr.fields[salesAt]), Reason: reason})
		}
		if problems.err.Total > bad {
			continue
		}
		for i, f := range rr.fields {
			out[hm.target[i]] = f
		}
		out[hm.target[di]] = date[:10]
		out[hm.target[pi]] = product
		out[hm.target[si]] = stringBytes(sales)
		scratch = appendRecord(scratch[:0], out)
		if sized += len(scratch); len(up.rows) == sizingRows && opts.SizeHint > 0 {
			up.rows = slices.Grow(up.rows, int(opts.SizeHint*sizingRows/int64(sized))*11/10)
		}
		up.rows = append(up.rows, row{
			date:    bytesString(rows.copy(date[:10])),
			product: bytesString(rows.copy(product)),
			line:    rows.copy(scratch),
			at:      rr.start,
		})
		if len(up.rows) == 1 || day < first {
			first = day
		}
		if len(up.rows) == 1 || day > last {
			last = day
		}
	}
	if problems.err.Total > 0 {
		return nil, &problems.err
	}
	if up.DataRows == 0 {
		problems.add(Problem{Reason: "no data rows"})
		return nil, &problems.err
	}
	up.rows = sortKeepLast(up.rows)
	up.Duplicates = up.DataRows - len(up.rows)
	up.FirstDate, up.LastDate = first.Time(), last.Time()
	return up, nil
}

// required returns the trimmed value of a required column in a record, and the column it came
// from: the column matched to it, or when that one is empty the first of its fallbacks that is
// not (the matched column when all are empty).
func required(fields [][]byte, at int, fallback []int) (int, []byte) {
	value := bytes.TrimSpace(fields[at])
	for _, i := range fallback {
		if len(value) > 0 {
			break
		}
		if v := bytes.TrimSpace(fields[i]); len(v) > 0 {
			at, value = i, v
		}
	}
	return at, value
}

// sortKeepLast sorts rows by key, keeping only the last of rows with equal keys.
func sortKeepLast(rows []row) []row {
	slices.SortStableFunc(rows, compareRows)
	out := rows[:0]
	for i, r := range rows {
		if i+1 < len(rows) && compareRows(r, rows[i+1]) == 0 {
			continue
		}
		out = append(out, r)
	}
	return out
}
