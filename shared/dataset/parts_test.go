package dataset

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestSplitRoutesRowsIntoSortedParts(t *testing.T) {
	up := parse(t, "date,product_id,sales\n2024-04-01,B,1\n2024-01-02,A,2\n2024-01-01,B,3\n2024-04-01,A,4\n2024-01-01,B,5\n", []string{"date", "product_id", "sales"})
	parts := Split(up, func(date, product string) string { return product + "/" + date[:7] })
	if got := slices.Sorted(maps.Keys(parts)); !slices.Equal(got, []string{"A/2024-01", "A/2024-04", "B/2024-01", "B/2024-04"}) {
		t.Fatalf("parts %v", got)
	}
	b := parts["B/2024-01"]
	if b.Rows() != 1 || b.DataRows != 1 || !b.FirstDate.Equal(day("2024-01-01")) || !slices.Equal(b.Columns, up.Columns) {
		t.Errorf("part B/2024-01: %d rows, first %v, columns %v", b.Rows(), b.FirstDate, b.Columns)
	}
	out, st := mergeBoth(t, []byte("date,product_id,sales\n2023-12-31,B,0\n2024-01-01,B,9\n"), b)
	if out != "date,product_id,sales\n2023-12-31,B,0\n2024-01-01,B,5\n" || st.Replaced != 1 || st.Products != 1 || st.First != "2023-12-31" || st.Last != "2024-01-01" {
		t.Errorf("merged %q, %+v: want the last of the duplicates", out, st)
	}
	// A part's horizon is the whole upload's: not checked against the part it merges into.
	far := parse(t, "date,product_id,sales\n2030-01-01,A,1\n", []string{"date", "product_id", "sales"})
	far.limits.Today = day("2024-01-01")
	if err := far.CheckHorizon("2024-01-01"); err == nil {
		t.Error("a date six years ahead passed the horizon")
	}
	for _, part := range Split(far, func(string, string) int { return 0 }) {
		if _, err := mergeOnce(part, "date,product_id,sales\n2024-01-01,A,1\n"); err != nil {
			t.Errorf("a part refused at its merge: %v", err)
		}
	}
}

func mergeOnce(up *Upload, dataset string) (string, error) {
	var out bytes.Buffer
	src, err := Open(strings.NewReader(dataset))
	if err != nil {
		return "", err
	}
	_, err = Merge(context.Background(), src, up, &out)
	return out.String(), err
}

func TestEmptyPartRewritesWithTheNewColumns(t *testing.T) {
	existing := []string{"date", "product_id", "sales"}
	up := parse(t, "date,product_id,sales,promo\n2024-01-01,A,1,y\n", existing)
	out, st := mergeBoth(t, []byte("date,product_id,sales\n2023-01-01,Z,3\n"), up.Empty())
	if out != "date,product_id,sales,promo\n2023-01-01,Z,3,\n" || st.Inserted != 0 || st.RowsAfter != 1 {
		t.Errorf("merged %q, %+v", out, st)
	}
}

func TestMergeIntoFallsBackForAnUnsortedPart(t *testing.T) {
	part := "date,product_id,sales\n2024-01-02,B,2\n2024-01-01,A,1\n"
	up := parse(t, "date,product_id,sales\n2024-01-03,C,3\n", []string{"date", "product_id", "sales"})
	opens := 0
	open := func(context.Context) (io.ReadCloser, error) {
		opens++
		return io.NopCloser(strings.NewReader(part)), nil
	}
	var out bytes.Buffer
	stats, reordered, err := MergeInto(context.Background(), open, up, func(produce func(io.Writer) (Stats, error)) (Stats, error) {
		out.Reset()
		return produce(&out)
	})
	if err != nil || !reordered || opens != 2 || stats.RowsAfter != 3 || out.String() != "date,product_id,sales\n2024-01-01,A,1\n2024-01-02,B,2\n2024-01-03,C,3\n" {
		t.Errorf("MergeInto: %q, %+v, reordered %v, %d opens, %v", out.String(), stats, reordered, opens, err)
	}
}

// spreadInto spreads dataset into buffers named span/part.
func spreadInto(dataset string, fail string) (map[string]*bytes.Buffer, []SpreadPart, []string, error) {
	parts := map[string]*bytes.Buffer{}
	var ended []string
	spread, err := Spread(context.Background(), strings.NewReader(dataset),
		func(date string) string { return date[:7] },
		func(product string) int { return int(product[0]-'A') % 2 },
		func(span string, k int) (io.Writer, error) {
			name := fmt.Sprintf("%s/%d", span, k)
			if name == fail {
				return nil, errors.New("no room")
			}
			parts[name] = &bytes.Buffer{}
			return parts[name], nil
		},
		func(span string, k int, err error) error {
			ended = append(ended, fmt.Sprintf("%s/%d:%v", span, k, err != nil))
			return nil
		})
	return parts, spread, ended, err
}

func TestSpreadWritesEachSpansParts(t *testing.T) {
	dataset := "date,product_id,sales,note\n2024-01-01,A,1,x\n2024-01-01,B,2,\"a,b\"\n2024-01-31,C,3,\n2024-02-01,A,4,\n"
	parts, spread, ended, err := spreadInto(dataset, "")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"2024-01/0": "date,product_id,sales,note\n2024-01-01,A,1,x\n2024-01-31,C,3,\n",
		"2024-01/1": "date,product_id,sales,note\n2024-01-01,B,2,\"a,b\"\n",
		"2024-02/0": "date,product_id,sales,note\n2024-02-01,A,4,\n",
	}
	if len(parts) != len(want) {
		t.Errorf("parts %v", slices.Sorted(maps.Keys(parts)))
	}
	for name, body := range want {
		if parts[name] == nil || parts[name].String() != body {
			t.Errorf("part %s = %q, want %q", name, parts[name], body)
		}
	}
	if len(ended) != 3 || len(spread) != 3 {
		t.Errorf("ended %v, spread %+v", ended, spread)
	}
	for _, p := range spread {
		if p.Span == "2024-01" && p.Part == 0 && (p.Stats.RowsAfter != 2 || p.Stats.Products != 2 || p.Stats.First != "2024-01-01" || p.Stats.Last != "2024-01-31") {
			t.Errorf("part 2024-01/0: %+v", p.Stats)
		}
	}

	// A part that cannot be opened ends every part open with the error.
	if _, _, ended, err := spreadInto(dataset, "2024-01/1"); err == nil || !slices.Equal(ended, []string{"2024-01/0:true"}) {
		t.Errorf("a failed open: %v, ended %v", err, ended)
	}
	if _, _, _, err := spreadInto("date,product_id,sales\n2024-02-01,A,1\n2024-01-01,A,2\n", ""); !errors.Is(err, ErrNotCanonical) {
		t.Errorf("rows out of order: %v, want ErrNotCanonical", err)
	}
}
