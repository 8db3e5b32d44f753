//go:build !amd64

package lstm

// gemmFast reports that there is no vector kernel on this architecture.
func gemmFast[F float](m, n, k int, a []F, rs, ps int, b []F, ldb int, c []F, ldc int) bool {
	return false
}

// logisticFast reports that there is no vector kernel on this architecture.
func logisticFast[F float](x []F, scale, mul, add float64) bool { return false }

// cellBackwardFast reports that there is no vector kernel on this architecture.
func cellBackwardFast[F float](gates, prev, cell, act, dout, dc []F, h int, relu bool) int { return 0 }

// adamFast reports that there is no vector kernel on this architecture.
func adamFast[F float](params, m, v, g []F, alpha, b1, b2, eps F) int { return 0 }
