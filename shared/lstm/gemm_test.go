package lstm

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// naiveGemm is the textbook triple loop C += A·B, the reference for gemm.
func naiveGemm(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	for i := range m {
		for j := range n {
			var s float64
			for p := range k {
				s += a[i*lda+p] * b[p*ldb+j]
			}
			c[i*ldc+j] += s
		}
	}
}

// transposed returns the rows×cols matrix a (row stride lda) stored
// column by column: element (r, p) lands at p*rows+r.
func transposed(a []float64, rows, cols, lda int) []float64 {
	t := make([]float64, max(1, rows*cols))
	transpose(rows, cols, a, lda, t, rows)
	return t
}

func randSlice(rng *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = rng.NormFloat64()
	}
	return s
}

func TestGemmMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := [][3]int{{1, 1, 1}, {4, 8, 1}, {3, 7, 5}, {4, 8, 17}, {32, 200, 50}, {50, 200, 288}, {320, 200, 50}, {32, 50, 200}, {9, 13, 0}, {6, 19, 11}}
	for _, s := range shapes {
		m, n, k := s[0], s[1], s[2]
		// Strides wider than the matrices check that padding is left alone.
		lda, ldb, ldc := k+3, n+5, n+2
		a := randSlice(rng, max(1, m*lda))
		b := randSlice(rng, max(1, k*ldb))
		c0 := randSlice(rng, m*ldc)
		want := append([]float64(nil), c0...)
		naiveGemm(m, n, k, a, lda, b, ldb, want, ldc)
		got := append([]float64(nil), c0...)
		gemm(m, n, k, a, lda, b, ldb, got, ldc)
		// Aᵀ stored k×m with a padded stride gives the same product.
		at := make([]float64, max(1, k*(m+1)))
		transpose(m, k, a, lda, at, m+1)
		gotTN := append([]float64(nil), c0...)
		gemmTN(m, n, k, at, m+1, b, ldb, gotTN, ldc)
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-12*(1+math.Abs(want[i])) || math.Abs(gotTN[i]-want[i]) > 1e-12*(1+math.Abs(want[i])) {
				t.Fatalf("gemm %dx%dx%d: c[%d] = %v (TN %v), want %v", m, n, k, i, got[i], gotTN[i], want[i])
			}
		}
	}
}

// TestKernelsAgree checks the block kernels the CPU dispatches to and their
// portable versions against the naive product, for every edge shape, with A
// read row by row and column by column.
func TestKernelsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	type kernel func(rows, cols, k int, a []float64, rs, ps int, b []float64, ldb int, c []float64, ldc int)
	full := func(k4x8 func(int, []float64, int, int, []float64, int, []float64, int)) kernel {
		return func(_, _, k int, a []float64, rs, ps int, b []float64, ldb int, c []float64, ldc int) {
			k4x8(k, a, rs, ps, b, ldb, c, ldc)
		}
	}
	kernels := map[string]kernel{"edge": kernelEdge, "edge-go": gemmEdgeGo, "full": full(kernel4x8), "full-go": full(kernel4x8Go)}
	for name, kern := range kernels {
		for _, k := range []int{0, 1, 2, 7, 50, 301} {
			for rows := 1; rows <= 4; rows++ {
				for cols := 1; cols <= 8; cols++ {
					if strings.HasPrefix(name, "full") && (rows != 4 || cols != 8) {
						continue
					}
					lda, ldb, ldc := k+1, 11, 9
					a := randSlice(rng, 4*lda)
					b := randSlice(rng, max(1, k)*ldb)
					c := randSlice(rng, 4*ldc)
					want := append([]float64(nil), c...)
					naiveGemm(rows, cols, k, a, lda, b, ldb, want, ldc)
					got := append([]float64(nil), c...)
					kern(rows, cols, k, a, lda, 1, b, ldb, got, ldc)
					gotT := append([]float64(nil), c...)
					kern(rows, cols, k, transposed(a, 4, k, lda), 1, 4, b, ldb, gotT, ldc)
					for i := range want {
						if math.Abs(got[i]-want[i]) > 1e-12*(1+math.Abs(want[i])) || math.Abs(gotT[i]-want[i]) > 1e-12*(1+math.Abs(want[i])) {
							t.Fatalf("%s %dx%d k=%d: c[%d] = %v (A by columns %v), want %v", name, rows, cols, k, i, got[i], gotT[i], want[i])
						}
					}
				}
			}
		}
	}
}
