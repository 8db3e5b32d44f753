package lstm

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/stockcast/stockcast/shared/training"
)

// trainedCheckpoint is a briefly trained small model and its checkpoint.
func trainedCheckpoint(t testing.TB) (*Model, []byte) {
	t.Helper()
	m := mustNew(t, smallConfig())
	if _, err := m.Train(context.Background(), synthSeries(3, 90, 7), TrainOptions{Policy: quickPolicy()}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := m.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteTo reported %d bytes, wrote %d", n, buf.Len())
	}
	return m, buf.Bytes()
}

func TestSaveLoadIsExact(t *testing.T) {
	m, ckpt := trainedCheckpoint(t)
	loaded, err := Read(bytes.NewReader(ckpt))
	if err != nil {
		t.Fatal(err)
	}
	data := synthSeries(3, 120, 7)
	var qs []Query
	for _, s := range data {
		qs = append(qs, Query{ID: s.ID, History: s.Values[60:90], Last: s.Start.AddDate(0, 0, 89), Horizon: 14})
	}
	qs = append(qs, Query{History: data[0].Values[:20], Last: day0.AddDate(0, 0, 19), Horizon: 3})
	want, err := m.ForecastBatch(qs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := loaded.ForecastBatch(qs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		for k := range want[i].Quantiles {
			for d, w := range want[i].Quantiles[k] {
				if g := got[i].Quantiles[k][d]; math.Float64bits(g) != math.Float64bits(w) {
					t.Fatalf("forecast %d quantile %d day %d: loaded %v, saved %v", i, k, d, g, w)
				}
			}
		}
	}
	for _, id := range m.SeriesIDs() {
		a, _ := m.Scale(id)
		if b, ok := loaded.Scale(id); !ok || a != b {
			t.Errorf("scale of %s: loaded %v, saved %v", id, b, a)
		}
	}
	if loaded.Step() != m.Step() || !loaded.LastDate().Equal(m.LastDate()) || len(loaded.Runs()) != 1 {
		t.Errorf("loaded step %d, last date %v, %d runs; saved %d, %v", loaded.Step(), loaded.LastDate(), len(loaded.Runs()), m.Step(), m.LastDate())
	}

	// Continuing either model gives the same state, byte for byte.
	var a, b bytes.Buffer
	for _, x := range []struct {
		m   *Model
		out *bytes.Buffer
	}{{m, &a}, {loaded, &b}} {
		if _, err := x.m.Train(context.Background(), data, TrainOptions{Policy: quickPolicy()}); err != nil {
			t.Fatal(err)
		}
		if _, err := x.m.WriteTo(x.out); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("training the loaded model diverged from training the saved one")
	}
	if m.Step() <= loaded.Runs()[0].Step {
		t.Errorf("step %d did not advance past %d", m.Step(), loaded.Runs()[0].Step)
	}
}

// errReader fails as a network read would.
type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestBadCheckpointsStartFromScratch(t *testing.T) {
	_, good := trainedCheckpoint(t)
	hlen := int(binary.LittleEndian.Uint32(good[12:]))
	tensors := 16 + hlen
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x10
		return b
	}
	otherVersion := bytes.Clone(good)
	binary.LittleEndian.PutUint32(otherVersion[8:], 3)
	version1 := bytes.Clone(good)
	binary.LittleEndian.PutUint32(version1[8:], 1)
	other := smallConfig()
	other.Layers = []int{7}
	om := mustNew(t, other)
	var otherArch bytes.Buffer
	if _, err := om.WriteTo(&otherArch); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrCorrupt},
		{"truncated magic", good[:5], ErrCorrupt},
		{"truncated header", good[:20], ErrCorrupt},
		{"truncated tensors", good[:tensors+100], ErrCorrupt},
		{"truncated checksum", good[:len(good)-2], ErrCorrupt},
		{"trailing data", append(bytes.Clone(good), 0), ErrCorrupt},
		{"bit flip in magic", flip(0), ErrCorrupt},
		{"bit flip in header", flip(30), ErrCorrupt},
		{"bit flip in weights", flip(tensors + 3), ErrCorrupt},
		{"bit flip in moments", flip(len(good) - 20), ErrCorrupt},
		{"bit flip in checksum", flip(len(good) - 1), ErrCorrupt},
		{"not a checkpoint", []byte("date,product_id,sales\n2024-01-01,P1,3\n"), ErrCorrupt},
		{"other version", otherVersion, ErrVersion},
		{"version 1, the one-day network", version1, ErrVersion},
		{"other architecture", otherArch.Bytes(), ErrArchitecture},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, fresh, err := Resume(bytes.NewReader(tc.data), smallConfig())
			if err != nil {
				t.Fatalf("Resume: %v", err)
			}
			if !errors.Is(fresh, tc.want) {
				t.Fatalf("reason %v, want %v", fresh, tc.want)
			}
			if m.Step() != 0 || len(m.Runs()) != 0 {
				t.Fatalf("fresh model has step %d and %d runs", m.Step(), len(m.Runs()))
			}
			rep, err := m.Train(context.Background(), synthSeries(2, 60, 1), TrainOptions{Mode: training.FineTune, Policy: quickPolicy()})
			if err != nil {
				t.Fatal(err)
			}
			if tc.name == "version 1, the one-day network" && !strings.Contains(fresh.Error(), "format version 1 (the one-day network") {
				t.Errorf("reason %q does not say what version 1 was", fresh)
			}
			if rep.Mode != training.Full || !strings.Contains(rep.Reason, fresh.Error()) {
				t.Errorf("report mode %q, reason %q; want full training saying %q", rep.Mode, rep.Reason, fresh)
			}
		})
	}

	m, fresh, err := Resume(nil, smallConfig())
	if err != nil || !errors.Is(fresh, ErrNoCheckpoint) || m == nil {
		t.Errorf("no checkpoint: %v, %v", fresh, err)
	}
	if _, _, err := Resume(errReader{}, smallConfig()); err == nil || errors.Is(err, ErrCorrupt) {
		t.Errorf("a failing reader gave %v, want its own error", err)
	}
	m, fresh, err = Resume(bytes.NewReader(good), smallConfig())
	if err != nil || fresh != nil || m.Step() == 0 {
		t.Errorf("good checkpoint: %v, %v", fresh, err)
	}
}

// FuzzRead feeds damaged checkpoints to Read: it must never panic, and a
// checkpoint it accepts must survive a write and read unchanged.
func FuzzRead(f *testing.F) {
	_, good := trainedCheckpoint(f)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Read(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
				t.Fatalf("error %v wraps neither ErrCorrupt nor ErrVersion", err)
			}
			return
		}
		var buf bytes.Buffer
		if _, err := m.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		again, err := Read(&buf)
		if err != nil {
			t.Fatal(err)
		}
		for i := range m.params {
			if math.Float32bits(m.params[i]) != math.Float32bits(again.params[i]) {
				t.Fatalf("parameter %d changed over a round trip", i)
			}
		}
	})
}
