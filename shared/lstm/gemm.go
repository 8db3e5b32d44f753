package lstm

// float is the element type of the network: float32 for training and
// serving, float64 for the gradient check.
type float interface{ ~float32 | ~float64 }

// gemm computes C += A·B for row-major matrices: A is m×k with row stride
// lda, B is k×n with row stride ldb and C is m×n with row stride ldc.
func gemm[F float](m, n, k int, a []F, lda int, b []F, ldb int, c []F, ldc int) {
	gemmStrided(m, n, k, a, lda, 1, b, ldb, c, ldc)
}

// gemmTN computes C += Aᵀ·B where A is stored row-major as k×m with row
// stride lda, so that no transpose of A is ever materialised.
func gemmTN[F float](m, n, k int, a []F, lda int, b []F, ldb int, c []F, ldc int) {
	gemmStrided(m, n, k, a, 1, lda, b, ldb, c, ldc)
}

// gemmStrided computes C += A·B where A[i,p] is a[i*rs+p*ps], B is k×n
// row-major with row stride ldb and C is m×n with row stride ldc. float32
// products run through the AVX2/FMA kernels where the CPU has them, the
// rest through gemmGo.
func gemmStrided[F float](m, n, k int, a []F, rs, ps int, b []F, ldb int, c []F, ldc int) {
	if m == 0 || n == 0 || k == 0 {
		return
	}
	// Bounds are checked once here so the kernels can index freely.
	_ = a[(m-1)*rs+(k-1)*ps]
	_ = b[(k-1)*ldb+n-1]
	_ = c[(m-1)*ldc+n-1]
	if !gemmFast(m, n, k, a, rs, ps, b, ldb, c, ldc) {
		gemmGo(m, n, k, a, rs, ps, b, ldb, c, ldc)
	}
}

// gemmGo is the portable gemmStrided: 4×8 blocks of C by kernel4x8Go, the
// ragged edges by gemmEdgeGo. Column panels are the outer loop so that a
// panel of B stays in the L1 cache while every row block of A passes over it.
func gemmGo[F float](m, n, k int, a []F, rs, ps int, b []F, ldb int, c []F, ldc int) {
	for j := 0; j < n; j += 8 {
		cols := min(8, n-j)
		for i := 0; i < m; i += 4 {
			rows := min(4, m-i)
			if rows == 4 && cols == 8 {
				kernel4x8Go(k, a[i*rs:], rs, ps, b[j:], ldb, c[i*ldc+j:], ldc)
			} else {
				gemmEdgeGo(rows, cols, k, a[i*rs:], rs, ps, b[j:], ldb, c[i*ldc+j:], ldc)
			}
		}
	}
}

// gemmEdgeGo is the plain C += A·B with A[i,p] at a[i*rs+p*ps], for the
// ragged blocks.
func gemmEdgeGo[F float](m, n, k int, a []F, rs, ps int, b []F, ldb int, c []F, ldc int) {
	for i := range m {
		ci := c[i*ldc : i*ldc+n]
		for p := range k {
			av := a[i*rs+p*ps]
			bp := b[p*ldb : p*ldb+n]
			for j, bv := range bp {
				ci[j] += av * bv
			}
		}
	}
}

// kernel4x8Go computes C[0:4,0:8] += A[0:4,0:k]·B[0:k,0:8] with A[r,p] at
// a[r*rs+p*ps], keeping one row of the block in locals at a time.
func kernel4x8Go[F float](k int, a []F, rs, ps int, b []F, ldb int, c []F, ldc int) {
	for r := range 4 {
		cr := c[r*ldc : r*ldc+8]
		c0, c1, c2, c3, c4, c5, c6, c7 := cr[0], cr[1], cr[2], cr[3], cr[4], cr[5], cr[6], cr[7]
		for p := range k {
			av := a[r*rs+p*ps]
			bp := b[p*ldb : p*ldb+8]
			c0 += av * bp[0]
			c1 += av * bp[1]
			c2 += av * bp[2]
			c3 += av * bp[3]
			c4 += av * bp[4]
			c5 += av * bp[5]
			c6 += av * bp[6]
			c7 += av * bp[7]
		}
		cr[0], cr[1], cr[2], cr[3], cr[4], cr[5], cr[6], cr[7] = c0, c1, c2, c3, c4, c5, c6, c7
	}
}

// transpose writes the transpose of the rows×cols row-major matrix src
// (row stride lds) into dst (cols×rows, row stride ldd).
func transpose[F float](rows, cols int, src []F, lds int, dst []F, ldd int) {
	for i := range rows {
		s := src[i*lds : i*lds+cols]
		for j, v := range s {
			dst[j*ldd+i] = v
		}
	}
}
