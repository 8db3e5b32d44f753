package lstm

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// hasFMA reports whether the AVX2/FMA kernels can run on this CPU.
var hasFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernel4x16FMA computes C[0:4,0:16] += A[0:4,0:k]·B[0:k,0:16] with A[r,p] at
// a[r*rs+p*ps] (gemm_amd64.s).
//
//go:noescape
func kernel4x16FMA(k int, a *float32, rs, ps int, b *float32, ldb int, c *float32, ldc int)

// kernelEdge16FMA is kernel4x16FMA for blocks of rows ≤ 4 and cols ≤ 16.
//
//go:noescape
func kernelEdge16FMA(k int, a *float32, rs, ps int, b *float32, ldb int, c *float32, ldc int, rows, cols int)

// logistic8FMA sets x[i] = mul/(1+exp(negScale·x[i])) + add for i < n.
//
//go:noescape
func logistic8FMA(x *float32, n int, negScale, mul, add float32)

// is32 reports whether F is float32-shaped and the FMA kernels can run.
func is32[F float]() bool {
	var zero F
	return hasFMA && unsafe.Sizeof(zero) == 4
}

// as32 views a slice of a float32-shaped type as []float32.
func as32[F float](s []F) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// gemmFast runs gemmStrided through the float32 AVX2/FMA kernels in 4×16
// blocks, column panels outermost, and reports whether it could.
func gemmFast[F float](m, n, k int, a []F, rs, ps int, b []F, ldb int, c []F, ldc int) bool {
	if !is32[F]() {
		return false
	}
	a32, b32, c32 := as32(a), as32(b), as32(c)
	for j := 0; j < n; j += 16 {
		cols := min(16, n-j)
		for i := 0; i < m; i += 4 {
			rows := min(4, m-i)
			if rows == 4 && cols == 16 {
				kernel4x16FMA(k, &a32[i*rs], rs, ps, &b32[j], ldb, &c32[i*ldc+j], ldc)
			} else {
				kernelEdge16FMA(k, &a32[i*rs], rs, ps, &b32[j], ldb, &c32[i*ldc+j], ldc, rows, cols)
			}
		}
	}
	return true
}

// logisticFast runs logistic through the float32 AVX2/FMA kernel and
// reports whether it could.
func logisticFast[F float](x []F, scale, mul, add float64) bool {
	if !is32[F]() {
		return false
	}
	if len(x) > 0 {
		logistic8FMA(&as32(x)[0], len(x), float32(-scale), float32(mul), float32(add))
	}
	return true
}
