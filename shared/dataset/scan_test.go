package dataset

import (
	"bytes"
	"encoding/csv"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestScannerMatchesEncodingCSV(t *testing.T) {
	data := readFixture(t, "sample_dataset.csv")
	s, err := NewScanner(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	num := func(v string) float64 {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	for i, rec := range recs[1:] {
		if !s.Scan() {
			t.Fatalf("Scan stopped at row %d: %v", i, s.Err())
		}
		r := s.Row()
		if r.Day.String() != rec[0] || string(r.ProductID) != rec[1] || r.Sales != num(rec[2]) ||
			string(r.Category) != rec[3] || string(r.Region) != rec[4] ||
			r.Price != num(rec[5]) || r.Discount != num(rec[6]) || r.Rating != num(rec[7]) {
			t.Fatalf("row %d = %+v, want %q", i, *r, rec)
		}
	}
	if s.Scan() || s.Err() != nil || s.Rows() != len(recs)-1 {
		t.Fatalf("after the last row: Scan true or err %v, rows %d", s.Err(), s.Rows())
	}
}

func TestScannerMissingValues(t *testing.T) {
	data := "product_id,note,date,sales,price,category\r\n" +
		"A,\"x,\ny\",2024-01-01T08:00:00Z, 5 ,,\"Home, Garden\"\r\n" +
		"\r\n" +
		"B,,2024-01-02,1.5,n/a,\r\n"
	s, err := NewScanner(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Scan() {
		t.Fatal(s.Err())
	}
	r := s.Row()
	if r.Day.String() != "2024-01-01" || string(r.ProductID) != "A" || r.Sales != 5 || string(r.Category) != "Home, Garden" ||
		r.Region != nil || !math.IsNaN(r.Price) || !math.IsNaN(r.Discount) || !math.IsNaN(r.Rating) {
		t.Errorf("row 1 = %+v", *r)
	}
	if !s.Scan() {
		t.Fatal(s.Err())
	}
	if r := s.Row(); r.Day.String() != "2024-01-02" || r.Sales != 1.5 || !math.IsNaN(r.Price) || len(r.Category) != 0 {
		t.Errorf("row 2 = %+v", *r)
	}
	if s.Scan() || s.Err() != nil {
		t.Errorf("third Scan: %v", s.Err())
	}
	if got := strings.Join(s.Columns(), ","); got != "product_id,note,date,sales,price,category" {
		t.Errorf("columns %q", got)
	}
}

func TestScannerEmptyAndInvalid(t *testing.T) {
	for _, data := range []string{"", "date,product_id,sales\n"} {
		s, err := NewScanner(strings.NewReader(data))
		if err != nil || s.Scan() || s.Err() != nil {
			t.Errorf("%q: err %v, scan error %v", data, err, s.Err())
		}
	}
	if s, err := NewScanner(nil); err != nil || s.Scan() {
		t.Errorf("nil reader: %v", err)
	}
	if _, err := NewScanner(strings.NewReader("date,sales\n")); !errors.Is(err, ErrInvalidDataset) {
		t.Errorf("missing column: %v", err)
	}
	for _, row := range []string{"2024-01-01,A", "2024-01-32,A,1", "2024-01-01,,1", "2024-01-01,A,x", "2024-01-01,A,Inf", "\"2024-01-01,A,1"} {
		s, err := NewScanner(strings.NewReader("date,product_id,sales\n2024-01-01,A,1\n" + row + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		for s.Scan() {
		}
		if err := s.Err(); !errors.Is(err, ErrInvalidDataset) || !strings.Contains(err.Error(), "line 3") {
			t.Errorf("row %q: err %v, want ErrInvalidDataset on line 3", row, err)
		}
	}
}
