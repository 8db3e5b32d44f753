package dataset

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const testdata = "../../testdata"

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mergeBoth merges upload into dataset with both merges, checks they agree,
// and returns the merged bytes and stats.
func mergeBoth(t testing.TB, dataset []byte, up *Upload) (string, Stats) {
	t.Helper()
	open := func() *Source {
		var r *bytes.Reader
		if dataset != nil {
			r = bytes.NewReader(dataset)
		}
		var src *Source
		var err error
		if r == nil {
			src, err = Open(nil)
		} else {
			src, err = Open(r)
		}
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return src
	}
	var streamed, naive bytes.Buffer
	st1, err := Merge(context.Background(), open(), up, &streamed)
	if err != nil {
		t.Fatalf("Merge: %v", err)
	}
	st2, err := MergeInMemory(context.Background(), open(), up, &naive)
	if err != nil {
		t.Fatalf("MergeInMemory: %v", err)
	}
	if streamed.String() != naive.String() {
		t.Fatalf("Merge and MergeInMemory differ:\n%s\n----\n%s", streamed.String(), naive.String())
	}
	if !statsEqual(st1, st2) {
		t.Fatalf("stats differ: %+v vs %+v", st1, st2)
	}
	return streamed.String(), st1
}

func statsEqual(a, b Stats) bool {
	return a.RowsBefore == b.RowsBefore && a.RowsAfter == b.RowsAfter && a.Inserted == b.Inserted &&
		a.Replaced == b.Replaced && slices.Equal(a.Columns, b.Columns) && slices.Equal(a.NewColumns, b.NewColumns) &&
		a.FirstDate.Equal(b.FirstDate) && a.LastDate.Equal(b.LastDate) && a.Products == b.Products && a.First == b.First && a.Last == b.Last
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestUploadFixtures runs every file in testdata/uploads against
// testdata/small_dataset.csv with the outcome testdata/README.md states.
func TestUploadFixtures(t *testing.T) {
	const smallHeader = "date,product_id,sales,category,region,price,discount"
	small := readFixture(t, "small_dataset.csv")
	src, err := Open(bytes.NewReader(small))
	if err != nil {
		t.Fatal(err)
	}
	columns := src.Columns()

	type accepted struct {
		header             string
		newColumns         []string
		inserted, replaced int
		duplicates         int
		first, last        string
		contains, absent   []string
	}
	okCases := map[string]accepted{
		"ok_next_days.csv": {header: smallHeader, inserted: 8, first: "2024-03-01", last: "2024-03-02",
			contains: []string{"2024-03-02,P0004,139,Home,South,169.04,0\n"}},
		"ok_capitalised_headers.csv": {header: smallHeader, inserted: 2, first: "2024-03-01", last: "2024-03-01",
			contains: []string{"2024-03-01,P0001,9,Home,East,231.94,0\n", "2024-03-01,P0002,85,Electronics,North,171.42,0\n"}},
		"ok_reordered_columns.csv": {header: smallHeader, inserted: 2, first: "2024-03-01", last: "2024-03-01",
			contains: []string{"2024-03-01,P0001,9,Home,East,231.94,0\n", "2024-03-01,P0002,85,Electronics,North,171.42,0\n"}},
		"ok_extra_column.csv": {header: smallHeader + ",store_id,promo code", newColumns: []string{"store_id", "promo code"},
			inserted: 2, first: "2024-03-01", last: "2024-03-01",
			contains: []string{"2024-03-01,P0001,9,Home,East,231.94,0,S01,SPRING\n", "2024-03-01,P0002,85,Electronics,North,171.42,0,S02,\n",
				"\n2024-01-01,P0001,13,Home,East,227.95,0,,\n", "2024-02-29,P0004,105,Home,South,169.13,0,,\n"}},
		"ok_new_optional_column.csv": {header: smallHeader + ",rating", newColumns: []string{"rating"},
			inserted: 2, first: "2024-03-01", last: "2024-03-01",
			contains: []string{"2024-03-01,P0001,9,,,,,4.6\n", "2024-02-29,P0004,105,Home,South,169.13,0,\n"}},
		"ok_required_only.csv": {header: smallHeader, inserted: 2, first: "2024-03-01", last: "2024-03-01",
			contains: []string{"2024-03-01,P0003,66,,,,\n", "2024-03-01,P0004,129,,,,\n"}},
		"ok_datetime_dates.csv": {header: smallHeader, inserted: 4, first: "2024-03-01", last: "2024-03-02",
			contains: []string{"2024-03-01,P0001,9,,,,\n", "2024-03-01,P0002,85,,,,\n", "2024-03-01,P0003,66,,,,\n", "2024-03-02,P0004,139,,,,\n"}},
		"ok_duplicates.csv": {header: smallHeader, inserted: 1, replaced: 2, duplicates: 2, first: "2024-02-28", last: "2024-03-01",
			contains: []string{"2024-03-01,P0001,3,Home,East,231.94,0\n", "2024-02-29,P0002,80,Electronics,North,164.77,0\n", "2024-02-28,P0003,40,Groceries,West,18.95,0\n"},
			absent:   []string{"2024-03-01,P0001,1,", "2024-03-01,P0001,2,", "2024-02-29,P0002,79,", "2024-02-28,P0003,39,"}},
		"ok_bom_crlf.csv": {header: smallHeader, inserted: 2, first: "2024-03-01", last: "2024-03-01",
			contains: []string{"\n2024-03-01,P0002,85,Electronics,North,171.42,0\n"}, absent: []string{"\r", "\uFEFF"}},
		"ok_quoted_fields.csv": {header: smallHeader + ",note", newColumns: []string{"note"}, inserted: 3, first: "2024-03-01", last: "2024-03-01",
			contains: []string{"2024-03-01,P0001,9,\"Home, Garden\",East,231.94,0,\"multi-line\nnote with \"\"quotes\"\"\"\n",
				"2024-03-01,P0002,85,Electronics,North,171.42,0,plain\n", "2024-03-01,P0003,66,Groceries,West,19.24,0,\"a,b\"\n"}},
		"ok_new_product.csv": {header: smallHeader, inserted: 3, first: "2024-02-28", last: "2024-03-01",
			contains: []string{"2024-02-28,P0004,100,Home,South,172.20,0\n2024-02-28,P0005,12,Toys,North,19.99,10\n2024-02-29,P0001,"}},
		"ok_sales_formats.csv": {header: smallHeader, inserted: 5, first: "2024-03-01", last: "2024-03-02",
			contains: []string{"2024-03-01,P0001,9,,,,\n", "2024-03-01,P0002,85.50,,,,\n", "2024-03-01,P0003,100,,,,\n", "2024-03-01,P0004,-3,,,,\n", "2024-03-02,P0001,7,,,,\n"}},
		"ok_prototype_both_ids.csv": {header: smallHeader + ",ProductID", newColumns: []string{"ProductID"}, inserted: 4, first: "2024-03-01", last: "2024-03-01",
			contains: []string{"2024-03-01,P0001,10,Home,,,,\n", "2024-03-01,P0002,11,Electronics,,,,P0002\n", "2024-03-01,P0003,12,Groceries,,,,P0003\n",
				"2024-03-01,P0004,13,Home,,,,P0004-OLD\n"}},
		"ok_quoted_header.csv": {header: smallHeader, inserted: 1, first: "2024-03-01", last: "2024-03-01",
			contains: []string{"2024-03-01,P0001,5,,,,\n"}},
	}
	badCases := map[string]struct {
		total    int
		problems []Problem // the first problems, in order
	}{
		"empty.csv":       {1, []Problem{{Reason: "empty file"}}},
		"blank_only.csv":  {1, []Problem{{Reason: "empty file"}}},
		"header_only.csv": {1, []Problem{{Reason: "no data rows"}}},
		"bad_date.csv": {4, []Problem{
			{3, "date", "03/01/2024", "not an ISO date (YYYY-MM-DD)"},
			{4, "date", "2024-02-30", "no such calendar date"},
			{5, "date", "", "empty date"},
			{6, "date", "2024-03-01T25:00", "not an ISO date or date-time"},
		}},
		"bad_sales.csv": {5, []Problem{
			{2, "sales", "abc", "sales is not a number"},
			{3, "sales", "", "empty sales"},
			{4, "sales", "NaN", "sales is not finite"},
			{5, "sales", "Inf", "sales is not finite"},
			{6, "sales", "1e999", "sales out of range"},
		}},
		"bad_product_id.csv": {2, []Problem{
			{2, "product_id", "", "empty product_id"},
			{3, "product_id", "   ", "empty product_id"},
		}},
		"bad_field_count.csv": {2, []Problem{
			{2, "", "", "expected 4 fields, got 3"},
			{3, "", "", "expected 4 fields, got 5"},
		}},
		"bad_mixed_after_multiline.csv": {4, []Problem{
			{5, "product_id", "", "empty product_id"},
			{6, "date", "not-a-date", "not an ISO date (YYYY-MM-DD)"},
			{6, "sales", "x", "sales is not a number"},
			{7, "", "", "expected 4 fields, got 3"},
		}},
		"bad_missing_column.csv":   {1, []Problem{{1, "sales", "", "required column missing"}}},
		"bad_ambiguous_column.csv": {1, []Problem{{1, "sales", "", `ambiguous: columns "Sales", "SALES" all match required column "sales"; rename one of them to "sales"`}}},
		"bad_unterminated_quote.csv": {1, []Problem{
			{2, "", "", `malformed CSV: extraneous or missing " in quoted-field`},
		}},
		"bad_number_formats.csv": {5, []Problem{
			{2, "sales", "1_000", "sales is not a number"},
			{3, "sales", "0x10", "sales is not a number"},
			{4, "sales", "0x1p4", "sales is not a number"},
			{5, "sales", "١٢", "sales is not a number"},
			{6, "sales", "7;DROP TABLE", "sales is not a number"},
		}},
		"bad_nul_header.csv": {1, []Problem{{1, "no\x00te", "", "column name holds a NUL byte"}}},
		"bad_many_rows.csv":  {150, []Problem{{2, "sales", "lots", "sales is not a number"}}},
	}

	entries, err := os.ReadDir(filepath.Join(testdata, "uploads"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(okCases)+len(badCases) {
		t.Errorf("%d fixture files, %d cases: every fixture needs an expected outcome", len(entries), len(okCases)+len(badCases))
	}
	for _, e := range entries {
		name := e.Name()
		t.Run(name, func(t *testing.T) {
			data := readFixture(t, filepath.Join("uploads", name))
			up, err := ParseUpload(context.Background(), bytes.NewReader(data), columns, Options{})
			if want, ok := okCases[name]; ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				out, st := mergeBoth(t, small, up)
				if got := out[:strings.IndexByte(out, '\n')]; got != want.header {
					t.Errorf("header = %q, want %q", got, want.header)
				}
				if !slices.Equal(st.NewColumns, want.newColumns) {
					t.Errorf("new columns = %q, want %q", st.NewColumns, want.newColumns)
				}
				if st.Inserted != want.inserted || st.Replaced != want.replaced || up.Duplicates != want.duplicates ||
					st.RowsBefore != 240 || st.RowsAfter != 240+want.inserted {
					t.Errorf("stats %+v, duplicates %d; want inserted %d replaced %d duplicates %d", st, up.Duplicates, want.inserted, want.replaced, want.duplicates)
				}
				if !st.FirstDate.Equal(day(want.first)) || !st.LastDate.Equal(day(want.last)) {
					t.Errorf("dates %v … %v, want %s … %s", st.FirstDate, st.LastDate, want.first, want.last)
				}
				for _, s := range want.contains {
					if !strings.Contains(out, s) {
						t.Errorf("merged dataset lacks %q", s)
					}
				}
				for _, s := range want.absent {
					if strings.Contains(out, s) {
						t.Errorf("merged dataset has %q", s)
					}
				}
				checkCanonical(t, out)
				return
			}
			want, ok := badCases[name]
			if !ok {
				t.Fatalf("no expected outcome for %s", name)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a *ValidationError", err)
			}
			if up != nil {
				t.Error("refused upload returned a non-nil *Upload")
			}
			if ve.Total != want.total || len(ve.Problems) != min(want.total, DefaultMaxProblems) {
				t.Errorf("total %d with %d listed, want %d", ve.Total, len(ve.Problems), want.total)
			}
			for i, p := range want.problems {
				if i >= len(ve.Problems) || ve.Problems[i] != p {
					t.Errorf("problem %d = %+v, want %+v", i, ve.Problems[min(i, len(ve.Problems)-1)], p)
				}
			}
		})
	}
}

// checkCanonical checks a merged dataset is sorted by key with unique keys
// and every row has the header's field count.
func checkCanonical(t testing.TB, data string) {
	t.Helper()
	src, err := Open(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	// Merging nothing new through the streaming path fails on any disorder.
	var prev row
	n := 0
	for {
		err := src.rr.next()
		if err != nil {
			break
		}
		r, _, err := src.existingRow("", nil)
		if err != nil {
			t.Fatalf("merged dataset: %v", err)
		}
		if !isCanonicalDate([]byte(r.date)) {
			t.Fatalf("non-canonical date %q", r.date)
		}
		if n > 0 && compareRows(prev, r) >= 0 {
			t.Fatalf("row %d (%s,%s) not after (%s,%s)", n, r.date, r.product, prev.date, prev.product)
		}
		prev = row{date: strings.Clone(r.date), product: strings.Clone(r.product)}
		n++
	}
}

func TestSampleDatasetIsCanonical(t *testing.T) {
	data := readFixture(t, "sample_dataset.csv")
	if len(data) > 2<<20 {
		t.Errorf("sample dataset is %d bytes, keep it under 2 MB", len(data))
	}
	checkCanonical(t, string(data))
	src, err := Open(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	up, err := ParseUpload(context.Background(), bytes.NewReader(readFixture(t, "new_data.csv")), src.Columns(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, st := mergeBoth(t, data, up)
	if st.Inserted != up.Rows() || st.Replaced != 0 || len(st.NewColumns) != 0 || st.RowsAfter != st.RowsBefore+75 {
		t.Errorf("new_data.csv into sample_dataset.csv: %+v", st)
	}
}
