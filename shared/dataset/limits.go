package dataset

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unsafe"
)

// Limits bound what one upload can do to the dataset, so that a small file cannot grow it out
// of all proportion (new columns are written on every row) or move every forecast to the year
// 2204. Each limit refuses the upload with a Problem that names it. A zero field takes its
// default (DefaultLimits); a negative count turns that limit off.
type Limits struct {
	// MaxNewColumns caps the columns one upload adds to the dataset, canonical ones not counted.
	MaxNewColumns int
	// MaxColumns caps the dataset's columns after the upload.
	MaxColumns int
	// MaxFieldBytes caps the bytes of one field, column names included.
	MaxFieldBytes int
	// MinDate is the earliest date accepted.
	MinDate time.Time
	// MaxDaysAhead is how many days a date may lie after the dataset's last date — or after
	// Today, when that is later, so that the first upload after a long pause is accepted.
	MaxDaysAhead int
	// Today is the day of the upload; zero leaves only the dataset's last date.
	Today time.Time
}

// DefaultLimits are 32 new columns per upload, 256 columns in all, 1,024 bytes per field, and
// dates from 1900-01-01 to 365 days after the later of the dataset's last date and today.
func DefaultLimits() Limits {
	return Limits{
		MaxNewColumns: 32,
		MaxColumns:    256,
		MaxFieldBytes: 1024,
		MinDate:       time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC),
		MaxDaysAhead:  365,
	}
}

// resolved returns l with defaults in its zero fields.
func (l Limits) resolved() Limits {
	def := DefaultLimits()
	if l.MaxNewColumns == 0 {
		l.MaxNewColumns = def.MaxNewColumns
	}
	if l.MaxColumns == 0 {
		l.MaxColumns = def.MaxColumns
	}
	if l.MaxFieldBytes == 0 {
		l.MaxFieldBytes = def.MaxFieldBytes
	}
	if l.MinDate.IsZero() {
		l.MinDate = def.MinDate
	}
	if l.MaxDaysAhead == 0 {
		l.MaxDaysAhead = def.MaxDaysAhead
	}
	return l
}

// fieldTooLong describes a field over MaxFieldBytes, or returns "".
func (l Limits) fieldTooLong(field []byte) string {
	if l.MaxFieldBytes < 0 || len(field) <= l.MaxFieldBytes {
		return ""
	}
	return fmt.Sprintf("the field is %d bytes; at most %d bytes are allowed", len(field), l.MaxFieldBytes)
}

// checkHeader lists the column names over MaxFieldBytes.
func (l Limits) checkHeader(header []string, line int) []Problem {
	var problems []Problem
	for _, name := range header {
		if reason := l.fieldTooLong([]byte(name)); reason != "" {
			problems = append(problems, Problem{Line: line, Column: name, Reason: "column name: " + reason})
		}
	}
	return problems
}

// checkColumns refuses a header that adds too many columns or makes the dataset too wide.
func (l Limits) checkColumns(hm headerMap, line int) []Problem {
	var added []string
	for _, col := range hm.newColumns {
		if !slices.Contains(canonicalColumns, col) {
			added = append(added, col)
		}
	}
	var problems []Problem
	if l.MaxNewColumns >= 0 && len(added) > l.MaxNewColumns {
		problems = append(problems, Problem{Line: line, Value: strings.Join(added, ","), Reason: fmt.Sprintf(
			"the upload adds %d new columns; at most %d new columns are allowed per upload", len(added), l.MaxNewColumns)})
	}
	if l.MaxColumns >= 0 && len(hm.columns) > l.MaxColumns {
		problems = append(problems, Problem{Line: line, Reason: fmt.Sprintf(
			"the dataset would have %d columns; at most %d are allowed", len(hm.columns), l.MaxColumns)})
	}
	return problems
}

// dateTooEarly describes a date before MinDate, or returns "".
func (l Limits) dateTooEarly(day Day) string {
	if earliest := DayOf(l.MinDate); day < earliest {
		return fmt.Sprintf("the date is before %s, the earliest date accepted", earliest)
	}
	return ""
}

// CheckHorizon refuses the upload's rows dated more than MaxDaysAhead days after the dataset's
// last date (datasetLast, YYYY-MM-DD, "" for an empty dataset) or Today, whichever is later.
// Merge checks it against the dataset it merges into; a caller that merges the parts of an
// upload (Split) into the parts of a dataset checks it once, on the whole, before writing any.
func (u *Upload) CheckHorizon(datasetLast string) error {
	if u.part {
		return nil // checked on the whole upload
	}
	return u.checkHorizon(datasetLast)
}

// checkHorizon is CheckHorizon of every upload, parts included. Rows are sorted by date, so only
// the last ones are looked at.
func (u *Upload) checkHorizon(datasetLast string) error {
	l := u.limits
	if l.MaxDaysAhead < 0 || len(u.rows) == 0 {
		return nil
	}
	anchor, what := DayOf(l.Today), "today"
	if l.Today.IsZero() {
		what = ""
	}
	if last, reason := parseDate([]byte(datasetLast)); datasetLast != "" && reason == "" && (what == "" || last > anchor) {
		anchor, what = last, "the dataset's last date"
	}
	if what == "" {
		return nil
	}
	bound := (anchor + Day(l.MaxDaysAhead)).String()
	var late []row
	for i := len(u.rows) - 1; i >= 0 && u.rows[i].date > bound; i-- {
		late = append(late, u.rows[i])
	}
	if len(late) == 0 {
		return nil
	}
	slices.SortFunc(late, func(a, b row) int { return a.at - b.at })
	problems := &problemList{max: u.maxProblems}
	for _, r := range late {
		problems.add(Problem{Line: r.at, Column: ColDate, Value: r.date, Reason: fmt.Sprintf(
			"the date is more than %d days after %s (%s)", l.MaxDaysAhead, anchor, what)})
	}
	return &problems.err
}

// arena holds the rows' bytes in large chunks: a million rows make a few dozen allocations
// instead of millions, and nothing moves as it fills.
type arena struct{ free []byte }

// sizingRows is how many rows ParseUpload reads before it sizes the rows from Options.SizeHint.
const sizingRows = 1024

const arenaChunk = 1 << 20

// copy returns b copied into the arena.
func (a *arena) copy(b []byte) []byte {
	if len(b) > cap(a.free)-len(a.free) {
		a.free = make([]byte, 0, max(arenaChunk, len(b)))
	}
	start := len(a.free)
	a.free = append(a.free, b...)
	return a.free[start:len(a.free):len(a.free)]
}

// stringBytes views s as bytes without copying; they must not be written to.
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
