//go:build !amd64 || purego

package lstm

// gemmFast reports that there is no vector kernel on this architecture.
func gemmFast[F float](m, n, k int, a []F, rs, ps int, b []F, ldb int, c []F, ldc int) bool {
	return false
}

// cellForwardFast reports that there is no vector kernel on this architecture.
func cellForwardFast[F float](z, prev, cell, act, out []F, h int, relu bool) int { return 0 }

// cellBackwardFast reports that there is no vector kernel on this architecture.
func cellBackwardFast[F float](gates, prev, cell, act, dout, dc []F, h int, relu bool) int { return 0 }

// adamFast reports that there is no vector kernel on this architecture.
func adamFast[F float](params, m, v, g []F, alpha, b1, b2, eps F) int { return 0 }
