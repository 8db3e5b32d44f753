package dataset

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzParseUpload feeds arbitrary bytes to ParseUpload. It must either refuse
// them with a *ValidationError whose problems are well formed, or accept them
// and produce, with both merges alike, a dataset that reads back with the
// header's field count on every row.
func FuzzParseUpload(f *testing.F) {
	addFixtureSeeds(f)
	small := readFixture(f, "small_dataset.csv")
	src, err := Open(bytes.NewReader(small))
	if err != nil {
		f.Fatal(err)
	}
	columns := src.Columns()
	f.Fuzz(func(t *testing.T, data []byte) {
		up, err := ParseUpload(context.Background(), bytes.NewReader(data), columns, Options{MaxProblems: 5})
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("non-validation error: %v", err)
			}
			if ve.Total == 0 || len(ve.Problems) == 0 || len(ve.Problems) > 5 || len(ve.Problems) > ve.Total {
				t.Fatalf("malformed report: %+v", ve)
			}
			lines := bytes.Count(data, []byte{'\n'}) + 1
			for _, p := range ve.Problems {
				if p.Line < 0 || p.Line > lines || p.Reason == "" {
					t.Fatalf("bad problem %+v (input has %d lines)", p, lines)
				}
			}
			return
		}
		out, st := mergeBoth(t, small, up)
		if st.RowsAfter != st.RowsBefore+st.Inserted || st.Inserted+st.Replaced != up.Rows() {
			t.Fatalf("inconsistent stats %+v for %d rows", st, up.Rows())
		}
		cr := csv.NewReader(strings.NewReader(out))
		cr.FieldsPerRecord = len(up.Columns)
		n := -1
		for {
			_, err := cr.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("merged output does not read back: %v\n%q", err, out)
			}
			n++
		}
		if n != st.RowsAfter {
			t.Fatalf("merged output has %d rows, stats say %d", n, st.RowsAfter)
		}
		checkCanonical(t, out)
	})
}
