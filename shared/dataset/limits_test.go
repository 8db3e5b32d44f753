package dataset

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// refusal parses upload against existing and returns its refusal, failing if it was accepted.
func refusal(t *testing.T, upload string, existing []string, limits Limits) *ValidationError {
	t.Helper()
	_, err := ParseUpload(context.Background(), strings.NewReader(upload), existing, Options{Limits: limits})
	var invalid *ValidationError
	if !errors.As(err, &invalid) {
		t.Fatalf("upload accepted (%v), want a refusal", err)
	}
	return invalid
}

func wideUpload(newColumns int) string {
	var header, row strings.Builder
	header.WriteString("date,product_id,sales")
	row.WriteString("2024-01-01,P1,1")
	for i := range newColumns {
		fmt.Fprintf(&header, ",extra_%d", i)
		row.WriteString(",x")
	}
	return header.String() + "\n" + row.String() + "\n"
}

func TestNewColumnsPerUploadAreBounded(t *testing.T) {
	existing := []string{"date", "product_id", "sales"}
	invalid := refusal(t, wideUpload(1000), existing, Limits{})
	if invalid.Problems[0].Line != 1 || !strings.Contains(invalid.Error(), "adds 1000 new columns; at most 32") {
		t.Errorf("1,000 new columns: %v %+v", invalid, invalid.Problems)
	}
	if !strings.HasPrefix(invalid.Problems[0].Value, "extra_0,extra_1,") {
		t.Errorf("the refusal does not name the new columns: %q", invalid.Problems[0].Value)
	}
	refusal(t, wideUpload(33), existing, Limits{})
	parse(t, wideUpload(32), existing)
	// The canonical columns are not counted: a first upload may bring all of them and 32 others.
	first := strings.Replace(wideUpload(32), "date,product_id,sales", "date,product_id,sales,category,region,price,discount,rating", 1)
	first = strings.Replace(first, "2024-01-01,P1,1", "2024-01-01,P1,1,c,r,1,0,5", 1)
	parse(t, first, nil)
	if _, err := ParseUpload(context.Background(), strings.NewReader(wideUpload(40)), existing, Options{Limits: Limits{MaxNewColumns: -1}}); err != nil {
		t.Errorf("a negative limit still refuses: %v", err)
	}
}

func TestColumnsInTheDatasetAreBounded(t *testing.T) {
	existing := []string{"date", "product_id", "sales"}
	for i := range 250 {
		existing = append(existing, fmt.Sprintf("old_%d", i))
	}
	invalid := refusal(t, wideUpload(10), existing, Limits{})
	if !strings.Contains(invalid.Error(), "the dataset would have 263 columns; at most 256") {
		t.Errorf("263 columns: %v", invalid)
	}
}

func TestBytesPerFieldAreBounded(t *testing.T) {
	long := strings.Repeat("n", 1025)
	invalid := refusal(t, "date,product_id,sales,note\n2024-01-01,P1,1,ok\n2024-01-02,P1,1,"+long+"\n", nil, Limits{})
	p := invalid.Problems[0]
	if invalid.Total != 1 || p.Line != 3 || p.Column != "note" || !strings.Contains(p.Reason, "1025 bytes; at most 1024") {
		t.Errorf("long field: %+v", invalid.Problems)
	}
	if len(p.Value) > maxValueLen+len("…") {
		t.Errorf("the report quotes %d bytes of the field", len(p.Value))
	}
	invalid = refusal(t, "date,product_id,sales,"+long+"\n2024-01-01,P1,1,x\n", nil, Limits{})
	if invalid.Problems[0].Line != 1 || !strings.Contains(invalid.Problems[0].Reason, "column name") {
		t.Errorf("long column name: %+v", invalid.Problems)
	}
	parse(t, "date,product_id,sales,note\n2024-01-01,P1,1,"+long[:1024]+"\n", nil)
}

func TestDatesBeforeTheEarliestAreRefusedByLine(t *testing.T) {
	invalid := refusal(t, "date,product_id,sales\n2024-01-01,P1,1\n0000-01-01,P1,1\n1899-12-31,P2,1\n1900-01-01,P3,1\n", nil, Limits{})
	if invalid.Total != 2 || invalid.Problems[0].Line != 3 || invalid.Problems[1].Line != 4 || !strings.Contains(invalid.Problems[1].Reason, "before 1900-01-01") {
		t.Errorf("early dates: %+v", invalid.Problems)
	}
	early := Limits{MinDate: time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := ParseUpload(context.Background(), strings.NewReader("date,product_id,sales\n1850-06-01,P1,1\n"), nil, Options{Limits: early}); err != nil {
		t.Errorf("a date after a configured MinDate: %v", err)
	}
}

// applyTo merges upload into dataset (in the order given) with Apply, and returns the result.
func applyTo(t *testing.T, dataset, upload string, limits Limits) (string, error) {
	t.Helper()
	open := func(context.Context) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(dataset)), nil }
	var out bytes.Buffer
	raw := func(context.Context) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(upload)), nil }
	_, err := Apply(context.Background(), open, raw, Options{Limits: limits}, func(produce func(io.Writer) (Stats, error)) (Stats, error) {
		return produce(&out)
	})
	return out.String(), err
}

func TestDatesFarAfterTheDatasetAreRefusedByLine(t *testing.T) {
	sorted := "date,product_id,sales\n2024-04-11,P1,5\n2024-04-12,P1,6\n"
	unsorted := "date,product_id,sales\n2024-04-12,P1,6\n2024-04-11,P1,5\n" // merged in memory
	for name, dataset := range map[string]string{"streamed": sorted, "in memory": unsorted} {
		_, err := applyTo(t, dataset, "date,product_id,sales\n2024-04-13,P1,7\n2204-04-10,P1,8\n2025-04-13,P2,1\n", Limits{})
		var invalid *ValidationError
		if !errors.As(err, &invalid) {
			t.Fatalf("%s: a date in 2204 was merged (%v)", name, err)
		}
		if invalid.Total != 2 || invalid.Problems[0].Line != 3 || invalid.Problems[0].Value != "2204-04-10" || invalid.Problems[1].Line != 4 ||
			!strings.Contains(invalid.Problems[0].Reason, "more than 365 days after 2024-04-12 (the dataset's last date)") {
			t.Errorf("%s: %+v", name, invalid.Problems)
		}
		if _, err := applyTo(t, dataset, "date,product_id,sales\n2025-04-12,P1,7\n", Limits{}); err != nil {
			t.Errorf("%s: a date 365 days after the last one: %v", name, err)
		}
	}
	// After a long pause, dates up to a year after today are accepted.
	today := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if _, err := applyTo(t, sorted, "date,product_id,sales\n2026-12-01,P1,7\n", Limits{Today: today}); err != nil {
		t.Errorf("today's sales after a pause: %v", err)
	}
	_, err := applyTo(t, sorted, "date,product_id,sales\n2028-01-01,P1,7\n", Limits{Today: today})
	if err == nil || !strings.Contains(err.Error(), "after 2026-12-01 (today)") {
		t.Errorf("a date more than a year after today: %v", err)
	}
	// The first upload is bounded by today only.
	if _, err := applyTo(t, "", "date,product_id,sales\n2204-04-10,P1,7\n", Limits{Today: today}); err == nil {
		t.Error("a first upload dated 2204 was accepted")
	}
	if _, err := applyTo(t, sorted, "date,product_id,sales\n2204-04-10,P1,7\n", Limits{MaxDaysAhead: -1}); err != nil {
		t.Errorf("a negative limit still refuses: %v", err)
	}
}
