//go:build amd64 && !purego

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

// kernel8x8FMA computes C[0:8,0:cols] += A[0:8,0:k]·B[0:k,0:cols] for cols
// ≤ 8, with A[r,p] at a[r*rs+p*ps].
//
//go:noescape
func kernel8x8FMA(k int, a *float32, rs, ps int, b *float32, ldb int, c *float32, ldc int, cols int)

// cellForward8FMA runs cellForward in float32; tail is h%8.
//
//go:noescape
func cellForward8FMA(z, prev, cell, act, out *float32, rows, h, relu, hasPrev, tail int)

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
// blocks (8×8 for a last panel of at most 8 columns), column panels
// outermost, and reports whether it could.
func gemmFast[F float](m, n, k int, a []F, rs, ps int, b []F, ldb int, c []F, ldc int) bool {
	if !is32[F]() {
		return false
	}
	a32, b32, c32 := as32(a), as32(b), as32(c)
	for j := 0; j < n; j += 16 {
		cols := min(16, n-j)
		i := 0
		if cols <= 8 {
			for ; i+8 <= m; i += 8 {
				kernel8x8FMA(k, &a32[i*rs], rs, ps, &b32[j], ldb, &c32[i*ldc+j], ldc, cols)
			}
		}
		for ; i < m; i += 4 {
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

// cellBackward8FMA runs cellBackward over the columns [0, h&^7) in float32.
//
//go:noescape
func cellBackward8FMA(gates, prev, cell, act, dout, dc *float32, rows, h, relu, hasPrev int)

// adam8FMA runs Adam's update over the first n&^7 parameters in float32.
//
//go:noescape
func adam8FMA(params, m, v, grad *float32, n int, alpha, b1, b2, eps float32)

// flag is 1 for true and 0 for false.
func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

// cellForwardFast runs cellForward through the float32 AVX2/FMA kernel and
// returns the number of leading columns of each row it did: all or none.
func cellForwardFast[F float](z, prev, cell, act, out []F, h int, relu bool) int {
	if !is32[F]() || len(cell) == 0 {
		return 0
	}
	p := cell // never read without hasPrev
	if prev != nil {
		p = prev
	}
	cellForward8FMA(&as32(z)[0], &as32(p)[0], &as32(cell)[0], &as32(act)[0], &as32(out)[0],
		len(cell)/h, h, flag(relu), flag(prev != nil), h%8)
	return h
}

// cellBackwardFast runs cellBackward through the float32 AVX2/FMA kernel
// and returns the number of leading columns of each row it did.
func cellBackwardFast[F float](gates, prev, cell, act, dout, dc []F, h int, relu bool) int {
	if !is32[F]() || h < 8 || len(cell) == 0 {
		return 0
	}
	p := cell // never read without hasPrev
	if prev != nil {
		p = prev
	}
	cellBackward8FMA(&as32(gates)[0], &as32(p)[0], &as32(cell)[0], &as32(act)[0], &as32(dout)[0], &as32(dc)[0],
		len(cell)/h, h, flag(relu), flag(prev != nil))
	return h &^ 7
}

// adamFast runs Adam's update through the float32 AVX2/FMA kernel and
// returns the number of leading parameters it did.
func adamFast[F float](params, m, v, g []F, alpha, b1, b2, eps F) int {
	n := len(params) &^ 7
	if !is32[F]() || n == 0 {
		return 0
	}
	adam8FMA(&as32(params)[0], &as32(m)[0], &as32(v)[0], &as32(g)[0], n, float32(alpha), float32(b1), float32(b2), float32(eps))
	return n
}
