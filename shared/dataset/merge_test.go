package dataset

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func parse(t testing.TB, upload string, existing []string) *Upload {
	t.Helper()
	up, err := ParseUpload(context.Background(), strings.NewReader(upload), existing, Options{})
	if err != nil {
		t.Fatalf("ParseUpload(%q): %v", upload, err)
	}
	return up
}

func TestMergeIntoAbsentDataset(t *testing.T) {
	up := parse(t, "Region,Date,ProductID,SALES\nN,2024-01-02,B,1\nS,2024-01-01,A,2\nN,2024-01-02,A,3\n", nil)
	for _, dataset := range [][]byte{nil, {}} {
		out, st := mergeBoth(t, dataset, up)
		want := "region,date,product_id,sales\nS,2024-01-01,A,2\nN,2024-01-02,A,3\nN,2024-01-02,B,1\n"
		if out != want {
			t.Errorf("merged = %q, want %q", out, want)
		}
		if st.RowsBefore != 0 || st.RowsAfter != 3 || st.Inserted != 3 || !slices.Equal(st.NewColumns, []string{"region", "date", "product_id", "sales"}) {
			t.Errorf("stats = %+v", st)
		}
	}
}

func TestMergeHeaderOnlyDataset(t *testing.T) {
	dataset := []byte("date,product_id,sales\r\n")
	src, _ := Open(bytes.NewReader(dataset))
	up := parse(t, "date,product_id,sales\n2024-01-01,A,1\n", src.Columns())
	out, st := mergeBoth(t, dataset, up)
	if out != "date,product_id,sales\n2024-01-01,A,1\n" || st.RowsBefore != 0 || st.Inserted != 1 {
		t.Errorf("merged %q, %+v", out, st)
	}
}

func TestMergeRewritesNonCanonicalExistingRows(t *testing.T) {
	// Quoted fields, CRLF, a date-time and padded ids in the dataset are
	// normalised by both merges alike; unquoted canonical lines pass through.
	dataset := "date,product_id,sales,note\r\n" +
		"2024-01-01, A ,1,\"x,y\"\r\n" +
		"2024-01-01T10:00:00Z,B,2, keep \r\n" +
		"2024-01-02,A,3,\"two\nlines\"\r\n" +
		"2024-01-03,A,04.0,plain\n"
	up := parse(t, "date,product_id,sales\n2024-01-02,B,9\n", []string{"date", "product_id", "sales", "note"})
	out, st := mergeBoth(t, []byte(dataset), up)
	want := "date,product_id,sales,note\n" +
		"2024-01-01,A,1,\"x,y\"\n" +
		"2024-01-01,B,2, keep \n" +
		"2024-01-02,A,3,\"two\nlines\"\n" +
		"2024-01-02,B,9,\n" +
		"2024-01-03,A,04.0,plain\n"
	if out != want || st.RowsBefore != 4 || st.Inserted != 1 {
		t.Errorf("merged %q, %+v\nwant %q", out, st, want)
	}
}

func TestMergeNotCanonicalFallsBack(t *testing.T) {
	tests := map[string]struct {
		dataset, want string
		line          int
	}{
		"unsorted dates": {
			dataset: "date,product_id,sales\n2024-01-02,A,1\n2024-01-01,A,2\n",
			want:    "date,product_id,sales\n2024-01-01,A,2\n2024-01-02,A,1\n2024-01-03,A,9\n", line: 3},
		"unsorted products": {
			dataset: "date,product_id,sales\n2024-01-01,B,1\n2024-01-01,A,2\n",
			want:    "date,product_id,sales\n2024-01-01,A,2\n2024-01-01,B,1\n2024-01-03,A,9\n", line: 3},
		"repeated key keeps the last": {
			dataset: "date,product_id,sales\n2024-01-01,A,1\n2024-01-01T05:00,A,2\n",
			want:    "date,product_id,sales\n2024-01-01,A,2\n2024-01-03,A,9\n", line: 3},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			up := parse(t, "date,product_id,sales\n2024-01-03,A,9\n", []string{"date", "product_id", "sales"})
			src, _ := Open(strings.NewReader(tt.dataset))
			_, err := Merge(context.Background(), src, up, io.Discard)
			if !errors.Is(err, ErrNotCanonical) || !strings.Contains(err.Error(), fmt.Sprintf("line %d:", tt.line)) {
				t.Fatalf("Merge error = %v, want ErrNotCanonical naming line %d", err, tt.line)
			}
			src, _ = Open(strings.NewReader(tt.dataset))
			var buf bytes.Buffer
			st, err := MergeInMemory(context.Background(), src, up, &buf)
			if err != nil || buf.String() != tt.want {
				t.Fatalf("MergeInMemory = %q, %v; want %q", buf.String(), err, tt.want)
			}
			if st.RowsAfter != strings.Count(tt.want, "\n")-1 || st.Inserted != 1 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

func TestMergeInvalidDataset(t *testing.T) {
	for name, dataset := range map[string]string{
		"missing required column": "date,product_id\n2024-01-01,A\n",
		"wrong field count":       "date,product_id,sales\n2024-01-01,A\n",
		"bad date":                "date,product_id,sales\n2024-13-01,A,1\n",
		"empty product":           "date,product_id,sales\n2024-01-01, ,1\n",
		"malformed quote":         "date,product_id,sales\n2024-01-01,\"A,1\n",
		"malformed header":        "date,\"product_id,sales\n",
	} {
		t.Run(name, func(t *testing.T) {
			for _, merge := range []func(context.Context, *Source, *Upload, io.Writer) (Stats, error){Merge, MergeInMemory} {
				src, err := Open(strings.NewReader(dataset))
				if err == nil {
					up := parse(t, "date,product_id,sales\n2024-01-03,A,9\n", src.Columns())
					_, err = merge(context.Background(), src, up, io.Discard)
				}
				if !errors.Is(err, ErrInvalidDataset) {
					t.Errorf("error = %v, want ErrInvalidDataset", err)
				}
			}
		})
	}
}

func TestMergeMisuse(t *testing.T) {
	dataset := "date,product_id,sales\n2024-01-01,A,1\n"
	src, _ := Open(strings.NewReader(dataset))
	other := parse(t, "date,product_id,sales\n2024-01-03,A,9\n", []string{"date", "sales", "product_id"})
	if _, err := Merge(context.Background(), src, other, io.Discard); err == nil {
		t.Error("Merge accepted an upload parsed against other columns")
	}
	src, _ = Open(strings.NewReader(dataset))
	up := parse(t, "date,product_id,sales\n2024-01-03,A,9\n", src.Columns())
	if _, err := Merge(context.Background(), src, up, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := MergeInMemory(context.Background(), src, up, io.Discard); err == nil {
		t.Error("a source was merged twice")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	src, _ = Open(strings.NewReader(dataset))
	if _, err := Merge(ctx, src, up, io.Discard); !errors.Is(err, context.Canceled) {
		t.Errorf("Merge with cancelled context: %v", err)
	}
	boom := errors.New("boom")
	src, _ = Open(strings.NewReader(dataset))
	if _, err := Merge(context.Background(), src, up, failingWriter{boom}); !errors.Is(err, boom) {
		t.Errorf("Merge to failing writer: %v", err)
	}
}

type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }

func TestValidationErrorReport(t *testing.T) {
	_, err := ParseUpload(context.Background(), strings.NewReader("date,product_id,sales\n2024-01-01,A,x\n2024-01-02,,1\nbad,B,2\n"), nil, Options{MaxProblems: 2})
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	b, _ := json.Marshal(ve)
	want := `{"problems":[{"line":2,"column":"sales","value":"x","reason":"sales is not a number"},` +
		`{"line":3,"column":"product_id","value":"","reason":"empty product_id"}],"total":3}`
	if string(b) != want {
		t.Errorf("JSON = %s\nwant %s", b, want)
	}
	if msg := err.Error(); msg != `upload refused: 3 problems, first: line 2: column "sales": value "x": sales is not a number` {
		t.Errorf("Error() = %q", msg)
	}
	_, err = ParseUpload(context.Background(), strings.NewReader("date,product_id\n"), nil, Options{})
	if err == nil || err.Error() != `upload refused: line 1: column "sales": required column missing` {
		t.Errorf("missing column error = %v", err)
	}
	_, err = ParseUpload(context.Background(), strings.NewReader("date,product_id,sales\n2024-01-01,A,"+strings.Repeat("9", 500)+"x\n"), nil, Options{})
	if !errors.As(err, &ve) || len(ve.Problems[0].Value) > maxValueLen+len("…") {
		t.Errorf("long value not capped: %v", err)
	}
}

func TestParseUploadReadErrors(t *testing.T) {
	boom := errors.New("boom")
	for _, r := range []io.Reader{
		iotest.ErrReader(boom),
		io.MultiReader(strings.NewReader("date,product_id,sales\n2024-01-01,A,1\n"), iotest.ErrReader(boom)),
	} {
		_, err := ParseUpload(context.Background(), r, nil, Options{})
		var ve *ValidationError
		if !errors.Is(err, boom) || errors.As(err, &ve) {
			t.Errorf("read failure gave %v, want a wrapped read error", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ParseUpload(ctx, strings.NewReader("date,product_id,sales\n2024-01-01,A,1\n"), nil, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context gave %v", err)
	}
}

// randomDataset draws a dataset and an upload over a small key space so that
// replacements, insertions and duplicates are frequent, with values that
// need quoting and an upload header that differs from the dataset's.
type randomCase struct {
	dataset []byte
	upload  []byte
	columns []string // dataset columns
	// model of the expected merge, independent of the package's code
	want [][]string
}

func drawValue(r *rand.Rand) string {
	return []string{"", "x", "a,b", `q"t`, "two\nlines", " lead", "Électro", "1.5"}[r.IntN(8)]
}

func drawCase(r *rand.Rand) randomCase {
	columns := []string{"date", "product_id", "sales"}
	extra := []string{"category", "note", "rating"}
	r.Shuffle(len(extra), func(i, j int) { extra[i], extra[j] = extra[j], extra[i] })
	columns = append(columns, extra[:r.IntN(3)]...)
	r.Shuffle(len(columns), func(i, j int) { columns[i], columns[j] = columns[j], columns[i] })
	key := func() (string, string) {
		return fmt.Sprintf("2024-01-%02d", 1+r.IntN(6)), fmt.Sprintf("P%d", r.IntN(5))
	}
	model := map[[2]string][]string{}

	// The dataset: unique keys, sorted, written by encoding/csv (CRLF or not).
	var db bytes.Buffer
	cw := csv.NewWriter(&db)
	cw.UseCRLF = r.IntN(2) == 0
	cw.Write(columns)
	for range r.IntN(25) {
		d, p := key()
		model[[2]string{d, p}] = nil
	}
	keys := slices.SortedFunc(func(yield func([2]string) bool) {
		for k := range model {
			if !yield(k) {
				return
			}
		}
	}, func(a, b [2]string) int { return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1])) })
	for _, k := range keys {
		rec := make([]string, len(columns))
		for i, c := range columns {
			switch c {
			case "date":
				rec[i] = k[0]
			case "product_id":
				rec[i] = k[1]
			case "sales":
				rec[i] = fmt.Sprint(r.IntN(100))
			default:
				rec[i] = drawValue(r)
			}
		}
		cw.Write(rec)
		model[k] = rec
	}
	cw.Flush()

	// The upload: a subset of the dataset's columns, maybe a new one, in any
	// order, required names sometimes capitalised.
	var upCols []string
	for _, c := range columns {
		if slices.Contains(RequiredColumns(), c) || r.IntN(2) == 0 {
			upCols = append(upCols, c)
		}
	}
	newCols := []string{}
	if r.IntN(2) == 0 {
		upCols = append(upCols, "fresh")
		newCols = append(newCols, "fresh")
	}
	r.Shuffle(len(upCols), func(i, j int) { upCols[i], upCols[j] = upCols[j], upCols[i] })
	header := slices.Clone(upCols)
	for i, c := range header {
		if r.IntN(3) == 0 && slices.Contains(RequiredColumns(), c) {
			header[i] = strings.ToUpper(c)
		}
	}
	all := append(slices.Clone(columns), newCols...)
	for k, rec := range model {
		model[k] = append(rec, make([]string, len(newCols))...)
	}
	var ub bytes.Buffer
	uw := csv.NewWriter(&ub)
	uw.UseCRLF = r.IntN(2) == 0
	uw.Write(header)
	for range 1 + r.IntN(15) {
		d, p := key()
		rec := make([]string, len(upCols))
		out := make([]string, len(all))
		for i, c := range upCols {
			switch c {
			case "date":
				rec[i] = d
				if r.IntN(4) == 0 {
					rec[i] = d + "T12:00:00Z"
				}
			case "product_id":
				rec[i] = p
			case "sales":
				rec[i] = fmt.Sprint(r.IntN(100))
			default:
				rec[i] = drawValue(r)
			}
			out[slices.Index(all, c)] = rec[i]
		}
		out[slices.Index(all, "date")] = d
		uw.Write(rec)
		model[[2]string{d, p}] = out
	}
	uw.Flush()

	rc := randomCase{dataset: db.Bytes(), upload: ub.Bytes(), columns: columns}
	rc.want = append(rc.want, all)
	for _, k := range slices.SortedFunc(func(yield func([2]string) bool) {
		for k := range model {
			if !yield(k) {
				return
			}
		}
	}, func(a, b [2]string) int { return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1])) }) {
		rc.want = append(rc.want, model[k])
	}
	return rc
}

// TestMergeProperty checks the streaming merge against MergeInMemory (byte
// for byte) and both against an independent model of the contract.
func TestMergeProperty(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 300
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		rc := drawCase(r)
		src, err := Open(bytes.NewReader(rc.dataset))
		if err != nil {
			t.Fatalf("case %d: Open: %v", i, err)
		}
		up, err := ParseUpload(context.Background(), bytes.NewReader(rc.upload), src.Columns(), Options{})
		if err != nil {
			t.Fatalf("case %d: ParseUpload(%q): %v", i, rc.upload, err)
		}
		out, _ := mergeBoth(t, rc.dataset, up)
		got, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || !slices.EqualFunc(got, rc.want, slices.Equal) {
			t.Fatalf("case %d: dataset %q + upload %q\n got %q\nwant %q", i, rc.dataset, rc.upload, got, rc.want)
		}
	}
}
