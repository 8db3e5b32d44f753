//go:build !amd64

package lstm

// kernel4x8 computes C[0:4,0:8] += A[0:4,0:k]·B[0:k,0:8] with A[r,p] at a[r*rs+p*ps].
func kernel4x8(k int, a []float64, rs, ps int, b []float64, ldb int, c []float64, ldc int) {
	kernel4x8Go(k, a, rs, ps, b, ldb, c, ldc)
}

// kernelEdge computes C[0:rows,0:cols] += A[0:rows,0:k]·B[0:k,0:cols] with A[r,p] at a[r*rs+p*ps].
func kernelEdge(rows, cols, k int, a []float64, rs, ps int, b []float64, ldb int, c []float64, ldc int) {
	gemmEdgeGo(rows, cols, k, a, rs, ps, b, ldb, c, ldc)
}

// logistic sets x[i] = mul/(1+exp(-scale·x[i])) + add.
func logistic(x []float64, scale, mul, add float64) { logisticGo(x, scale, mul, add) }
