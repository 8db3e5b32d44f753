//go:build amd64 && !purego

#include "textflag.h"

// The float32 kernels. Go asm operand order: sources first, destination last.

// func kernel4x16FMA(k int, a *float32, rs, ps int, b *float32, ldb int, c *float32, ldc int)
//
// C[0:4,0:16] += A[0:4,0:k]·B[0:k,0:16], where A[r,p] is a[r*rs+p*ps]. The
// block lives in eight YMM accumulators for the whole k loop.
TEXT ·kernel4x16FMA(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rs+16(FP), R8
	MOVQ ps+24(FP), R14
	MOVQ b+32(FP), DI
	MOVQ ldb+40(FP), R9
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R10
	SHLQ $2, R8
	SHLQ $2, R14
	SHLQ $2, R9
	SHLQ $2, R10
	LEAQ (SI)(R8*1), R11
	LEAQ (R11)(R8*1), R12
	LEAQ (R12)(R8*1), R13
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ   AX, AX

floop:
	TESTQ        CX, CX
	JZ           fdone
	VMOVUPS      (DI), Y8
	VMOVUPS      32(DI), Y9
	VBROADCASTSS (SI)(AX*1), Y10
	VFMADD231PS  Y8, Y10, Y0
	VFMADD231PS  Y9, Y10, Y1
	VBROADCASTSS (R11)(AX*1), Y10
	VFMADD231PS  Y8, Y10, Y2
	VFMADD231PS  Y9, Y10, Y3
	VBROADCASTSS (R12)(AX*1), Y10
	VFMADD231PS  Y8, Y10, Y4
	VFMADD231PS  Y9, Y10, Y5
	VBROADCASTSS (R13)(AX*1), Y10
	VFMADD231PS  Y8, Y10, Y6
	VFMADD231PS  Y9, Y10, Y7
	ADDQ         R14, AX
	ADDQ         R9, DI
	DECQ         CX
	JMP          floop

fdone:
	VADDPS  (DX), Y0, Y0
	VADDPS  32(DX), Y1, Y1
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	ADDQ    R10, DX
	VADDPS  (DX), Y2, Y2
	VADDPS  32(DX), Y3, Y3
	VMOVUPS Y2, (DX)
	VMOVUPS Y3, 32(DX)
	ADDQ    R10, DX
	VADDPS  (DX), Y4, Y4
	VADDPS  32(DX), Y5, Y5
	VMOVUPS Y4, (DX)
	VMOVUPS Y5, 32(DX)
	ADDQ    R10, DX
	VADDPS  (DX), Y6, Y6
	VADDPS  32(DX), Y7, Y7
	VMOVUPS Y6, (DX)
	VMOVUPS Y7, 32(DX)
	VZEROUPPER
	RET

// Lane masks: 8 dwords loaded at maskTable+4*(16-n) have -1 in the first n
// lanes (n <= 8) and 0 in the rest; 16 dwords give masks for up to 16 lanes.

DATA maskTable<>+0(SB)/4, $-1
DATA maskTable<>+4(SB)/4, $-1
DATA maskTable<>+8(SB)/4, $-1
DATA maskTable<>+12(SB)/4, $-1
DATA maskTable<>+16(SB)/4, $-1
DATA maskTable<>+20(SB)/4, $-1
DATA maskTable<>+24(SB)/4, $-1
DATA maskTable<>+28(SB)/4, $-1
DATA maskTable<>+32(SB)/4, $-1
DATA maskTable<>+36(SB)/4, $-1
DATA maskTable<>+40(SB)/4, $-1
DATA maskTable<>+44(SB)/4, $-1
DATA maskTable<>+48(SB)/4, $-1
DATA maskTable<>+52(SB)/4, $-1
DATA maskTable<>+56(SB)/4, $-1
DATA maskTable<>+60(SB)/4, $-1
DATA maskTable<>+64(SB)/4, $0
DATA maskTable<>+68(SB)/4, $0
DATA maskTable<>+72(SB)/4, $0
DATA maskTable<>+76(SB)/4, $0
DATA maskTable<>+80(SB)/4, $0
DATA maskTable<>+84(SB)/4, $0
DATA maskTable<>+88(SB)/4, $0
DATA maskTable<>+92(SB)/4, $0
DATA maskTable<>+96(SB)/4, $0
DATA maskTable<>+100(SB)/4, $0
DATA maskTable<>+104(SB)/4, $0
DATA maskTable<>+108(SB)/4, $0
DATA maskTable<>+112(SB)/4, $0
DATA maskTable<>+116(SB)/4, $0
DATA maskTable<>+120(SB)/4, $0
DATA maskTable<>+124(SB)/4, $0
GLOBL maskTable<>(SB), RODATA|NOPTR, $128

// func kernelEdge16FMA(k int, a *float32, rs, ps int, b *float32, ldb int, c *float32, ldc int, rows int, cols int)
//
// C[0:rows,0:cols] += A[0:rows,0:k]·B[0:k,0:cols] for 1 <= rows <= 4 and
// 1 <= cols <= 16, where A[r,p] is a[r*rs+p*ps]. Rows past the last are
// computed from row 0 and never stored; columns past the last are masked on
// every load and store.
TEXT ·kernelEdge16FMA(SB), NOSPLIT, $0-80
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rs+16(FP), R8
	MOVQ b+32(FP), DI
	MOVQ ldb+40(FP), R9
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R10
	MOVQ rows+64(FP), BX
	MOVQ cols+72(FP), R14
	SHLQ $2, R8
	SHLQ $2, R9
	SHLQ $2, R10

	// Column masks into Y11 (lanes 0-7) and Y12 (lanes 8-15).
	LEAQ    maskTable<>(SB), R15
	MOVQ    $16, AX
	SUBQ    R14, AX
	VMOVDQU (R15)(AX*4), Y11
	VMOVDQU 32(R15)(AX*4), Y12
	MOVQ    ps+24(FP), R14
	SHLQ    $2, R14

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
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ   AX, AX

eloop:
	TESTQ        CX, CX
	JZ           edone
	VMASKMOVPS   (DI), Y11, Y8
	VMASKMOVPS   32(DI), Y12, Y9
	VBROADCASTSS (SI)(AX*1), Y10
	VFMADD231PS  Y8, Y10, Y0
	VFMADD231PS  Y9, Y10, Y1
	VBROADCASTSS (R11)(AX*1), Y10
	VFMADD231PS  Y8, Y10, Y2
	VFMADD231PS  Y9, Y10, Y3
	VBROADCASTSS (R12)(AX*1), Y10
	VFMADD231PS  Y8, Y10, Y4
	VFMADD231PS  Y9, Y10, Y5
	VBROADCASTSS (R13)(AX*1), Y10
	VFMADD231PS  Y8, Y10, Y6
	VFMADD231PS  Y9, Y10, Y7
	ADDQ         R14, AX
	ADDQ         R9, DI
	DECQ         CX
	JMP          eloop

edone:
	VMASKMOVPS (DX), Y11, Y8
	VMASKMOVPS 32(DX), Y12, Y9
	VADDPS     Y8, Y0, Y0
	VADDPS     Y9, Y1, Y1
	VMASKMOVPS Y0, Y11, (DX)
	VMASKMOVPS Y1, Y12, 32(DX)
	CMPQ       BX, $2
	JLT        ret
	ADDQ       R10, DX
	VMASKMOVPS (DX), Y11, Y8
	VMASKMOVPS 32(DX), Y12, Y9
	VADDPS     Y8, Y2, Y2
	VADDPS     Y9, Y3, Y3
	VMASKMOVPS Y2, Y11, (DX)
	VMASKMOVPS Y3, Y12, 32(DX)
	CMPQ       BX, $3
	JLT        ret
	ADDQ       R10, DX
	VMASKMOVPS (DX), Y11, Y8
	VMASKMOVPS 32(DX), Y12, Y9
	VADDPS     Y8, Y4, Y4
	VADDPS     Y9, Y5, Y5
	VMASKMOVPS Y4, Y11, (DX)
	VMASKMOVPS Y5, Y12, 32(DX)
	CMPQ       BX, $4
	JLT        ret
	ADDQ       R10, DX
	VMASKMOVPS (DX), Y11, Y8
	VMASKMOVPS 32(DX), Y12, Y9
	VADDPS     Y8, Y6, Y6
	VADDPS     Y9, Y7, Y7
	VMASKMOVPS Y6, Y11, (DX)
	VMASKMOVPS Y7, Y12, 32(DX)

ret:
	VZEROUPPER
	RET

// func kernel8x8FMA(k int, a *float32, rs, ps int, b *float32, ldb int, c *float32, ldc int, cols int)
//
// C[0:8,0:cols] += A[0:8,0:k]·B[0:k,0:cols] for 1 <= cols <= 8, where A[r,p]
// is a[r*rs+p*ps]: the narrow column panels, eight rows at a time so that
// eight accumulators keep the FMA units busy. Columns past the last are
// masked on every load and store.
TEXT ·kernel8x8FMA(SB), NOSPLIT, $0-72
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rs+16(FP), R8
	MOVQ ps+24(FP), R14
	MOVQ b+32(FP), DI
	MOVQ ldb+40(FP), R9
	SHLQ $2, R8
	SHLQ $2, R14
	SHLQ $2, R9

	// Column mask into Y8.
	LEAQ    maskTable<>(SB), AX
	MOVQ    $16, R10
	SUBQ    cols+64(FP), R10
	VMOVDQU (AX)(R10*4), Y8

	// Row pointers.
	LEAQ (SI)(R8*1), R10
	LEAQ (SI)(R8*2), R11
	LEAQ (R10)(R8*2), R12
	LEAQ (SI)(R8*4), R13
	LEAQ (R13)(R8*1), BX
	LEAQ (R13)(R8*2), DX
	LEAQ (BX)(R8*2), R8

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ   AX, AX

nloop:
	TESTQ      CX, CX
	JZ         ndone
	VMASKMOVPS (DI), Y8, Y10
	VBROADCASTSS (SI)(AX*1), Y9
	VFMADD231PS  Y10, Y9, Y0
	VBROADCASTSS (R10)(AX*1), Y9
	VFMADD231PS  Y10, Y9, Y1
	VBROADCASTSS (R11)(AX*1), Y9
	VFMADD231PS  Y10, Y9, Y2
	VBROADCASTSS (R12)(AX*1), Y9
	VFMADD231PS  Y10, Y9, Y3
	VBROADCASTSS (R13)(AX*1), Y9
	VFMADD231PS  Y10, Y9, Y4
	VBROADCASTSS (BX)(AX*1), Y9
	VFMADD231PS  Y10, Y9, Y5
	VBROADCASTSS (DX)(AX*1), Y9
	VFMADD231PS  Y10, Y9, Y6
	VBROADCASTSS (R8)(AX*1), Y9
	VFMADD231PS  Y10, Y9, Y7
	ADDQ       R14, AX
	ADDQ       R9, DI
	DECQ       CX
	JMP        nloop

ndone:
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R10
	SHLQ $2, R10
	VMASKMOVPS (DX), Y8, Y9
	VADDPS     Y9, Y0, Y0
	VMASKMOVPS Y0, Y8, (DX)
	ADDQ       R10, DX
	VMASKMOVPS (DX), Y8, Y9
	VADDPS     Y9, Y1, Y1
	VMASKMOVPS Y1, Y8, (DX)
	ADDQ       R10, DX
	VMASKMOVPS (DX), Y8, Y9
	VADDPS     Y9, Y2, Y2
	VMASKMOVPS Y2, Y8, (DX)
	ADDQ       R10, DX
	VMASKMOVPS (DX), Y8, Y9
	VADDPS     Y9, Y3, Y3
	VMASKMOVPS Y3, Y8, (DX)
	ADDQ       R10, DX
	VMASKMOVPS (DX), Y8, Y9
	VADDPS     Y9, Y4, Y4
	VMASKMOVPS Y4, Y8, (DX)
	ADDQ       R10, DX
	VMASKMOVPS (DX), Y8, Y9
	VADDPS     Y9, Y5, Y5
	VMASKMOVPS Y5, Y8, (DX)
	ADDQ       R10, DX
	VMASKMOVPS (DX), Y8, Y9
	VADDPS     Y9, Y6, Y6
	VMASKMOVPS Y6, Y8, (DX)
	ADDQ       R10, DX
	VMASKMOVPS (DX), Y8, Y9
	VADDPS     Y9, Y7, Y7
	VMASKMOVPS Y7, Y8, (DX)
	VZEROUPPER
	RET

// Constants of the exponential in cellForward8FMA, each in eight lanes.
DATA expConst<>+0(SB)/4, $0x42ae0000
DATA expConst<>+4(SB)/4, $0x42ae0000
DATA expConst<>+8(SB)/4, $0x42ae0000
DATA expConst<>+12(SB)/4, $0x42ae0000
DATA expConst<>+16(SB)/4, $0x42ae0000
DATA expConst<>+20(SB)/4, $0x42ae0000
DATA expConst<>+24(SB)/4, $0x42ae0000
DATA expConst<>+28(SB)/4, $0x42ae0000
DATA expConst<>+32(SB)/4, $0xc2ae0000
DATA expConst<>+36(SB)/4, $0xc2ae0000
DATA expConst<>+40(SB)/4, $0xc2ae0000
DATA expConst<>+44(SB)/4, $0xc2ae0000
DATA expConst<>+48(SB)/4, $0xc2ae0000
DATA expConst<>+52(SB)/4, $0xc2ae0000
DATA expConst<>+56(SB)/4, $0xc2ae0000
DATA expConst<>+60(SB)/4, $0xc2ae0000
DATA expConst<>+64(SB)/4, $0x3fb8aa3b
DATA expConst<>+68(SB)/4, $0x3fb8aa3b
DATA expConst<>+72(SB)/4, $0x3fb8aa3b
DATA expConst<>+76(SB)/4, $0x3fb8aa3b
DATA expConst<>+80(SB)/4, $0x3fb8aa3b
DATA expConst<>+84(SB)/4, $0x3fb8aa3b
DATA expConst<>+88(SB)/4, $0x3fb8aa3b
DATA expConst<>+92(SB)/4, $0x3fb8aa3b
DATA expConst<>+96(SB)/4, $0x3f318000
DATA expConst<>+100(SB)/4, $0x3f318000
DATA expConst<>+104(SB)/4, $0x3f318000
DATA expConst<>+108(SB)/4, $0x3f318000
DATA expConst<>+112(SB)/4, $0x3f318000
DATA expConst<>+116(SB)/4, $0x3f318000
DATA expConst<>+120(SB)/4, $0x3f318000
DATA expConst<>+124(SB)/4, $0x3f318000
DATA expConst<>+128(SB)/4, $0xb95e8083
DATA expConst<>+132(SB)/4, $0xb95e8083
DATA expConst<>+136(SB)/4, $0xb95e8083
DATA expConst<>+140(SB)/4, $0xb95e8083
DATA expConst<>+144(SB)/4, $0xb95e8083
DATA expConst<>+148(SB)/4, $0xb95e8083
DATA expConst<>+152(SB)/4, $0xb95e8083
DATA expConst<>+156(SB)/4, $0xb95e8083
DATA expConst<>+160(SB)/4, $0x3f800000
DATA expConst<>+164(SB)/4, $0x3f800000
DATA expConst<>+168(SB)/4, $0x3f800000
DATA expConst<>+172(SB)/4, $0x3f800000
DATA expConst<>+176(SB)/4, $0x3f800000
DATA expConst<>+180(SB)/4, $0x3f800000
DATA expConst<>+184(SB)/4, $0x3f800000
DATA expConst<>+188(SB)/4, $0x3f800000
DATA expConst<>+192(SB)/4, $0x40000000
DATA expConst<>+196(SB)/4, $0x40000000
DATA expConst<>+200(SB)/4, $0x40000000
DATA expConst<>+204(SB)/4, $0x40000000
DATA expConst<>+208(SB)/4, $0x40000000
DATA expConst<>+212(SB)/4, $0x40000000
DATA expConst<>+216(SB)/4, $0x40000000
DATA expConst<>+220(SB)/4, $0x40000000
DATA expConst<>+224(SB)/4, $0xbf800000
DATA expConst<>+228(SB)/4, $0xbf800000
DATA expConst<>+232(SB)/4, $0xbf800000
DATA expConst<>+236(SB)/4, $0xbf800000
DATA expConst<>+240(SB)/4, $0xbf800000
DATA expConst<>+244(SB)/4, $0xbf800000
DATA expConst<>+248(SB)/4, $0xbf800000
DATA expConst<>+252(SB)/4, $0xbf800000
DATA expConst<>+256(SB)/4, $0xc0000000
DATA expConst<>+260(SB)/4, $0xc0000000
DATA expConst<>+264(SB)/4, $0xc0000000
DATA expConst<>+268(SB)/4, $0xc0000000
DATA expConst<>+272(SB)/4, $0xc0000000
DATA expConst<>+276(SB)/4, $0xc0000000
DATA expConst<>+280(SB)/4, $0xc0000000
DATA expConst<>+284(SB)/4, $0xc0000000
DATA expConst<>+288(SB)/4, $0x3f800000
DATA expConst<>+292(SB)/4, $0x3f800000
DATA expConst<>+296(SB)/4, $0x3f800000
DATA expConst<>+300(SB)/4, $0x3f800000
DATA expConst<>+304(SB)/4, $0x3f800000
DATA expConst<>+308(SB)/4, $0x3f800000
DATA expConst<>+312(SB)/4, $0x3f800000
DATA expConst<>+316(SB)/4, $0x3f800000
DATA expConst<>+320(SB)/4, $0x3f800000
DATA expConst<>+324(SB)/4, $0x3f800000
DATA expConst<>+328(SB)/4, $0x3f800000
DATA expConst<>+332(SB)/4, $0x3f800000
DATA expConst<>+336(SB)/4, $0x3f800000
DATA expConst<>+340(SB)/4, $0x3f800000
DATA expConst<>+344(SB)/4, $0x3f800000
DATA expConst<>+348(SB)/4, $0x3f800000
DATA expConst<>+352(SB)/4, $0x3f000000
DATA expConst<>+356(SB)/4, $0x3f000000
DATA expConst<>+360(SB)/4, $0x3f000000
DATA expConst<>+364(SB)/4, $0x3f000000
DATA expConst<>+368(SB)/4, $0x3f000000
DATA expConst<>+372(SB)/4, $0x3f000000
DATA expConst<>+376(SB)/4, $0x3f000000
DATA expConst<>+380(SB)/4, $0x3f000000
DATA expConst<>+384(SB)/4, $0x3e2aaaab
DATA expConst<>+388(SB)/4, $0x3e2aaaab
DATA expConst<>+392(SB)/4, $0x3e2aaaab
DATA expConst<>+396(SB)/4, $0x3e2aaaab
DATA expConst<>+400(SB)/4, $0x3e2aaaab
DATA expConst<>+404(SB)/4, $0x3e2aaaab
DATA expConst<>+408(SB)/4, $0x3e2aaaab
DATA expConst<>+412(SB)/4, $0x3e2aaaab
DATA expConst<>+416(SB)/4, $0x3d2aaaab
DATA expConst<>+420(SB)/4, $0x3d2aaaab
DATA expConst<>+424(SB)/4, $0x3d2aaaab
DATA expConst<>+428(SB)/4, $0x3d2aaaab
DATA expConst<>+432(SB)/4, $0x3d2aaaab
DATA expConst<>+436(SB)/4, $0x3d2aaaab
DATA expConst<>+440(SB)/4, $0x3d2aaaab
DATA expConst<>+444(SB)/4, $0x3d2aaaab
DATA expConst<>+448(SB)/4, $0x3c088889
DATA expConst<>+452(SB)/4, $0x3c088889
DATA expConst<>+456(SB)/4, $0x3c088889
DATA expConst<>+460(SB)/4, $0x3c088889
DATA expConst<>+464(SB)/4, $0x3c088889
DATA expConst<>+468(SB)/4, $0x3c088889
DATA expConst<>+472(SB)/4, $0x3c088889
DATA expConst<>+476(SB)/4, $0x3c088889
DATA expConst<>+480(SB)/4, $0x3ab60b61
DATA expConst<>+484(SB)/4, $0x3ab60b61
DATA expConst<>+488(SB)/4, $0x3ab60b61
DATA expConst<>+492(SB)/4, $0x3ab60b61
DATA expConst<>+496(SB)/4, $0x3ab60b61
DATA expConst<>+500(SB)/4, $0x3ab60b61
DATA expConst<>+504(SB)/4, $0x3ab60b61
DATA expConst<>+508(SB)/4, $0x3ab60b61
DATA expConst<>+512(SB)/4, $0x39500d01
DATA expConst<>+516(SB)/4, $0x39500d01
DATA expConst<>+520(SB)/4, $0x39500d01
DATA expConst<>+524(SB)/4, $0x39500d01
DATA expConst<>+528(SB)/4, $0x39500d01
DATA expConst<>+532(SB)/4, $0x39500d01
DATA expConst<>+536(SB)/4, $0x39500d01
DATA expConst<>+540(SB)/4, $0x39500d01
DATA expConst<>+544(SB)/4, $127
DATA expConst<>+548(SB)/4, $127
DATA expConst<>+552(SB)/4, $127
DATA expConst<>+556(SB)/4, $127
DATA expConst<>+560(SB)/4, $127
DATA expConst<>+564(SB)/4, $127
DATA expConst<>+568(SB)/4, $127
DATA expConst<>+572(SB)/4, $127
GLOBL expConst<>(SB), RODATA|NOPTR, $576

// func cellForward8FMA(z, prev, cell, act, out *float32, rows, h, relu, hasPrev, tail int)
//
// cellForward over every row, eight columns at a time and the last h%8
// under a lane mask: rows of z are 4h wide (i, f, g, o pre-activations,
// activated in place), the other arrays h wide; prev is read only when
// hasPrev is set. tail must be h%8. The sigmoid
// is 1/(1+exp(-x)) and tanh is 2σ(2x)-1, with exp by Cody-Waite range
// reduction and a degree-7 Taylor polynomial (relative error about 1e-7,
// float32's own), its argument clamped to ±87.
TEXT ·cellForward8FMA(SB), NOSPLIT, $0-80
	MOVQ   z+0(FP), DI
	MOVQ   prev+8(FP), SI
	MOVQ   cell+16(FP), R8
	MOVQ   act+24(FP), R9
	MOVQ   out+32(FP), R10
	MOVQ   rows+40(FP), CX
	MOVQ   h+48(FP), R14
	MOVQ   relu+56(FP), R15
	MOVQ   hasPrev+64(FP), R11
	MOVQ   R14, DX
	ANDQ   $-8, DX
	SHLQ   $2, DX
	SHLQ   $2, R14
	VXORPS Y14, Y14, Y14
	LEAQ    maskTable<>(SB), R12
	MOVQ    $16, AX
	SUBQ    tail+72(FP), AX
	VMOVDQU (R12)(AX*4), Y7

frow:
	TESTQ CX, CX
	JZ    fdone
	LEAQ  (DI)(R14*1), R12
	LEAQ  (R12)(R14*1), R13
	LEAQ  (R13)(R14*1), BX
	XORQ  AX, AX

fcol:
	CMPQ    AX, DX
	JGE     ftailCheck

	// input and forget gates
	VMOVUPS (DI)(AX*1), Y6
	VMULPS       expConst<>+224(SB), Y6, Y0
	VMINPS       expConst<>+0(SB), Y0, Y0
	VMAXPS       expConst<>+32(SB), Y0, Y0
	VMULPS       expConst<>+64(SB), Y0, Y1
	VROUNDPS     $0, Y1, Y1
	VMOVAPS      Y0, Y2
	VFNMADD231PS expConst<>+96(SB), Y1, Y2
	VFNMADD231PS expConst<>+128(SB), Y1, Y2
	VMOVUPS      expConst<>+512(SB), Y3
	VFMADD213PS  expConst<>+480(SB), Y2, Y3
	VFMADD213PS  expConst<>+448(SB), Y2, Y3
	VFMADD213PS  expConst<>+416(SB), Y2, Y3
	VFMADD213PS  expConst<>+384(SB), Y2, Y3
	VFMADD213PS  expConst<>+352(SB), Y2, Y3
	VFMADD213PS  expConst<>+320(SB), Y2, Y3
	VFMADD213PS  expConst<>+288(SB), Y2, Y3
	VCVTPS2DQ    Y1, Y4
	VPADDD       expConst<>+544(SB), Y4, Y4
	VPSLLD       $23, Y4, Y4
	VMULPS       Y4, Y3, Y3
	VADDPS       expConst<>+160(SB), Y3, Y3
	VMOVUPS      expConst<>+160(SB), Y5
	VDIVPS       Y3, Y5, Y8
	VMOVUPS Y8, (DI)(AX*1)
	VMOVUPS (R12)(AX*1), Y6
	VMULPS       expConst<>+224(SB), Y6, Y0
	VMINPS       expConst<>+0(SB), Y0, Y0
	VMAXPS       expConst<>+32(SB), Y0, Y0
	VMULPS       expConst<>+64(SB), Y0, Y1
	VROUNDPS     $0, Y1, Y1
	VMOVAPS      Y0, Y2
	VFNMADD231PS expConst<>+96(SB), Y1, Y2
	VFNMADD231PS expConst<>+128(SB), Y1, Y2
	VMOVUPS      expConst<>+512(SB), Y3
	VFMADD213PS  expConst<>+480(SB), Y2, Y3
	VFMADD213PS  expConst<>+448(SB), Y2, Y3
	VFMADD213PS  expConst<>+416(SB), Y2, Y3
	VFMADD213PS  expConst<>+384(SB), Y2, Y3
	VFMADD213PS  expConst<>+352(SB), Y2, Y3
	VFMADD213PS  expConst<>+320(SB), Y2, Y3
	VFMADD213PS  expConst<>+288(SB), Y2, Y3
	VCVTPS2DQ    Y1, Y4
	VPADDD       expConst<>+544(SB), Y4, Y4
	VPSLLD       $23, Y4, Y4
	VMULPS       Y4, Y3, Y3
	VADDPS       expConst<>+160(SB), Y3, Y3
	VMOVUPS      expConst<>+160(SB), Y5
	VDIVPS       Y3, Y5, Y9
	VMOVUPS Y9, (R12)(AX*1)

	// cell gate
	VMOVUPS (R13)(AX*1), Y6
	TESTQ   R15, R15
	JNZ     freluG
	VMULPS       expConst<>+256(SB), Y6, Y0
	VMINPS       expConst<>+0(SB), Y0, Y0
	VMAXPS       expConst<>+32(SB), Y0, Y0
	VMULPS       expConst<>+64(SB), Y0, Y1
	VROUNDPS     $0, Y1, Y1
	VMOVAPS      Y0, Y2
	VFNMADD231PS expConst<>+96(SB), Y1, Y2
	VFNMADD231PS expConst<>+128(SB), Y1, Y2
	VMOVUPS      expConst<>+512(SB), Y3
	VFMADD213PS  expConst<>+480(SB), Y2, Y3
	VFMADD213PS  expConst<>+448(SB), Y2, Y3
	VFMADD213PS  expConst<>+416(SB), Y2, Y3
	VFMADD213PS  expConst<>+384(SB), Y2, Y3
	VFMADD213PS  expConst<>+352(SB), Y2, Y3
	VFMADD213PS  expConst<>+320(SB), Y2, Y3
	VFMADD213PS  expConst<>+288(SB), Y2, Y3
	VCVTPS2DQ    Y1, Y4
	VPADDD       expConst<>+544(SB), Y4, Y4
	VPSLLD       $23, Y4, Y4
	VMULPS       Y4, Y3, Y3
	VADDPS       expConst<>+160(SB), Y3, Y3
	VMOVUPS      expConst<>+192(SB), Y5
	VDIVPS       Y3, Y5, Y10
	VADDPS       expConst<>+224(SB), Y10, Y10
	JMP     fgDone

freluG:
	VMAXPS Y14, Y6, Y10

fgDone:
	VMOVUPS Y10, (R13)(AX*1)

	// cell state c = f·c_prev + i·g
	VMULPS      Y10, Y8, Y11
	TESTQ       R11, R11
	JZ          fnoPrev
	VMOVUPS     (SI)(AX*1), Y6
	VFMADD231PS Y6, Y9, Y11

fnoPrev:
	VMOVUPS Y11, (R8)(AX*1)

	// its activation
	TESTQ R15, R15
	JNZ   freluA
	VMULPS       expConst<>+256(SB), Y11, Y0
	VMINPS       expConst<>+0(SB), Y0, Y0
	VMAXPS       expConst<>+32(SB), Y0, Y0
	VMULPS       expConst<>+64(SB), Y0, Y1
	VROUNDPS     $0, Y1, Y1
	VMOVAPS      Y0, Y2
	VFNMADD231PS expConst<>+96(SB), Y1, Y2
	VFNMADD231PS expConst<>+128(SB), Y1, Y2
	VMOVUPS      expConst<>+512(SB), Y3
	VFMADD213PS  expConst<>+480(SB), Y2, Y3
	VFMADD213PS  expConst<>+448(SB), Y2, Y3
	VFMADD213PS  expConst<>+416(SB), Y2, Y3
	VFMADD213PS  expConst<>+384(SB), Y2, Y3
	VFMADD213PS  expConst<>+352(SB), Y2, Y3
	VFMADD213PS  expConst<>+320(SB), Y2, Y3
	VFMADD213PS  expConst<>+288(SB), Y2, Y3
	VCVTPS2DQ    Y1, Y4
	VPADDD       expConst<>+544(SB), Y4, Y4
	VPSLLD       $23, Y4, Y4
	VMULPS       Y4, Y3, Y3
	VADDPS       expConst<>+160(SB), Y3, Y3
	VMOVUPS      expConst<>+192(SB), Y5
	VDIVPS       Y3, Y5, Y12
	VADDPS       expConst<>+224(SB), Y12, Y12
	JMP   faDone

freluA:
	VMAXPS Y14, Y11, Y12

faDone:
	VMOVUPS Y12, (R9)(AX*1)

	// output gate and hidden state
	VMOVUPS (BX)(AX*1), Y6
	VMULPS       expConst<>+224(SB), Y6, Y0
	VMINPS       expConst<>+0(SB), Y0, Y0
	VMAXPS       expConst<>+32(SB), Y0, Y0
	VMULPS       expConst<>+64(SB), Y0, Y1
	VROUNDPS     $0, Y1, Y1
	VMOVAPS      Y0, Y2
	VFNMADD231PS expConst<>+96(SB), Y1, Y2
	VFNMADD231PS expConst<>+128(SB), Y1, Y2
	VMOVUPS      expConst<>+512(SB), Y3
	VFMADD213PS  expConst<>+480(SB), Y2, Y3
	VFMADD213PS  expConst<>+448(SB), Y2, Y3
	VFMADD213PS  expConst<>+416(SB), Y2, Y3
	VFMADD213PS  expConst<>+384(SB), Y2, Y3
	VFMADD213PS  expConst<>+352(SB), Y2, Y3
	VFMADD213PS  expConst<>+320(SB), Y2, Y3
	VFMADD213PS  expConst<>+288(SB), Y2, Y3
	VCVTPS2DQ    Y1, Y4
	VPADDD       expConst<>+544(SB), Y4, Y4
	VPSLLD       $23, Y4, Y4
	VMULPS       Y4, Y3, Y3
	VADDPS       expConst<>+160(SB), Y3, Y3
	VMOVUPS      expConst<>+160(SB), Y5
	VDIVPS       Y3, Y5, Y13
	VMOVUPS Y13, (BX)(AX*1)
	VMULPS  Y12, Y13, Y6
	VMOVUPS Y6, (R10)(AX*1)

	ADDQ $32, AX
	JMP  fcol

ftailCheck:
	CMPQ    tail+72(FP), $0
	JEQ     fnext

ftail:

	// input and forget gates
	VMASKMOVPS (DI)(AX*1), Y7, Y6
	VMULPS       expConst<>+224(SB), Y6, Y0
	VMINPS       expConst<>+0(SB), Y0, Y0
	VMAXPS       expConst<>+32(SB), Y0, Y0
	VMULPS       expConst<>+64(SB), Y0, Y1
	VROUNDPS     $0, Y1, Y1
	VMOVAPS      Y0, Y2
	VFNMADD231PS expConst<>+96(SB), Y1, Y2
	VFNMADD231PS expConst<>+128(SB), Y1, Y2
	VMOVUPS      expConst<>+512(SB), Y3
	VFMADD213PS  expConst<>+480(SB), Y2, Y3
	VFMADD213PS  expConst<>+448(SB), Y2, Y3
	VFMADD213PS  expConst<>+416(SB), Y2, Y3
	VFMADD213PS  expConst<>+384(SB), Y2, Y3
	VFMADD213PS  expConst<>+352(SB), Y2, Y3
	VFMADD213PS  expConst<>+320(SB), Y2, Y3
	VFMADD213PS  expConst<>+288(SB), Y2, Y3
	VCVTPS2DQ    Y1, Y4
	VPADDD       expConst<>+544(SB), Y4, Y4
	VPSLLD       $23, Y4, Y4
	VMULPS       Y4, Y3, Y3
	VADDPS       expConst<>+160(SB), Y3, Y3
	VMOVUPS      expConst<>+160(SB), Y5
	VDIVPS       Y3, Y5, Y8
	VMASKMOVPS Y8, Y7, (DI)(AX*1)
	VMASKMOVPS (R12)(AX*1), Y7, Y6
	VMULPS       expConst<>+224(SB), Y6, Y0
	VMINPS       expConst<>+0(SB), Y0, Y0
	VMAXPS       expConst<>+32(SB), Y0, Y0
	VMULPS       expConst<>+64(SB), Y0, Y1
	VROUNDPS     $0, Y1, Y1
	VMOVAPS      Y0, Y2
	VFNMADD231PS expConst<>+96(SB), Y1, Y2
	VFNMADD231PS expConst<>+128(SB), Y1, Y2
	VMOVUPS      expConst<>+512(SB), Y3
	VFMADD213PS  expConst<>+480(SB), Y2, Y3
	VFMADD213PS  expConst<>+448(SB), Y2, Y3
	VFMADD213PS  expConst<>+416(SB), Y2, Y3
	VFMADD213PS  expConst<>+384(SB), Y2, Y3
	VFMADD213PS  expConst<>+352(SB), Y2, Y3
	VFMADD213PS  expConst<>+320(SB), Y2, Y3
	VFMADD213PS  expConst<>+288(SB), Y2, Y3
	VCVTPS2DQ    Y1, Y4
	VPADDD       expConst<>+544(SB), Y4, Y4
	VPSLLD       $23, Y4, Y4
	VMULPS       Y4, Y3, Y3
	VADDPS       expConst<>+160(SB), Y3, Y3
	VMOVUPS      expConst<>+160(SB), Y5
	VDIVPS       Y3, Y5, Y9
	VMASKMOVPS Y9, Y7, (R12)(AX*1)

	// cell gate
	VMASKMOVPS (R13)(AX*1), Y7, Y6
	TESTQ   R15, R15
	JNZ     treluG
	VMULPS       expConst<>+256(SB), Y6, Y0
	VMINPS       expConst<>+0(SB), Y0, Y0
	VMAXPS       expConst<>+32(SB), Y0, Y0
	VMULPS       expConst<>+64(SB), Y0, Y1
	VROUNDPS     $0, Y1, Y1
	VMOVAPS      Y0, Y2
	VFNMADD231PS expConst<>+96(SB), Y1, Y2
	VFNMADD231PS expConst<>+128(SB), Y1, Y2
	VMOVUPS      expConst<>+512(SB), Y3
	VFMADD213PS  expConst<>+480(SB), Y2, Y3
	VFMADD213PS  expConst<>+448(SB), Y2, Y3
	VFMADD213PS  expConst<>+416(SB), Y2, Y3
	VFMADD213PS  expConst<>+384(SB), Y2, Y3
	VFMADD213PS  expConst<>+352(SB), Y2, Y3
	VFMADD213PS  expConst<>+320(SB), Y2, Y3
	VFMADD213PS  expConst<>+288(SB), Y2, Y3
	VCVTPS2DQ    Y1, Y4
	VPADDD       expConst<>+544(SB), Y4, Y4
	VPSLLD       $23, Y4, Y4
	VMULPS       Y4, Y3, Y3
	VADDPS       expConst<>+160(SB), Y3, Y3
	VMOVUPS      expConst<>+192(SB), Y5
	VDIVPS       Y3, Y5, Y10
	VADDPS       expConst<>+224(SB), Y10, Y10
	JMP     tgDone

treluG:
	VMAXPS Y14, Y6, Y10

tgDone:
	VMASKMOVPS Y10, Y7, (R13)(AX*1)

	// cell state c = f·c_prev + i·g
	VMULPS      Y10, Y8, Y11
	TESTQ       R11, R11
	JZ          tnoPrev
	VMASKMOVPS (SI)(AX*1), Y7, Y6
	VFMADD231PS Y6, Y9, Y11

tnoPrev:
	VMASKMOVPS Y11, Y7, (R8)(AX*1)

	// its activation
	TESTQ R15, R15
	JNZ   treluA
	VMULPS       expConst<>+256(SB), Y11, Y0
	VMINPS       expConst<>+0(SB), Y0, Y0
	VMAXPS       expConst<>+32(SB), Y0, Y0
	VMULPS       expConst<>+64(SB), Y0, Y1
	VROUNDPS     $0, Y1, Y1
	VMOVAPS      Y0, Y2
	VFNMADD231PS expConst<>+96(SB), Y1, Y2
	VFNMADD231PS expConst<>+128(SB), Y1, Y2
	VMOVUPS      expConst<>+512(SB), Y3
	VFMADD213PS  expConst<>+480(SB), Y2, Y3
	VFMADD213PS  expConst<>+448(SB), Y2, Y3
	VFMADD213PS  expConst<>+416(SB), Y2, Y3
	VFMADD213PS  expConst<>+384(SB), Y2, Y3
	VFMADD213PS  expConst<>+352(SB), Y2, Y3
	VFMADD213PS  expConst<>+320(SB), Y2, Y3
	VFMADD213PS  expConst<>+288(SB), Y2, Y3
	VCVTPS2DQ    Y1, Y4
	VPADDD       expConst<>+544(SB), Y4, Y4
	VPSLLD       $23, Y4, Y4
	VMULPS       Y4, Y3, Y3
	VADDPS       expConst<>+160(SB), Y3, Y3
	VMOVUPS      expConst<>+192(SB), Y5
	VDIVPS       Y3, Y5, Y12
	VADDPS       expConst<>+224(SB), Y12, Y12
	JMP   taDone

treluA:
	VMAXPS Y14, Y11, Y12

taDone:
	VMASKMOVPS Y12, Y7, (R9)(AX*1)

	// output gate and hidden state
	VMASKMOVPS (BX)(AX*1), Y7, Y6
	VMULPS       expConst<>+224(SB), Y6, Y0
	VMINPS       expConst<>+0(SB), Y0, Y0
	VMAXPS       expConst<>+32(SB), Y0, Y0
	VMULPS       expConst<>+64(SB), Y0, Y1
	VROUNDPS     $0, Y1, Y1
	VMOVAPS      Y0, Y2
	VFNMADD231PS expConst<>+96(SB), Y1, Y2
	VFNMADD231PS expConst<>+128(SB), Y1, Y2
	VMOVUPS      expConst<>+512(SB), Y3
	VFMADD213PS  expConst<>+480(SB), Y2, Y3
	VFMADD213PS  expConst<>+448(SB), Y2, Y3
	VFMADD213PS  expConst<>+416(SB), Y2, Y3
	VFMADD213PS  expConst<>+384(SB), Y2, Y3
	VFMADD213PS  expConst<>+352(SB), Y2, Y3
	VFMADD213PS  expConst<>+320(SB), Y2, Y3
	VFMADD213PS  expConst<>+288(SB), Y2, Y3
	VCVTPS2DQ    Y1, Y4
	VPADDD       expConst<>+544(SB), Y4, Y4
	VPSLLD       $23, Y4, Y4
	VMULPS       Y4, Y3, Y3
	VADDPS       expConst<>+160(SB), Y3, Y3
	VMOVUPS      expConst<>+160(SB), Y5
	VDIVPS       Y3, Y5, Y13
	VMASKMOVPS Y13, Y7, (BX)(AX*1)
	VMULPS  Y12, Y13, Y6
	VMASKMOVPS Y6, Y7, (R10)(AX*1)

	JMP  fnext


fnext:
	LEAQ (BX)(R14*1), DI
	ADDQ R14, SI
	ADDQ R14, R8
	ADDQ R14, R9
	ADDQ R14, R10
	DECQ CX
	JMP  frow

fdone:
	VZEROUPPER
	RET

DATA one32<>+0(SB)/4, $0x3f800000
GLOBL one32<>(SB), RODATA|NOPTR, $4

// func cellBackward8FMA(gates, prev, cell, act, dout, dc *float32, rows, h, relu, hasPrev int)
//
// cellBackward over the columns [0, h&^7) of every row, eight at a time:
// rows of gates are 4h wide (i, f, g, o), the other arrays h wide. prev is
// read only when hasPrev is set.
TEXT ·cellBackward8FMA(SB), NOSPLIT, $0-80
	MOVQ         gates+0(FP), DI
	MOVQ         prev+8(FP), SI
	MOVQ         cell+16(FP), R8
	MOVQ         act+24(FP), R9
	MOVQ         dout+32(FP), R10
	MOVQ         dc+40(FP), R11
	MOVQ         rows+48(FP), CX
	MOVQ         h+56(FP), R14
	MOVQ         relu+64(FP), R15
	MOVQ         R14, DX
	ANDQ         $-8, DX
	SHLQ         $2, DX
	SHLQ         $2, R14
	VBROADCASTSS one32<>(SB), Y14
	VXORPS       Y13, Y13, Y13

brow:
	TESTQ CX, CX
	JZ    bdone
	LEAQ  (DI)(R14*1), R12
	LEAQ  (R12)(R14*1), R13
	LEAQ  (R13)(R14*1), BX
	XORQ  AX, AX

bcol:
	CMPQ    AX, DX
	JGE     bnext
	VMOVUPS (DI)(AX*1), Y0
	VMOVUPS (R12)(AX*1), Y1
	VMOVUPS (R13)(AX*1), Y2
	VMOVUPS (BX)(AX*1), Y3
	VMOVUPS (R9)(AX*1), Y4
	VMOVUPS (R10)(AX*1), Y5
	TESTQ   R15, R15
	JNZ     brelu

	// tanh: act'(c) = 1 - a², act'(g) = 1 - g².
	VMOVAPS      Y14, Y6
	VFNMADD231PS Y4, Y4, Y6
	VMOVAPS      Y14, Y7
	VFNMADD231PS Y2, Y2, Y7
	JMP          bderiv

brelu:
	// relu: act'(c) = [c > 0], act'(g) = [g > 0].
	VMOVUPS (R8)(AX*1), Y8
	VCMPPS  $0x1e, Y13, Y8, Y8
	VANDPS  Y14, Y8, Y6
	VCMPPS  $0x1e, Y13, Y2, Y9
	VANDPS  Y14, Y9, Y7

bderiv:
	// dcv = dc + dh·o·act'(c); the carried gradient becomes dcv·f.
	VMULPS      Y5, Y3, Y9
	VMOVUPS     (R11)(AX*1), Y8
	VFMADD231PS Y9, Y6, Y8
	VMULPS      Y1, Y8, Y10
	VMOVUPS     Y10, (R11)(AX*1)

	// input gate: dcv·g·i·(1-i)
	VSUBPS  Y0, Y14, Y11
	VMULPS  Y0, Y11, Y11
	VMULPS  Y2, Y11, Y11
	VMULPS  Y8, Y11, Y11
	VMOVUPS Y11, (DI)(AX*1)

	// forget gate: dcv·c_prev·f·(1-f), zero at the first step.
	VXORPS  Y11, Y11, Y11
	CMPQ    hasPrev+72(FP), $0
	JEQ     bnoprev
	VMOVUPS (SI)(AX*1), Y12
	VSUBPS  Y1, Y14, Y11
	VMULPS  Y1, Y11, Y11
	VMULPS  Y12, Y11, Y11
	VMULPS  Y8, Y11, Y11

bnoprev:
	VMOVUPS Y11, (R12)(AX*1)

	// cell gate: dcv·i·act'(g)
	VMULPS  Y0, Y8, Y11
	VMULPS  Y7, Y11, Y11
	VMOVUPS Y11, (R13)(AX*1)

	// output gate: dh·a·o·(1-o)
	VSUBPS  Y3, Y14, Y11
	VMULPS  Y3, Y11, Y11
	VMULPS  Y4, Y11, Y11
	VMULPS  Y5, Y11, Y11
	VMOVUPS Y11, (BX)(AX*1)

	ADDQ $32, AX
	JMP  bcol

bnext:
	LEAQ (BX)(R14*1), DI
	ADDQ R14, SI
	ADDQ R14, R8
	ADDQ R14, R9
	ADDQ R14, R10
	ADDQ R14, R11
	DECQ CX
	JMP  brow

bdone:
	VZEROUPPER
	RET

// func adam8FMA(params, m, v, grad *float32, n int, alpha, b1, b2, eps float32)
//
// Adam's update of adam.update for i < n&^7, eight at a time.
TEXT ·adam8FMA(SB), NOSPLIT, $0-56
	MOVQ         params+0(FP), DI
	MOVQ         m+8(FP), SI
	MOVQ         v+16(FP), R8
	MOVQ         grad+24(FP), R9
	MOVQ         n+32(FP), CX
	VBROADCASTSS alpha+40(FP), Y10
	VBROADCASTSS b1+44(FP), Y11
	VBROADCASTSS b2+48(FP), Y12
	VBROADCASTSS eps+52(FP), Y13
	SHRQ         $3, CX

aloop:
	TESTQ        CX, CX
	JZ           adone
	VMOVUPS      (R9), Y0
	VMOVUPS      (SI), Y1
	VMOVUPS      (R8), Y2
	VSUBPS       Y1, Y0, Y3
	VFMADD231PS  Y3, Y11, Y1
	VMULPS       Y0, Y0, Y4
	VSUBPS       Y2, Y4, Y4
	VFMADD231PS  Y4, Y12, Y2
	VSQRTPS      Y2, Y5
	VADDPS       Y13, Y5, Y5
	VDIVPS       Y5, Y1, Y6
	VMOVUPS      (DI), Y7
	VFNMADD231PS Y6, Y10, Y7
	VMOVUPS      Y1, (SI)
	VMOVUPS      Y2, (R8)
	VMOVUPS      Y7, (DI)
	ADDQ         $32, DI
	ADDQ         $32, SI
	ADDQ         $32, R8
	ADDQ         $32, R9
	DECQ         CX
	JMP          aloop

adone:
	VZEROUPPER
	RET
