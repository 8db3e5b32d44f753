package lstm

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// The network's parameters live in one flat slice, so that Adam, the
// checkpoint and the gradient all walk the same layout: for every LSTM layer
// its kernel W (in×4h), recurrent kernel U (h×4h) and bias b (4h), then the
// dense kernel (h×out) and bias (out). Gates are ordered as in Keras: input,
// forget, cell, output, each h wide. The first layer's input is the features
// of a time step; the dense layer's output is every quantile of every day of
// the horizon, day-major (output d·Q+q is quantile q of day d).

// lstmWeights are the views of one LSTM layer's parameters.
type lstmWeights[F float] struct {
	in, hid int
	w, u, b []F
}

// weights are the views of all the network's parameters (or of a same-shaped
// gradient or moment).
type weights[F float] struct {
	layers []lstmWeights[F]
	dw, db []F
}

// paramCount is the number of parameters of a network with the given
// layers, inputs per time step and outputs.
func paramCount(layers []int, inputs, outputs int) int {
	n, in := 0, inputs
	for _, h := range layers {
		n += (in + h + 1) * 4 * h
		in = h
	}
	return n + (in+1)*outputs
}

// bindWeights slices data (paramCount(layers, inputs, outputs) long) into
// weight views.
func bindWeights[F float](layers []int, inputs, outputs int, data []F) weights[F] {
	var w weights[F]
	off, in := 0, inputs
	take := func(n int) []F {
		s := data[off : off+n : off+n]
		off += n
		return s
	}
	for _, h := range layers {
		w.layers = append(w.layers, lstmWeights[F]{in: in, hid: h, w: take(in * 4 * h), u: take(h * 4 * h), b: take(4 * h)})
		in = h
	}
	w.dw = take(in * outputs)
	w.db = take(outputs)
	return w
}

// initWeights fills w as Keras initialises LSTM and Dense layers:
// Glorot-uniform kernels, orthogonal recurrent kernels, zero biases except a
// forget-gate bias of one.
func initWeights[F float](w weights[F], rng *rand.Rand) {
	glorot := func(s []F, fanIn, fanOut int) {
		limit := math.Sqrt(6 / float64(fanIn+fanOut))
		for i := range s {
			s[i] = F((2*rng.Float64() - 1) * limit)
		}
	}
	for _, l := range w.layers {
		g := 4 * l.hid
		glorot(l.w, l.in, g)
		orthogonal(l.u, l.hid, g, rng)
		clear(l.b)
		for j := l.hid; j < 2*l.hid; j++ {
			l.b[j] = 1
		}
	}
	glorot(w.dw, w.layers[len(w.layers)-1].hid, len(w.db))
	clear(w.db)
}

// orthogonal fills the rows×cols matrix s with Keras's Orthogonal
// initialiser: the Q factor of a Gaussian matrix, signs fixed by R's
// diagonal, transposed when the matrix is wider than tall.
func orthogonal[F float](s []F, rows, cols int, rng *rand.Rand) {
	tall, short := max(rows, cols), min(rows, cols)
	a := mat.NewDense(tall, short, nil)
	for i := range tall {
		for j := range short {
			a.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(a)
	var q, r mat.Dense
	qr.QTo(&q)
	qr.RTo(&r)
	for j := range short {
		sign := 1.0
		if r.At(j, j) < 0 {
			sign = -1
		}
		for i := range tall {
			v := F(sign * q.At(i, j))
			if rows < cols {
				s[j*cols+i] = v
			} else {
				s[i*cols+j] = v
			}
		}
	}
}

// layerTrace is what one LSTM layer keeps of a forward pass for the
// backward pass. Matrices over time are time-major: step t of a batch of n
// occupies rows t*n to t*n+n-1.
type layerTrace[F float] struct {
	in    []F // the layer's input, T·n×in (aliases x or the layer below's dropped output)
	gates []F // activated gates i, f, g, o, T·n×4h; overwritten by their gradients
	cell  []F // cell state c, T·n×h
	act   []F // activation of the cell state, T·n×h
	out   []F // hidden state h, T·n×h
	drop  []F // out after dropout, T·n×h (layers that feed another layer)
	mask  []F // dropout multipliers, T·n×h (or n×h for the last layer)
	dout  []F // gradient of the loss w.r.t. out, T·n×h
	dc    []F // gradient w.r.t. the cell state carried backwards, n×h
	uT    []F // U transposed, 4h×h
	wT    []F // W transposed, 4h×in
}

// workspace holds every buffer a forward and backward pass over up to cap
// windows needs, so that training allocates nothing per batch.
type workspace[F float] struct {
	cap       int
	window    int
	inputs    int  // features per time step
	outputs   int  // network outputs, horizon × quantiles
	horizon   int  // days predicted
	quantiles []F  // the quantile levels
	n         int  // windows in the last forward pass
	dropped   bool // whether the last forward pass applied dropout
	x         []F  // inputs, T·n×inputs (time-major)
	ones      []F  // T·cap ones
	y         []F  // targets, n×horizon (scaled; 0 where not observed)
	observed  []F  // 1 where the target was observed, else 0, n×horizon
	layers    []layerTrace[F]
	head      []F // the dense layer's input, n×h
	pred      []F // predictions, n×outputs
	dpred     []F // gradient of the loss w.r.t. pred, n×outputs
	dwT       []F // the dense kernel transposed, outputs×h
}

func newWorkspace[F float](cfg Config, capacity int) *workspace[F] {
	T, O, H := cfg.Window, cfg.outputs(), cfg.Horizon
	ws := &workspace[F]{cap: capacity, window: T, inputs: cfg.inputs(), outputs: O, horizon: H,
		x: make([]F, T*capacity*cfg.inputs()), y: make([]F, capacity*H), observed: make([]F, capacity*H),
		pred: make([]F, capacity*O), dpred: make([]F, capacity*O)}
	for _, q := range cfg.Quantiles {
		ws.quantiles = append(ws.quantiles, F(q))
	}
	in := cfg.inputs()
	for _, h := range cfg.Layers {
		rows := T * capacity
		ws.layers = append(ws.layers, layerTrace[F]{
			gates: make([]F, rows*4*h),
			cell:  make([]F, rows*h),
			act:   make([]F, rows*h),
			out:   make([]F, rows*h),
			drop:  make([]F, rows*h),
			mask:  make([]F, rows*h),
			dout:  make([]F, rows*h),
			dc:    make([]F, capacity*h),
			uT:    make([]F, 4*h*h),
			wT:    make([]F, 4*h*in),
		})
		in = h
	}
	ws.head = make([]F, capacity*in)
	ws.dwT = make([]F, O*in)
	ws.ones = make([]F, T*capacity)
	for i := range ws.ones {
		ws.ones[i] = 1
	}
	return ws
}

// forward runs the network over the n windows in ws.x and leaves the
// predictions in ws.pred. With rng non-nil and dropout > 0 it applies
// dropout (training); otherwise it is the deterministic inference pass.
func forward[F float](ws *workspace[F], w weights[F], n int, relu bool, dropout float64, rng *rand.Rand) {
	T := ws.window
	in, inDim := ws.x[:T*n*ws.inputs], ws.inputs
	train := rng != nil && dropout > 0
	ws.n, ws.dropped = n, train
	for l, lw := range w.layers {
		tr := &ws.layers[l]
		tr.in = in
		h, g := lw.hid, 4*lw.hid
		gates := tr.gates[:T*n*g]
		for r := range T * n {
			copy(gates[r*g:r*g+g], lw.b)
		}
		gemm(T*n, g, inDim, in, inDim, lw.w, g, gates, g)
		for t := range T {
			step := gates[t*n*g : (t+1)*n*g]
			var prev []F
			if t > 0 {
				gemm(n, g, h, tr.out[(t-1)*n*h:], h, lw.u, g, step, g)
				prev = tr.cell[(t-1)*n*h : t*n*h]
			}
			cellForward(step, prev, tr.cell[t*n*h:(t+1)*n*h], tr.act[t*n*h:(t+1)*n*h], tr.out[t*n*h:(t+1)*n*h], h, relu)
		}
		if l == len(w.layers)-1 {
			last := tr.out[(T-1)*n*h : T*n*h]
			if train {
				dropoutMask(tr.mask[:n*h], dropout, rng)
				mulTo(ws.head[:n*h], last, tr.mask[:n*h])
			} else {
				copy(ws.head[:n*h], last)
			}
			break
		}
		in, inDim = tr.out[:T*n*h], h
		if train {
			dropoutMask(tr.mask[:T*n*h], dropout, rng)
			mulTo(tr.drop[:T*n*h], in, tr.mask[:T*n*h])
			in = tr.drop[:T*n*h]
		}
	}
	h, O := w.layers[len(w.layers)-1].hid, ws.outputs
	for r := range n {
		copy(ws.pred[r*O:r*O+O], w.db)
	}
	gemm(n, O, h, ws.head, h, w.dw, O, ws.pred, O)
}

// pinball is the quantile (pinball) loss of the last forward pass against
// the observed targets in ws.y: its sum over every observed target day and
// quantile, and the number of such terms. With grad it also sets ws.dpred to
// the gradient of the mean (the sum over the count) w.r.t. the predictions.
func pinball[F float](ws *workspace[F], grad bool) (sum float64, count int) {
	n, H, Q, O := ws.n, ws.horizon, len(ws.quantiles), ws.outputs
	for r := range n {
		for _, ob := range ws.observed[r*H : r*H+H] {
			if ob != 0 {
				count += Q
			}
		}
	}
	var scale F
	if count > 0 {
		scale = 1 / F(count)
	}
	for r := range n {
		for d := range H {
			p := ws.pred[r*O+d*Q : r*O+d*Q+Q]
			dp := ws.dpred[r*O+d*Q : r*O+d*Q+Q]
			if ws.observed[r*H+d] == 0 {
				if grad {
					clear(dp)
				}
				continue
			}
			y := ws.y[r*H+d]
			for q, level := range ws.quantiles {
				e := y - p[q]
				if e >= 0 {
					sum += float64(level * e)
					dp[q] = -level * scale
				} else {
					sum += float64((level - 1) * e)
					dp[q] = (1 - level) * scale
				}
			}
		}
	}
	return sum, count
}

// cellForward activates one time step's gate pre-activations in place and
// computes the cell state, its activation and the hidden state. prev is the
// previous cell state, nil at the first step. Without the AVX2/FMA kernel
// it runs here, in float64 arithmetic.
func cellForward[F float](z, prev, cell, act, out []F, h int, relu bool) {
	lo := cellForwardFast(z, prev, cell, act, out, h, relu)
	if lo == h {
		return
	}
	g := 4 * h
	for r := range len(cell) / h {
		zr := z[r*g : r*g+g]
		zi, zf, zc, zo := zr[:h], zr[h:2*h], zr[2*h:3*h], zr[3*h:g]
		cr, ar, or := cell[r*h:r*h+h], act[r*h:r*h+h], out[r*h:r*h+h]
		for j := lo; j < h; j++ {
			i, f, o := sigmoid(float64(zi[j])), sigmoid(float64(zf[j])), sigmoid(float64(zo[j]))
			c := activation(float64(zc[j]), relu)
			cv := i * c
			if prev != nil {
				cv += f * float64(prev[r*h+j])
			}
			a := activation(cv, relu)
			zi[j], zf[j], zc[j], zo[j] = F(i), F(f), F(c), F(o)
			cr[j], ar[j], or[j] = F(cv), F(a), F(o*a)
		}
	}
}

// backward accumulates into grad the gradient of the mean pinball loss of
// the last forward pass against the observed targets, and returns that loss
// (0 when no target was observed). It consumes the forward trace: the gates
// are overwritten by their gradients.
func backward[F float](ws *workspace[F], w, grad weights[F], relu bool) float64 {
	n, T, O := ws.n, ws.window, ws.outputs
	last := len(w.layers) - 1
	top := &ws.layers[last]
	hid := w.layers[last].hid
	sum, count := pinball(ws, true)
	if count == 0 {
		return 0
	}
	dtop := top.dout[:T*n*hid]
	clear(dtop)
	dpred := ws.dpred[:n*O]
	// db += the column sums of dpred, dw += headᵀ·dpred, dhead = dpred·dwᵀ.
	gemm(1, O, n, ws.ones, n, dpred, O, grad.db, O)
	gemmTN(hid, O, n, ws.head, hid, dpred, O, grad.dw, O)
	transpose(hid, O, w.dw, O, ws.dwT, hid)
	dhead := dtop[(T-1)*n*hid:]
	gemm(n, hid, O, dpred, O, ws.dwT, hid, dhead, hid)
	if ws.dropped {
		for i, m := range top.mask[:n*hid] {
			dhead[i] *= m
		}
	}
	for l := last; l >= 0; l-- {
		tr := &ws.layers[l]
		lw, gw := w.layers[l], grad.layers[l]
		h, g, in := lw.hid, 4*lw.hid, lw.in
		transpose(h, g, lw.u, g, tr.uT, h)
		dc := tr.dc[:n*h]
		clear(dc)
		for t := T - 1; t >= 0; t-- {
			step := tr.gates[t*n*g : (t+1)*n*g]
			var prev []F
			if t > 0 {
				prev = tr.cell[(t-1)*n*h : t*n*h]
			}
			cur := t * n * h
			cellBackward(step, prev, tr.cell[cur:cur+n*h], tr.act[cur:cur+n*h], tr.dout[cur:cur+n*h], dc, h, relu)
			if t > 0 {
				// The hidden state feeds the next step through U.
				gemm(n, h, g, step, g, tr.uT, h, tr.dout[(t-1)*n*h:], h)
			}
		}
		dz := tr.gates[:T*n*g]
		// dU += Σ_t h_{t-1}ᵀ·dz_t and dW += Σ_t x_tᵀ·dz_t, each as one product.
		gemmTN(h, g, (T-1)*n, tr.out, h, dz[n*g:], g, gw.u, g)
		gemmTN(in, g, T*n, tr.in, in, dz, g, gw.w, g)
		// db += the column sums of dz: a row of ones times dz.
		gemm(1, g, T*n, ws.ones, T*n, dz, g, gw.b, g)
		if l == 0 {
			break
		}
		below := &ws.layers[l-1]
		transpose(in, g, lw.w, g, tr.wT, in)
		dbelow := below.dout[:T*n*in]
		clear(dbelow)
		gemm(T*n, in, g, dz, g, tr.wT, in, dbelow, in)
		if ws.dropped {
			for i, m := range below.mask[:T*n*in] {
				dbelow[i] *= m
			}
		}
	}
	return sum / float64(count)
}

// cellBackward turns one time step's gradient w.r.t. the hidden state (dout)
// and the cell state carried from the next step (dc, updated in place to the
// gradient w.r.t. the previous cell state) into the gradient w.r.t. the gate
// pre-activations, written over the activated gates.
func cellBackward[F float](gates, prev, cell, act, dout, dc []F, h int, relu bool) {
	lo := cellBackwardFast(gates, prev, cell, act, dout, dc, h, relu)
	if lo == h {
		return
	}
	g := 4 * h
	for r := range len(cell) / h {
		zr := gates[r*g : r*g+g]
		gi, gf, gc, gout := zr[:h], zr[h:2*h], zr[2*h:3*h], zr[3*h:g]
		cr, ar, dr, dcr := cell[r*h:r*h+h], act[r*h:r*h+h], dout[r*h:r*h+h], dc[r*h:r*h+h]
		var pr []F
		if prev != nil {
			pr = prev[r*h : r*h+h]
		}
		for j := lo; j < h; j++ {
			i, f, c, o := gi[j], gf[j], gc[j], gout[j]
			a, dh := ar[j], dr[j]
			var da, dg F
			if relu {
				if cr[j] > 0 {
					da = 1
				}
				if c > 0 {
					dg = 1
				}
			} else {
				da, dg = 1-a*a, 1-c*c
			}
			dcv := dcr[j] + dh*o*da
			var p F
			if pr != nil {
				p = pr[j]
			}
			dcr[j] = dcv * f
			gi[j] = dcv * c * i * (1 - i)
			gf[j] = dcv * p * f * (1 - f)
			gc[j] = dcv * i * dg
			gout[j] = dh * a * o * (1 - o)
		}
	}
}

// dropoutMask fills m with inverted-dropout multipliers: 0 with probability
// p (to within 2⁻³²), 1/(1-p) otherwise. Each random word decides two
// elements.
func dropoutMask[F float](m []F, p float64, rng *rand.Rand) {
	keep := F(1 / (1 - p))
	cut := uint32(math.Min(p*(1<<32), math.MaxUint32))
	pick := func(u uint32) F {
		if u < cut {
			return 0
		}
		return keep
	}
	i := 0
	for ; i+1 < len(m); i += 2 {
		u := rng.Uint64()
		m[i], m[i+1] = pick(uint32(u)), pick(uint32(u>>32))
	}
	if i < len(m) {
		m[i] = pick(uint32(rng.Uint64()))
	}
}

// mulTo sets dst[i] = a[i]·b[i].
func mulTo[F float](dst, a, b []F) {
	b = b[:len(a)]
	dst = dst[:len(a)]
	for i, v := range a {
		dst[i] = v * b[i]
	}
}
