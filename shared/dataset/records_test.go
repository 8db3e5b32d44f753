package dataset

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

type readRecord struct {
	line   int
	fields []string
}

// readAll reads every record with recordReader; it stops at the first error.
func readAll(r io.Reader) ([]readRecord, error) {
	rr := newRecordReader(r)
	var out []readRecord
	for {
		err := rr.next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		rec := readRecord{line: rr.start}
		for _, f := range rr.fields {
			rec.fields = append(rec.fields, string(f))
		}
		out = append(out, rec)
	}
}

// csvReference reads data with encoding/csv, dropping blank records as the
// contract does; ok is false when encoding/csv refuses the data.
func csvReference(data []byte) (recs []readRecord, ok bool) {
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, bom)))
	cr.FieldsPerRecord = -1
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return recs, true
		}
		if err != nil {
			return nil, false
		}
		line, _ := cr.FieldPos(0)
		blank := true
		for _, f := range rec {
			blank = blank && strings.TrimSpace(f) == ""
		}
		if !blank {
			recs = append(recs, readRecord{line: line, fields: rec})
		}
	}
}

func sameRecords(a, b []readRecord) bool {
	return slices.EqualFunc(a, b, func(x, y readRecord) bool { return x.line == y.line && slices.Equal(x.fields, y.fields) })
}

func TestRecordReaderMatchesEncodingCSV(t *testing.T) {
	inputs := []string{
		"a,b,c\n1,2,3\n",
		"a,b,c\r\n1,2,3\r\n",
		"a,b,c\n1,2,3",
		"a,b,c\n1,2,3\r",
		"\ufeffa,b\n1,2\n",
		"a,b\n\n\n1,2\n\n",
		"a,b\n  \n,\n1,2\n",
		"a,b\n\"x,y\",\"line\nbreak\"\n3,4\n",
		"a,b\n\"x\r\ny\",z\r\n3,4\r\n",
		"a,b\n\"say \"\"hi\"\"\",2\n",
		"a,b\n\"\",\"\"\n1,\n",
		"a,b\nx\ry,2\n",
		"a,b\nx\r\r\n",
		" a , b \n",
		"a,b\n\"multi\n\nblank\",1\n2,3\n",
	}
	for _, in := range inputs {
		want, ok := csvReference([]byte(in))
		if !ok {
			t.Fatalf("encoding/csv refuses %q", in)
		}
		got, err := readAll(strings.NewReader(in))
		if err != nil || !sameRecords(got, want) {
			t.Errorf("input %q:\n got %v (%v)\nwant %v", in, got, err, want)
		}
		// One byte at a time exercises every buffer boundary.
		got, err = readAll(iotest.OneByteReader(strings.NewReader(in)))
		if err != nil || !sameRecords(got, want) {
			t.Errorf("input %q read bytewise: got %v (%v)", in, got, err)
		}
	}
}

func TestRecordReaderLongLinesAndErrors(t *testing.T) {
	long := strings.Repeat("x", 200_000)
	got, err := readAll(strings.NewReader("a,b\n" + long + ",1\n\"" + long + "\",2\n"))
	if err != nil || len(got) != 3 || got[1].fields[0] != long || got[2].fields[0] != long || got[2].line != 3 {
		t.Fatalf("long lines: %d records, err %v", len(got), err)
	}

	rr := newRecordReader(strings.NewReader("a,b\nx\"y,1\n2,3\n\"open,4\n5,6\n"))
	var lines []int
	var synLines []int
	for {
		err := rr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		var syn *syntaxError
		if errors.As(err, &syn) {
			synLines = append(synLines, syn.line)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, rr.start)
	}
	// Line 2 has a bare quote: the reader looks for its closing quote up to
	// line 4, reports the record starting on line 2 and goes on.
	if !slices.Equal(synLines, []int{2}) || !slices.Equal(lines, []int{1, 5}) {
		t.Errorf("records on lines %v, syntax errors on %v", lines, synLines)
	}

	boom := errors.New("boom")
	_, err = readAll(io.MultiReader(strings.NewReader("a,b\n1,2\n"), iotest.ErrReader(boom)))
	if !errors.Is(err, boom) {
		t.Errorf("read error = %v, want boom", err)
	}
}

func TestAppendRecordRoundTrips(t *testing.T) {
	fields := []string{"plain", "", " lead", "com,ma", `qu"ote`, "line\nbreak", "cr\rhere", "ünï"}
	line := appendRecord(nil, fields)
	want := "plain,, lead,\"com,ma\",\"qu\"\"ote\",\"line\nbreak\",\"cr\rhere\",ünï\n"
	if string(line) != want {
		t.Fatalf("appendRecord = %q, want %q", line, want)
	}
	cr := csv.NewReader(bytes.NewReader(line))
	back, err := cr.Read()
	if err != nil || !slices.Equal(back, fields) {
		t.Fatalf("encoding/csv reads back %q, %v", back, err)
	}
}

// FuzzRecordReader checks the reader against encoding/csv on every input
// encoding/csv accepts.
func FuzzRecordReader(f *testing.F) {
	addFixtureSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		want, ok := csvReference(data)
		got, err := readAll(bytes.NewReader(data))
		if !ok {
			return
		}
		if err != nil || !sameRecords(got, want) {
			t.Fatalf("input %q:\n got %v (%v)\nwant %v", data, got, err, want)
		}
	})
}

// addFixtureSeeds adds every CSV file of testdata/uploads to the corpus.
func addFixtureSeeds(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(testdata, "uploads", "*.csv"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed corpus: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}
