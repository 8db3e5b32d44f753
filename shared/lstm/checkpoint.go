package lstm

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"time"
)

// Checkpoint format constants; see the package documentation.
const (
	magic          = "STKLSTM\n"
	formatVersion  = 2
	maxHeaderBytes = 64 << 20
)

// Errors a checkpoint read wraps, with detail.
var (
	// ErrNoCheckpoint means there was no checkpoint to read.
	ErrNoCheckpoint = errors.New("no checkpoint")
	// ErrCorrupt means the checkpoint is empty, truncated, damaged or not a
	// checkpoint at all.
	ErrCorrupt = errors.New("corrupt checkpoint")
	// ErrVersion means the checkpoint is of another format version.
	ErrVersion = errors.New("unsupported checkpoint version")
	// ErrArchitecture means the checkpoint's network does not have the
	// architecture asked for.
	ErrArchitecture = errors.New("checkpoint of another architecture")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// header is the JSON header of a checkpoint.
type header struct {
	Config   Config             `json:"config"`
	Params   int                `json:"params"`
	Step     int64              `json:"step"`
	LastDate string             `json:"last_date,omitempty"`
	Scales   map[string]float64 `json:"scales"`
	Runs     []Run              `json:"runs"`
}

// WriteTo writes the model as a checkpoint to w, streaming.
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	h := header{Config: m.cfg, Params: len(m.params), Step: m.opt.step, Scales: m.scales, Runs: m.runs}
	if !m.lastDate.IsZero() {
		h.LastDate = m.lastDate.Format(time.DateOnly)
	}
	js, err := json.Marshal(h)
	if err != nil {
		return 0, fmt.Errorf("encode checkpoint header: %w", err)
	}
	cw := &countWriter{w: w}
	crc := crc32.New(castagnoli)
	bw := bufio.NewWriterSize(io.MultiWriter(cw, crc), 64<<10)
	var pre []byte
	pre = append(pre, magic...)
	pre = binary.LittleEndian.AppendUint32(pre, formatVersion)
	pre = binary.LittleEndian.AppendUint32(pre, uint32(len(js)))
	bw.Write(pre)
	bw.Write(js)
	buf := make([]byte, 0, 8<<10)
	for _, t := range [][]float32{m.params, m.opt.m, m.opt.v} {
		for len(t) > 0 {
			k := min(len(t), cap(buf)/4)
			buf = buf[:0]
			for _, v := range t[:k] {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			}
			bw.Write(buf)
			t = t[k:]
		}
	}
	if err := bw.Flush(); err != nil {
		return cw.n, fmt.Errorf("write checkpoint: %w", err)
	}
	if _, err := cw.Write(binary.LittleEndian.AppendUint32(nil, crc.Sum32())); err != nil {
		return cw.n, fmt.Errorf("write checkpoint checksum: %w", err)
	}
	return cw.n, nil
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Read reads a checkpoint written by WriteTo. It returns a model only when
// the whole checkpoint is sound; otherwise the error wraps ErrCorrupt or
// ErrVersion, or is the reader's own error.
func Read(r io.Reader) (*Model, error) {
	crc := crc32.New(castagnoli)
	cr := &checkReader{r: bufio.NewReaderSize(r, 64<<10), h: crc}
	pre := make([]byte, len(magic)+8)
	if n, err := io.ReadFull(cr, pre); err != nil {
		if n == 0 && err == io.EOF {
			return nil, fmt.Errorf("%w: empty", ErrCorrupt)
		}
		return nil, cr.fail("preamble", err)
	}
	if string(pre[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: not a stockcast LSTM checkpoint (magic %q)", ErrCorrupt, pre[:len(magic)])
	}
	if v := binary.LittleEndian.Uint32(pre[len(magic):]); v != formatVersion {
		if v == 1 {
			return nil, fmt.Errorf("%w: format version 1 (the one-day network over min-max scaled, zero-filled windows), this build reads %d (%d-day forecasts from level-scaled, masked windows)", ErrVersion, formatVersion, DefaultConfig().Horizon)
		}
		return nil, fmt.Errorf("%w: format version %d, this build reads %d", ErrVersion, v, formatVersion)
	}
	hlen := binary.LittleEndian.Uint32(pre[len(magic)+4:])
	if hlen > maxHeaderBytes {
		return nil, fmt.Errorf("%w: header of %d bytes", ErrCorrupt, hlen)
	}
	js := make([]byte, hlen)
	if _, err := io.ReadFull(cr, js); err != nil {
		return nil, cr.fail("header", err)
	}
	var h header
	dec := json.NewDecoder(bytes.NewReader(js))
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	if err := h.check(); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	m := allocModel(h.Config)
	raw := make([]byte, 8<<10)
	for _, t := range [][]float32{m.params, m.opt.m, m.opt.v} {
		for len(t) > 0 {
			k := min(len(t), len(raw)/4)
			if _, err := io.ReadFull(cr, raw[:4*k]); err != nil {
				return nil, cr.fail("tensors", err)
			}
			for i := range t[:k] {
				t[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
			t = t[k:]
		}
	}
	sum := crc.Sum32()
	cr.h = nil
	tail := make([]byte, 5)
	n, err := io.ReadFull(cr, tail)
	switch {
	case err == io.ErrUnexpectedEOF && n == 4:
	case err == nil:
		return nil, fmt.Errorf("%w: data after the checksum", ErrCorrupt)
	default:
		return nil, cr.fail("checksum", err)
	}
	if got := binary.LittleEndian.Uint32(tail); got != sum {
		return nil, fmt.Errorf("%w: checksum %08x, computed %08x", ErrCorrupt, got, sum)
	}
	if err := checkFinite(m.params); err != nil {
		return nil, fmt.Errorf("%w: weights: %v", ErrCorrupt, err)
	}
	m.opt.step = h.Step
	m.runs = h.Runs
	if h.Scales != nil {
		m.scales = h.Scales
	}
	if h.LastDate != "" {
		m.lastDate, _ = time.Parse(time.DateOnly, h.LastDate)
	}
	return m, nil
}

// check validates a decoded header.
func (h header) check() error {
	if err := h.Config.Validate(); err != nil {
		return err
	}
	if want := h.Config.paramCount(); h.Params != want {
		return fmt.Errorf("%d parameters for an architecture of %d", h.Params, want)
	}
	if h.Step < 0 {
		return fmt.Errorf("optimizer step %d", h.Step)
	}
	if h.LastDate != "" {
		if _, err := time.Parse(time.DateOnly, h.LastDate); err != nil {
			return fmt.Errorf("last date: %v", err)
		}
	}
	for id, s := range h.Scales {
		if !isFinite(s) || !(s > 0) {
			return fmt.Errorf("scale of %q: %v", id, s)
		}
	}
	return nil
}

// checkReader hashes what it reads while h is set, and tells truncation
// from the underlying reader's own failures.
type checkReader struct {
	r io.Reader
	h hash.Hash32
}

func (c *checkReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.h != nil {
		c.h.Write(p[:n])
	}
	return n, err
}

// fail wraps a read error: running out of data means a truncated
// checkpoint, anything else is the reader's failure.
func (c *checkReader) fail(part string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: truncated in the %s", ErrCorrupt, part)
	}
	return fmt.Errorf("read checkpoint %s: %w", part, err)
}

// Resume reads the checkpoint in r (nil for none) to continue training
// with cfg's hyper-parameters. When there is no usable checkpoint (none,
// corrupt, of another version or of another architecture than cfg's) it
// returns a new model from cfg and, as fresh, the reason, which the next
// training run reports. err is set only when cfg is invalid or reading
// failed for a reason other than the checkpoint's content.
func Resume(r io.Reader, cfg Config) (m *Model, fresh, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, fmt.Errorf("lstm config: %w", err)
	}
	if r == nil {
		fresh = ErrNoCheckpoint
	} else if m, err = Read(r); err != nil {
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
			return nil, nil, err
		}
		fresh = err
	} else if !m.cfg.sameArchitecture(cfg) {
		fresh = fmt.Errorf("%w: checkpoint has %s, config wants %s", ErrArchitecture, m.cfg.architecture(), cfg.architecture())
	}
	if fresh != nil {
		m = allocModel(cfg)
		m.initialise()
		m.fresh = fresh
		return m, fresh, nil
	}
	m.cfg = cfg.clone()
	return m, nil, nil
}
