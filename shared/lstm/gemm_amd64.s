#include "textflag.h"

// func kernel4x8FMA(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int)
TEXT ·kernel4x8FMA(SB), NOSPLIT, $0-56
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R8
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), R9
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R10
	SHLQ $3, R8
	SHLQ $3, R9
	SHLQ $3, R10
	LEAQ (SI)(R8*1), R11
	LEAQ (R11)(R8*1), R12
	LEAQ (R12)(R8*1), R13
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	XORQ AX, AX

loop:
	TESTQ CX, CX
	JZ    done
	VMOVUPD      (DI), Y8
	VMOVUPD      32(DI), Y9
	VBROADCASTSD (SI)(AX*1), Y10
	VFMADD231PD  Y8, Y10, Y0
	VFMADD231PD  Y9, Y10, Y1
	VBROADCASTSD (R11)(AX*1), Y11
	VFMADD231PD  Y8, Y11, Y2
	VFMADD231PD  Y9, Y11, Y3
	VBROADCASTSD (R12)(AX*1), Y12
	VFMADD231PD  Y8, Y12, Y4
	VFMADD231PD  Y9, Y12, Y5
	VBROADCASTSD (R13)(AX*1), Y13
	VFMADD231PD  Y8, Y13, Y6
	VFMADD231PD  Y9, Y13, Y7
	ADDQ         $8, AX
	ADDQ         R9, DI
	DECQ         CX
	JMP          loop

done:
	VADDPD  (DX), Y0, Y0
	VADDPD  32(DX), Y1, Y1
	VMOVUPD Y0, (DX)
	VMOVUPD Y1, 32(DX)
	ADDQ    R10, DX
	VADDPD  (DX), Y2, Y2
	VADDPD  32(DX), Y3, Y3
	VMOVUPD Y2, (DX)
	VMOVUPD Y3, 32(DX)
	ADDQ    R10, DX
	VADDPD  (DX), Y4, Y4
	VADDPD  32(DX), Y5, Y5
	VMOVUPD Y4, (DX)
	VMOVUPD Y5, 32(DX)
	ADDQ    R10, DX
	VADDPD  (DX), Y6, Y6
	VADDPD  32(DX), Y7, Y7
	VMOVUPD Y6, (DX)
	VMOVUPD Y7, 32(DX)
	VZEROUPPER
	RET

// Lane masks: loading 8 quadwords at maskTable+8*(8-cols) gives -1 in the
// first cols lanes and 0 in the rest.
DATA maskTable<>+0(SB)/8, $-1
DATA maskTable<>+8(SB)/8, $-1
DATA maskTable<>+16(SB)/8, $-1
DATA maskTable<>+24(SB)/8, $-1
DATA maskTable<>+32(SB)/8, $-1
DATA maskTable<>+40(SB)/8, $-1
DATA maskTable<>+48(SB)/8, $-1
DATA maskTable<>+56(SB)/8, $-1
DATA maskTable<>+64(SB)/8, $0
DATA maskTable<>+72(SB)/8, $0
DATA maskTable<>+80(SB)/8, $0
DATA maskTable<>+88(SB)/8, $0
DATA maskTable<>+96(SB)/8, $0
DATA maskTable<>+104(SB)/8, $0
DATA maskTable<>+112(SB)/8, $0
DATA maskTable<>+120(SB)/8, $0
GLOBL maskTable<>(SB), RODATA|NOPTR, $128

// func kernelEdgeFMA(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, rows int, cols int)
//
// C[0:rows,0:cols] += A[0:rows,0:k]·B[0:k,0:cols] for 1 <= rows <= 4 and
// 1 <= cols <= 8. Rows past the last are computed from row 0 and never
// stored; columns past the last are masked on every load and store.
TEXT ·kernelEdgeFMA(SB), NOSPLIT, $0-72
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R8
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), R9
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R10
	MOVQ rows+56(FP), BX
	MOVQ cols+64(FP), R14
	SHLQ $3, R8
	SHLQ $3, R9
	SHLQ $3, R10

	// Column masks into Y11 (lanes 0-3) and Y12 (lanes 4-7).
	LEAQ    maskTable<>(SB), R15
	MOVQ    $8, AX
	SUBQ    R14, AX
	VMOVDQU (R15)(AX*8), Y11
	VMOVDQU 32(R15)(AX*8), Y12

	// Row pointers; missing rows alias row 0.
	MOVQ SI, R11
	MOVQ SI, R12
	MOVQ SI, R13
	CMPQ BX, $2
	JLT  rowsdone
	LEAQ (SI)(R8*1), R11
	CMPQ BX, $3
	JLT  rowsdone
	LEAQ (R11)(R8*1), R12
	CMPQ BX, $4
	JLT  rowsdone
	LEAQ (R12)(R8*1), R13

rowsdone:
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	XORQ   AX, AX

eloop:
	TESTQ        CX, CX
	JZ           edone
	VMASKMOVPD   (DI), Y11, Y8
	VMASKMOVPD   32(DI), Y12, Y9
	VBROADCASTSD (SI)(AX*1), Y10
	VFMADD231PD  Y8, Y10, Y0
	VFMADD231PD  Y9, Y10, Y1
	VBROADCASTSD (R11)(AX*1), Y10
	VFMADD231PD  Y8, Y10, Y2
	VFMADD231PD  Y9, Y10, Y3
	VBROADCASTSD (R12)(AX*1), Y10
	VFMADD231PD  Y8, Y10, Y4
	VFMADD231PD  Y9, Y10, Y5
	VBROADCASTSD (R13)(AX*1), Y10
	VFMADD231PD  Y8, Y10, Y6
	VFMADD231PD  Y9, Y10, Y7
	ADDQ         $8, AX
	ADDQ         R9, DI
	DECQ         CX
	JMP          eloop

edone:
	VMASKMOVPD (DX), Y11, Y8
	VMASKMOVPD 32(DX), Y12, Y9
	VADDPD     Y8, Y0, Y0
	VADDPD     Y9, Y1, Y1
	VMASKMOVPD Y0, Y11, (DX)
	VMASKMOVPD Y1, Y12, 32(DX)
	CMPQ       BX, $2
	JLT        ret
	ADDQ       R10, DX
	VMASKMOVPD (DX), Y11, Y8
	VMASKMOVPD 32(DX), Y12, Y9
	VADDPD     Y8, Y2, Y2
	VADDPD     Y9, Y3, Y3
	VMASKMOVPD Y2, Y11, (DX)
	VMASKMOVPD Y3, Y12, 32(DX)
	CMPQ       BX, $3
	JLT        ret
	ADDQ       R10, DX
	VMASKMOVPD (DX), Y11, Y8
	VMASKMOVPD 32(DX), Y12, Y9
	VADDPD     Y8, Y4, Y4
	VADDPD     Y9, Y5, Y5
	VMASKMOVPD Y4, Y11, (DX)
	VMASKMOVPD Y5, Y12, 32(DX)
	CMPQ       BX, $4
	JLT        ret
	ADDQ       R10, DX
	VMASKMOVPD (DX), Y11, Y8
	VMASKMOVPD 32(DX), Y12, Y9
	VADDPD     Y8, Y6, Y6
	VADDPD     Y9, Y7, Y7
	VMASKMOVPD Y6, Y11, (DX)
	VMASKMOVPD Y7, Y12, 32(DX)

ret:
	VZEROUPPER
	RET
