package lstm

import "golang.org/x/sys/cpu"

// hasFMA reports whether the AVX2/FMA kernel can run on this CPU.
var hasFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernel4x8FMA is kernel4x8 in AVX2/FMA assembly (gemm_amd64.s): the 4×8
// block lives in eight YMM accumulators for the whole k loop.
//
//go:noescape
func kernel4x8FMA(k int, a *float64, rs, ps int, b *float64, ldb int, c *float64, ldc int)

// kernel4x8 computes C[0:4,0:8] += A[0:4,0:k]·B[0:k,0:8] with A[r,p] at
// a[r*rs+p*ps]; the caller has checked the bounds.
func kernel4x8(k int, a []float64, rs, ps int, b []float64, ldb int, c []float64, ldc int) {
	if hasFMA {
		kernel4x8FMA(k, &a[0], rs, ps, &b[0], ldb, &c[0], ldc)
		return
	}
	kernel4x8Go(k, a, rs, ps, b, ldb, c, ldc)
}

// kernelEdgeFMA is kernelEdge in AVX2/FMA assembly with masked columns.
//
//go:noescape
func kernelEdgeFMA(k int, a *float64, rs, ps int, b *float64, ldb int, c *float64, ldc int, rows, cols int)

// kernelEdge computes C[0:rows,0:cols] += A[0:rows,0:k]·B[0:k,0:cols] for
// blocks of at most 4×8, with A[r,p] at a[r*rs+p*ps]; the caller has checked
// the bounds.
func kernelEdge(rows, cols, k int, a []float64, rs, ps int, b []float64, ldb int, c []float64, ldc int) {
	if hasFMA {
		kernelEdgeFMA(k, &a[0], rs, ps, &b[0], ldb, &c[0], ldc, rows, cols)
		return
	}
	gemmEdgeGo(rows, cols, k, a, rs, ps, b, ldb, c, ldc)
}

// logisticFMA is logistic in AVX2/FMA assembly, for any n.
//
//go:noescape
func logisticFMA(x *float64, n int, negScale, mul, add float64)

// logistic sets x[i] = mul/(1+exp(-scale·x[i])) + add.
func logistic(x []float64, scale, mul, add float64) {
	if hasFMA && len(x) > 0 {
		logisticFMA(&x[0], len(x), -scale, mul, add)
		return
	}
	logisticGo(x, scale, mul, add)
}
