//go:build !amd64

package lstm

// gemmFast reports that there is no vector kernel on this architecture.
func gemmFast[F float](m, n, k int, a []F, rs, ps int, b []F, ldb int, c []F, ldc int) bool {
	return false
}

// logisticFast reports that there is no vector kernel on this architecture.
func logisticFast[F float](x []F, scale, mul, add float64) bool { return false }
