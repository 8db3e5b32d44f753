package dataset

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
)

// Split routes the upload's rows into parts by key(date, product): each part holds, sorted, the
// rows whose key it is, and the upload's columns, so that it merges (MergeInto) into the part of
// a dataset kept in several objects. The parts share the upload's rows (a part keeps the indexes
// of its own: 4 bytes a row). A part's horizon is not checked at its merge: the caller checks the
// whole upload's (CheckHorizon) against the whole dataset before writing any part.
func Split[K comparable](u *Upload, key func(date, product string) K) map[K]*Upload {
	parts := map[K]*Upload{}
	for i := range u.len() {
		r, at := u.at(i), int32(i)
		if u.part {
			at = u.sel[i]
		}
		k := key(r.date, r.product)
		p := parts[k]
		if p == nil {
			p = u.Empty()
			parts[k] = p
		}
		p.sel = append(p.sel, at)
	}
	for _, p := range parts {
		p.DataRows = len(p.sel)
		p.FirstDate, p.LastDate = dayOf(p.at(0).date).Time(), dayOf(p.at(p.len()-1).date).Time()
	}
	return parts
}

// ProductIDs returns the upload's (or part's) distinct products, sorted.
func (u *Upload) ProductIDs() []string {
	seen := map[string]bool{}
	var ids []string
	for i := range u.len() {
		if p := u.at(i).product; !seen[p] {
			seen[p] = true
			ids = append(ids, p)
		}
	}
	slices.Sort(ids)
	return ids
}

// Empty returns a part of the upload without any of its rows: merged into a part of the dataset
// it rewrites that part with the upload's columns (an upload that brings a new column rewrites
// every part, so that every part keeps the dataset's header).
func (u *Upload) Empty() *Upload {
	return &Upload{Columns: u.Columns, NewColumns: u.NewColumns, limits: u.limits, maxProblems: u.maxProblems, part: true, rows: u.rows}
}

// dayOf is the day of a date the upload's validation wrote (YYYY-MM-DD).
func dayOf(date string) Day {
	day, _ := parseDate([]byte(date))
	return day
}

// SpreadPart is one part that Spread wrote: the span of dates and the part number its rows went
// to, with their count, products and dates (Rows, Products, First, Last of Stats).
type SpreadPart struct {
	Span  string
	Part  int
	Stats Stats
	// Products are the part's distinct products, sorted.
	Products []string
}

// Spread streams the dataset in r — sorted by (date, product_id) with unique keys, as Merge
// writes it — into parts: a row goes to the part numbered part(product) of the span span(date)
// names (a span holds consecutive dates: a calendar quarter, say), each part with the dataset's
// header and its rows in order. Since the rows come sorted by date, the parts of a span are done
// when the next span begins: at most one span's parts are open at once. open starts a part
// before its first row; end is called once for every part opened, with nil when the part is
// complete, or with the error that stopped Spread (the part must then be discarded). A dataset
// out of order is an error wrapping ErrNotCanonical.
func Spread(ctx context.Context, r io.Reader, span func(date string) string, part func(product string) int,
	open func(span string, k int) (io.Writer, error), end func(span string, k int, err error) error) ([]SpreadPart, error) {
	src, err := Open(r)
	if err != nil {
		return nil, err
	}
	header := appendRecord(nil, src.columns)
	type output struct {
		w    *bufio.Writer
		out  outputs
		rows int
	}
	var (
		done    []SpreadPart
		current string
		parts   = map[int]*output{}
	)
	// finish ends the parts of the current span; with a non-nil cause, as discarded.
	finish := func(cause error) error {
		var errs []error
		for k, o := range parts {
			err := cause
			if err == nil {
				if err = o.w.Flush(); err != nil {
					err = fmt.Errorf("write part %s/%d: %w", current, k, err)
				}
			}
			if endErr := end(current, k, err); endErr != nil && cause == nil {
				errs = append(errs, endErr)
				cause = endErr
			}
			if err == nil {
				st := Stats{RowsBefore: o.rows, RowsAfter: o.rows}
				o.out.into(&st)
				done = append(done, SpreadPart{Span: current, Part: k, Stats: st, Products: slices.Sorted(maps.Keys(o.out.products))})
			}
		}
		clear(parts)
		return errors.Join(errs...)
	}
	fail := func(err error) ([]SpreadPart, error) {
		finish(err)
		return nil, err
	}
	var prevDate, prevProduct, scratch []byte
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return fail(fmt.Errorf("spread: %w", err))
			}
		}
		err := src.rr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(readErr(err))
		}
		var rw row
		rw, scratch, err = src.existingRow("", scratch)
		if err != nil {
			return fail(err)
		}
		if n > 0 && compareKey(rw.date, rw.product, bytesString(prevDate), bytesString(prevProduct)) <= 0 {
			return fail(fmt.Errorf("line %d: key (%s, %s) after (%s, %s): %w", src.rr.start, rw.date, rw.product, prevDate, prevProduct, ErrNotCanonical))
		}
		prevDate, prevProduct = append(prevDate[:0], rw.date...), append(prevProduct[:0], rw.product...)
		if s := span(rw.date); n == 0 || s != current {
			if err := finish(nil); err != nil {
				return nil, err
			}
			current = s
		}
		k := part(rw.product)
		o := parts[k]
		if o == nil {
			w, err := open(current, k)
			if err != nil {
				return fail(fmt.Errorf("open part %s/%d: %w", current, k, err))
			}
			o = &output{w: bufio.NewWriterSize(w, 64<<10)}
			parts[k] = o
			if _, err := o.w.Write(header); err != nil {
				return fail(fmt.Errorf("write part %s/%d: %w", current, k, err))
			}
		}
		if _, err := o.w.Write(rw.line); err != nil {
			return fail(fmt.Errorf("write part %s/%d: %w", current, k, err))
		}
		o.out.add(rw)
		o.rows++
	}
	if err := finish(nil); err != nil {
		return nil, err
	}
	return done, nil
}
