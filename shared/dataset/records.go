package dataset

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
)

// bom is the UTF-8 byte-order mark some tools put at the start of a CSV file.
var bom = []byte{0xEF, 0xBB, 0xBF}

// syntaxError is a record that is not valid CSV. Reading can go on after it.
type syntaxError struct {
	line int
	err  error
}

func (e *syntaxError) Error() string { return fmt.Sprintf("line %d: %v", e.line, e.err) }

// recordReader reads CSV records line by line, with encoding/csv's semantics
// (RFC 4180, CRLF accepted) and the contract's blank-line rule. A record
// without quotes or carriage returns is split in place without copying; only
// the others go through encoding/csv.
type recordReader struct {
	br      *bufio.Reader
	long    []byte   // a physical line longer than br's buffer
	acc     []byte   // the physical lines of a quoted record
	line    int      // physical lines read so far
	start   int      // physical line where the current record starts
	raw     []byte   // current record without its line end, when !rewrite
	fields  [][]byte // current record's fields, valid until the next call to next
	rewrite bool     // the record came through the CSV parser: raw is not its text
	started bool
}

func newRecordReader(r io.Reader) *recordReader {
	return &recordReader{br: bufio.NewReaderSize(r, 64<<10)}
}

// physical returns the next physical line including its '\n' (if any); it
// returns io.EOF only when no bytes are left.
func (r *recordReader) physical() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		r.long = append(r.long[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = r.br.ReadSlice('\n')
			r.long = append(r.long, line...)
		}
		line = r.long
	}
	if err == io.EOF && len(line) > 0 {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	if !r.started {
		r.started = true
		line = bytes.TrimPrefix(line, bom)
	}
	r.line++
	return line, nil
}

// next advances to the next non-blank record. It returns io.EOF at the end, a
// *syntaxError for a malformed record (reading may continue), or a read error.
func (r *recordReader) next() error {
	for {
		line, err := r.physical()
		if err != nil {
			return err
		}
		r.start = r.line
		body := trimLineEnd(line)
		var plain bool
		if r.fields, plain = splitFields(r.fields[:0], body); plain {
			r.raw, r.rewrite = body, false
		} else if err := r.parseQuoted(line); err != nil {
			return err
		}
		if !isBlank(r.fields) {
			return nil
		}
	}
}

// parseQuoted reads the rest of a record that starts with line and parses it
// with encoding/csv.
func (r *recordReader) parseQuoted(line []byte) error {
	r.acc = append(r.acc[:0], line...)
	quotes := bytes.Count(line, []byte{'"'})
	for quotes%2 == 1 {
		more, err := r.physical()
		if err == io.EOF {
			break // unterminated quote: the parser reports it
		}
		if err != nil {
			return err
		}
		r.acc = append(r.acc, more...)
		quotes += bytes.Count(more, []byte{'"'})
	}
	cr := csv.NewReader(bytes.NewReader(r.acc))
	cr.FieldsPerRecord = -1
	rec, err := cr.Read()
	if err == nil {
		if _, extra := cr.Read(); extra != io.EOF {
			err = errors.New("malformed quoted field")
		}
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		r.fields = r.fields[:0]
		return &syntaxError{line: r.start, err: err}
	}
	r.raw, r.rewrite = nil, true
	r.fields = r.fields[:0]
	for _, f := range rec {
		r.fields = append(r.fields, []byte(f))
	}
	return nil
}

// trimLineEnd removes a trailing "\n" or "\r\n", and a "\r" ending the input,
// as encoding/csv does.
func trimLineEnd(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line
}

// splitFields splits a record at commas. It reports false, with fields
// unusable, when the record holds a quote or a carriage return and so needs
// the CSV parser.
func splitFields(dst [][]byte, b []byte) ([][]byte, bool) {
	if bytes.IndexByte(b, '"') >= 0 || bytes.IndexByte(b, '\r') >= 0 {
		return dst, false
	}
	for {
		i := bytes.IndexByte(b, ',')
		if i < 0 {
			return append(dst, b), true
		}
		dst = append(dst, b[:i])
		b = b[i+1:]
	}
}

// isBlank reports whether every field is empty or white space.
func isBlank(fields [][]byte) bool {
	for _, f := range fields {
		if len(bytes.TrimSpace(f)) > 0 {
			return false
		}
	}
	return true
}

// appendField appends one CSV field, quoted only if it holds a comma, quote,
// CR or LF — so an unquoted record is written back byte for byte.
func appendField[F string | []byte](b []byte, f F) []byte {
	needs := false
	for i := 0; i < len(f); i++ {
		if c := f[i]; c == ',' || c == '"' || c == '\r' || c == '\n' {
			needs = true
			break
		}
	}
	if !needs {
		return append(b, f...)
	}
	b = append(b, '"')
	for i := 0; i < len(f); i++ {
		if f[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, f[i])
	}
	return append(b, '"')
}

// appendRecord appends fields as one LF-terminated CSV line.
func appendRecord[F string | []byte](b []byte, fields []F) []byte {
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendField(b, f)
	}
	return append(b, '\n')
}
