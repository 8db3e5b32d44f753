package lstm

import "math"

// naiveNet is a reference implementation of the network for one window at a
// time, written for clarity: one matrix-vector product per gate and step,
// fresh slices everywhere, no dropout. The tests compare the batched network
// against it, and the benchmarks use it as the baseline.
type naiveNet struct {
	w         weights[float64]
	relu      bool
	quantiles []float64
}

// naiveWindow is one window: x[t] the features of step t, y the targets of
// the horizon's days and observed whether each counts.
type naiveWindow struct {
	x        [][]float64
	y        []float64
	observed []bool
}

func (nn naiveNet) act(x float64) float64 {
	if nn.relu {
		return max(x, 0)
	}
	return math.Tanh(x)
}

// actDeriv is the derivative of the activation at x, given a = act(x).
func (nn naiveNet) actDeriv(x, a float64) float64 {
	if nn.relu {
		if x > 0 {
			return 1
		}
		return 0
	}
	return 1 - a*a
}

// naiveStep is what one layer keeps of one time step.
type naiveStep struct {
	x, zi, zf, zc, zo, i, f, g, o, c, a, h []float64
}

// lossAndGrad returns the summed pinball loss of one window over its
// observed days and quantiles, and adds its gradient, scaled by scale, into
// grad.
func (nn naiveNet) lossAndGrad(win naiveWindow, grad weights[float64], scale float64) float64 {
	T := len(win.x)
	steps := make([][]naiveStep, len(nn.w.layers))
	seq := make([][]float64, T)
	for t := range T {
		seq[t] = win.x[t]
	}
	for l, lw := range nn.w.layers {
		h, g := lw.hid, 4*lw.hid
		hPrev, cPrev := make([]float64, h), make([]float64, h)
		for t := range T {
			st := naiveStep{x: seq[t]}
			pre := func(gate int) []float64 {
				z := make([]float64, h)
				for j := range h {
					col := gate*h + j
					s := lw.b[col]
					for k, v := range st.x {
						s += v * lw.w[k*g+col]
					}
					for k, v := range hPrev {
						s += v * lw.u[k*g+col]
					}
					z[j] = s
				}
				return z
			}
			st.zi, st.zf, st.zc, st.zo = pre(0), pre(1), pre(2), pre(3)
			for _, p := range []*[]float64{&st.i, &st.f, &st.g, &st.o, &st.c, &st.a, &st.h} {
				*p = make([]float64, h)
			}
			for j := range h {
				st.i[j], st.f[j], st.o[j] = sigmoid(st.zi[j]), sigmoid(st.zf[j]), sigmoid(st.zo[j])
				st.g[j] = nn.act(st.zc[j])
				st.c[j] = st.f[j]*cPrev[j] + st.i[j]*st.g[j]
				st.a[j] = nn.act(st.c[j])
				st.h[j] = st.o[j] * st.a[j]
			}
			hPrev, cPrev = st.h, st.c
			steps[l] = append(steps[l], st)
			seq[t] = st.h
		}
	}
	hT := seq[T-1]
	O, Q := len(nn.w.db), len(nn.quantiles)
	pred := make([]float64, O)
	for o := range O {
		pred[o] = nn.w.db[o]
		for j, v := range hT {
			pred[o] += v * nn.w.dw[j*O+o]
		}
	}
	var loss float64
	dpred := make([]float64, O)
	for d, y := range win.y {
		if !win.observed[d] {
			continue
		}
		for q, level := range nn.quantiles {
			e := y - pred[d*Q+q]
			if e >= 0 {
				loss += level * e
				dpred[d*Q+q] = -level * scale
			} else {
				loss += (level - 1) * e
				dpred[d*Q+q] = (1 - level) * scale
			}
		}
	}
	dseq := make([][]float64, T)
	for t := range T {
		dseq[t] = make([]float64, len(hT))
	}
	for o, d := range dpred {
		grad.db[o] += d
		for j, v := range hT {
			grad.dw[j*O+o] += d * v
			dseq[T-1][j] += d * nn.w.dw[j*O+o]
		}
	}
	for l := len(nn.w.layers) - 1; l >= 0; l-- {
		lw, gw := nn.w.layers[l], grad.layers[l]
		h, g := lw.hid, 4*lw.hid
		dhNext, dcNext := make([]float64, h), make([]float64, h)
		dx := make([][]float64, T)
		for t := T - 1; t >= 0; t-- {
			st := steps[l][t]
			cPrev, hPrev := make([]float64, h), make([]float64, h)
			if t > 0 {
				cPrev, hPrev = steps[l][t-1].c, steps[l][t-1].h
			}
			dz := make([]float64, g)
			dcPrev := make([]float64, h)
			for j := range h {
				dh := dseq[t][j] + dhNext[j]
				dc := dcNext[j] + dh*st.o[j]*nn.actDeriv(st.c[j], st.a[j])
				dz[j] = dc * st.g[j] * st.i[j] * (1 - st.i[j])
				dz[h+j] = dc * cPrev[j] * st.f[j] * (1 - st.f[j])
				dz[2*h+j] = dc * st.i[j] * nn.actDeriv(st.zc[j], st.g[j])
				dz[3*h+j] = dh * st.a[j] * st.o[j] * (1 - st.o[j])
				dcPrev[j] = dc * st.f[j]
			}
			dhNext = make([]float64, h)
			dx[t] = make([]float64, len(st.x))
			for col, d := range dz {
				gw.b[col] += d
				for k, v := range st.x {
					gw.w[k*g+col] += v * d
					dx[t][k] += lw.w[k*g+col] * d
				}
				for k, v := range hPrev {
					gw.u[k*g+col] += v * d
					dhNext[k] += lw.u[k*g+col] * d
				}
			}
			dcNext = dcPrev
		}
		dseq = dx
	}
	return loss
}

// batchLossAndGrad is the mean pinball loss over the windows' observed days
// and quantiles, and its gradient added into grad.
func (nn naiveNet) batchLossAndGrad(wins []naiveWindow, grad weights[float64]) float64 {
	count := 0
	for _, w := range wins {
		for _, ob := range w.observed {
			if ob {
				count += len(nn.quantiles)
			}
		}
	}
	var loss float64
	for _, w := range wins {
		loss += nn.lossAndGrad(w, grad, 1/float64(count))
	}
	return loss / float64(count)
}
