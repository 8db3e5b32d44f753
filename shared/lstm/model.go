package lstm

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Model is the network with its optimiser state, the scales of the series
// it has seen, and the history of its training runs.
//
// Forecast, ForecastBatch, WriteTo and the accessors are safe for concurrent
// use; Train changes the model and must not run concurrently with any other
// method.
type Model struct {
	cfg      Config
	params   []float32
	w        weights[float32]
	opt      adam[float32]
	scales   map[string]float64
	lastDate time.Time
	runs     []Run
	// fresh says why the model was not resumed from a checkpoint; nil when
	// it was, or when it was made by New.
	fresh error
	// pool holds forecasting workspaces.
	pool sync.Pool
}

// Streams of the seeded random generator, so that initialisation and each
// training run draw independent numbers.
const (
	initStream  = 0x5eed_1717
	trainStream = 0x7a1e_0000
)

// New returns an untrained model: weights initialised as Keras does, from
// cfg.Seed.
func New(cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("lstm config: %w", err)
	}
	m := allocModel(cfg)
	m.initialise()
	return m, nil
}

// allocModel returns a model of cfg's shape with zero weights and no scales.
func allocModel(cfg Config) *Model {
	cfg = cfg.clone()
	n := cfg.paramCount()
	m := &Model{cfg: cfg, params: make([]float32, n), opt: newAdam[float32](n), scales: map[string]float64{}}
	m.w = bindWeights(cfg.Layers, cfg.inputs(), cfg.outputs(), m.params)
	m.pool.New = func() any { return newWorkspace[float32](m.cfg, forecastBatch) }
	return m
}

// initialise draws fresh weights from the seed and clears the optimiser.
func (m *Model) initialise() {
	initWeights(m.w, rand.New(rand.NewPCG(m.cfg.Seed, initStream)))
	clear(m.opt.m)
	clear(m.opt.v)
	m.opt.step = 0
}

// Config returns the model's configuration.
func (m *Model) Config() Config { return m.cfg.clone() }

// Step is the number of optimiser steps taken over the model's life.
func (m *Model) Step() int64 { return m.opt.step }

// LastDate is the last day of the data the model was trained on (zero when
// untrained).
func (m *Model) LastDate() time.Time { return m.lastDate }

// Runs returns the history of training runs, oldest first.
func (m *Model) Runs() []Run { return slices.Clone(m.runs) }

// Scale returns the scale of a series the model has been trained on: the
// mean absolute observed value of its last Window days when it was last
// trained. A forecast whose context holds no observed non-zero value is
// scaled by it.
func (m *Model) Scale(id string) (float64, bool) {
	s, ok := m.scales[id]
	return s, ok
}

// SeriesIDs lists the series the model has been trained on, sorted.
func (m *Model) SeriesIDs() []string { return slices.Sorted(maps.Keys(m.scales)) }

// Clone returns an independent copy of the model: weights, optimiser state,
// scales and history. It must not run concurrently with Train.
func (m *Model) Clone() *Model {
	c := allocModel(m.cfg)
	copy(c.params, m.params)
	copy(c.opt.m, m.opt.m)
	copy(c.opt.v, m.opt.v)
	c.opt.step = m.opt.step
	c.scales = maps.Clone(m.scales)
	c.lastDate, c.runs, c.fresh = m.lastDate, slices.Clone(m.runs), m.fresh
	return c
}
