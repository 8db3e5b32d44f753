package store

import (
	"bytes"
	"testing"
)

func TestReadUpTo(t *testing.T) {
	const limit = 5 * firstRead
	for _, size := range []int{0, 1, firstRead - 1, firstRead, firstRead + 1, limit - 1, limit, limit + 1, 3 * limit} {
		body := bytes.Repeat([]byte{'x'}, size)
		reader := bytes.NewReader(body)
		got, err := readUpTo(reader, limit)
		if err != nil {
			t.Fatal(err)
		}
		if want := min(size, limit); len(got) != want || !bytes.Equal(got, body[:want]) {
			t.Errorf("size %d: read %d bytes, want %d", size, len(got), want)
		}
		if left := reader.Len(); left != size-len(got) {
			t.Errorf("size %d: %d bytes left unread, want %d", size, left, size-len(got))
		}
		if cap(got) > limit {
			t.Errorf("size %d: buffer of %d bytes, more than a part", size, cap(got))
		}
	}
}

// TestSmallWritesAllocateLittle: a job record's write starts from a small buffer, not a part.
func TestSmallWritesAllocateLittle(t *testing.T) {
	got, err := readUpTo(bytes.NewReader(make([]byte, 300)), MinPartSize)
	if err != nil {
		t.Fatal(err)
	}
	if cap(got) != firstRead {
		t.Errorf("a 300-byte write used a %d-byte buffer, want %d", cap(got), firstRead)
	}
}
