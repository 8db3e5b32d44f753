package lstm

import (
	"math"
	"math/rand/v2"
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

func randSlice(rng *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = rng.NormFloat64()
	}
	return s
}

// TestGemmMatchesNaive checks the dispatched product (the AVX2 kernels for
// float32 where the CPU has them) and the portable one, in float32 and
// float64, against the naive loop over shapes that hit every ragged edge,
// with A read by rows (gemm) and by columns (gemmTN).
func TestGemmMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var shapes [][3]int
	for m := 1; m <= 9; m++ {
		for _, n := range []int{1, 3, 8, 15, 16, 17, 33} {
			for _, k := range []int{1, 2, 7} {
				shapes = append(shapes, [3]int{m, n, k})
			}
		}
	}
	shapes = append(shapes, [3]int{32, 200, 50}, [3]int{50, 200, 288}, [3]int{320, 50, 200}, [3]int{9, 13, 0})
	for _, s := range shapes {
		m, n, k := s[0], s[1], s[2]
		// Strides wider than the matrices check that padding is left alone.
		lda, ldb, ldc := k+3, n+5, n+2
		a := randSlice(rng, max(1, m*lda))
		b := randSlice(rng, max(1, k*ldb))
		c := randSlice(rng, m*ldc)
		at := make([]float64, max(1, k*(m+1)))
		transpose(m, k, a, lda, at, m+1)
		want := append([]float64(nil), c...)
		naiveGemm(m, n, k, a, lda, b, ldb, want, ldc)
		check := func(name string, got []float64, tol float64) {
			t.Helper()
			for i := range want {
				if math.Abs(got[i]-want[i]) > tol*(1+math.Abs(want[i])+math.Sqrt(float64(k))) {
					t.Fatalf("%s %dx%dx%d: c[%d] = %v, want %v", name, m, n, k, i, got[i], want[i])
				}
			}
		}
		got := append([]float64(nil), c...)
		gemm(m, n, k, a, lda, b, ldb, got, ldc)
		check("gemm float64", got, 1e-12)
		got = append(got[:0], c...)
		gemmTN(m, n, k, at, m+1, b, ldb, got, ldc)
		check("gemmTN float64", got, 1e-12)

		a32, at32, b32 := to32(a), to32(at), to32(b)
		for _, f := range []struct {
			name string
			run  func(c32 []float32)
		}{
			{"gemm float32", func(c32 []float32) { gemm(m, n, k, a32, lda, b32, ldb, c32, ldc) }},
			{"gemmTN float32", func(c32 []float32) { gemmTN(m, n, k, at32, m+1, b32, ldb, c32, ldc) }},
			{"portable float32", func(c32 []float32) { gemmGo(m, n, k, a32, lda, 1, b32, ldb, c32, ldc) }},
			{"portable TN float32", func(c32 []float32) { gemmGo(m, n, k, at32, 1, m+1, b32, ldb, c32, ldc) }},
		} {
			if k == 0 {
				continue // gemmGo is only ever called with k > 0
			}
			c32 := to32(c)
			f.run(c32)
			for i := range got {
				got[i] = float64(c32[i])
			}
			// Inputs rounded to float32 and float32 sums.
			exact := append([]float64(nil), c...)
			naiveGemm(m, n, k, to64(a32), lda, to64(b32), ldb, exact, ldc)
			for i := range exact {
				if math.Abs(got[i]-exact[i]) > 1e-6*(1+math.Abs(exact[i])+float64(k)) {
					t.Fatalf("%s %dx%dx%d: c[%d] = %v, want %v", f.name, m, n, k, i, got[i], exact[i])
				}
			}
		}
	}
}

func to32(s []float64) []float32 {
	out := make([]float32, len(s))
	for i, v := range s {
		out[i] = float32(v)
	}
	return out
}

func to64(s []float32) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out
}
