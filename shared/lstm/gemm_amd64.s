#include "textflag.h"

// func kernel4x8FMA(k int, a *float64, rs, ps int, b *float64, ldb int, c *float64, ldc int)
//
// C[0:4,0:8] += A[0:4,0:k]·B[0:k,0:8], where A[r,p] is a[r*rs+p*ps].
TEXT ·kernel4x8FMA(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rs+16(FP), R8
	MOVQ ps+24(FP), R14
	MOVQ b+32(FP), DI
	MOVQ ldb+40(FP), R9
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R10
	SHLQ $3, R8
	SHLQ $3, R14
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
	ADDQ         R14, AX
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

// func kernelEdgeFMA(k int, a *float64, rs, ps int, b *float64, ldb int, c *float64, ldc int, rows int, cols int)
//
// C[0:rows,0:cols] += A[0:rows,0:k]·B[0:k,0:cols] for 1 <= rows <= 4 and
// 1 <= cols <= 8, where A[r,p] is a[r*rs+p*ps]. Rows past the last are
// computed from row 0 and never stored; columns past the last are masked on
// every load and store.
TEXT ·kernelEdgeFMA(SB), NOSPLIT, $0-80
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rs+16(FP), R8
	MOVQ b+32(FP), DI
	MOVQ ldb+40(FP), R9
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R10
	MOVQ rows+64(FP), BX
	MOVQ cols+72(FP), R14
	SHLQ $3, R8
	SHLQ $3, R9
	SHLQ $3, R10

	// Column masks into Y11 (lanes 0-3) and Y12 (lanes 4-7).
	LEAQ    maskTable<>(SB), R15
	MOVQ    $8, AX
	SUBQ    R14, AX
	VMOVDQU (R15)(AX*8), Y11
	VMOVDQU 32(R15)(AX*8), Y12
	MOVQ    ps+24(FP), R14
	SHLQ    $3, R14

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
	ADDQ         R14, AX
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

// Constants of logisticFMA, each repeated in four lanes.
DATA expConst<>+0(SB)/8, $0x4086200000000000
DATA expConst<>+8(SB)/8, $0x4086200000000000
DATA expConst<>+16(SB)/8, $0x4086200000000000
DATA expConst<>+24(SB)/8, $0x4086200000000000
DATA expConst<>+32(SB)/8, $0xc086200000000000
DATA expConst<>+40(SB)/8, $0xc086200000000000
DATA expConst<>+48(SB)/8, $0xc086200000000000
DATA expConst<>+56(SB)/8, $0xc086200000000000
DATA expConst<>+64(SB)/8, $0x3ff71547652b82fe
DATA expConst<>+72(SB)/8, $0x3ff71547652b82fe
DATA expConst<>+80(SB)/8, $0x3ff71547652b82fe
DATA expConst<>+88(SB)/8, $0x3ff71547652b82fe
DATA expConst<>+96(SB)/8, $0x3fe62e42fee00000
DATA expConst<>+104(SB)/8, $0x3fe62e42fee00000
DATA expConst<>+112(SB)/8, $0x3fe62e42fee00000
DATA expConst<>+120(SB)/8, $0x3fe62e42fee00000
DATA expConst<>+128(SB)/8, $0x3dea39ef35793c76
DATA expConst<>+136(SB)/8, $0x3dea39ef35793c76
DATA expConst<>+144(SB)/8, $0x3dea39ef35793c76
DATA expConst<>+152(SB)/8, $0x3dea39ef35793c76
DATA expConst<>+160(SB)/8, $0x3ff0000000000000
DATA expConst<>+168(SB)/8, $0x3ff0000000000000
DATA expConst<>+176(SB)/8, $0x3ff0000000000000
DATA expConst<>+184(SB)/8, $0x3ff0000000000000
DATA expConst<>+192(SB)/8, $0x3ff0000000000000
DATA expConst<>+200(SB)/8, $0x3ff0000000000000
DATA expConst<>+208(SB)/8, $0x3ff0000000000000
DATA expConst<>+216(SB)/8, $0x3ff0000000000000
DATA expConst<>+224(SB)/8, $0x3ff0000000000000
DATA expConst<>+232(SB)/8, $0x3ff0000000000000
DATA expConst<>+240(SB)/8, $0x3ff0000000000000
DATA expConst<>+248(SB)/8, $0x3ff0000000000000
DATA expConst<>+256(SB)/8, $0x3fe0000000000000
DATA expConst<>+264(SB)/8, $0x3fe0000000000000
DATA expConst<>+272(SB)/8, $0x3fe0000000000000
DATA expConst<>+280(SB)/8, $0x3fe0000000000000
DATA expConst<>+288(SB)/8, $0x3fc5555555555555
DATA expConst<>+296(SB)/8, $0x3fc5555555555555
DATA expConst<>+304(SB)/8, $0x3fc5555555555555
DATA expConst<>+312(SB)/8, $0x3fc5555555555555
DATA expConst<>+320(SB)/8, $0x3fa5555555555555
DATA expConst<>+328(SB)/8, $0x3fa5555555555555
DATA expConst<>+336(SB)/8, $0x3fa5555555555555
DATA expConst<>+344(SB)/8, $0x3fa5555555555555
DATA expConst<>+352(SB)/8, $0x3f81111111111111
DATA expConst<>+360(SB)/8, $0x3f81111111111111
DATA expConst<>+368(SB)/8, $0x3f81111111111111
DATA expConst<>+376(SB)/8, $0x3f81111111111111
DATA expConst<>+384(SB)/8, $0x3f56c16c16c16c17
DATA expConst<>+392(SB)/8, $0x3f56c16c16c16c17
DATA expConst<>+400(SB)/8, $0x3f56c16c16c16c17
DATA expConst<>+408(SB)/8, $0x3f56c16c16c16c17
DATA expConst<>+416(SB)/8, $0x3f2a01a01a01a01a
DATA expConst<>+424(SB)/8, $0x3f2a01a01a01a01a
DATA expConst<>+432(SB)/8, $0x3f2a01a01a01a01a
DATA expConst<>+440(SB)/8, $0x3f2a01a01a01a01a
DATA expConst<>+448(SB)/8, $0x3efa01a01a01a01a
DATA expConst<>+456(SB)/8, $0x3efa01a01a01a01a
DATA expConst<>+464(SB)/8, $0x3efa01a01a01a01a
DATA expConst<>+472(SB)/8, $0x3efa01a01a01a01a
DATA expConst<>+480(SB)/8, $0x3ec71de3a556c734
DATA expConst<>+488(SB)/8, $0x3ec71de3a556c734
DATA expConst<>+496(SB)/8, $0x3ec71de3a556c734
DATA expConst<>+504(SB)/8, $0x3ec71de3a556c734
DATA expConst<>+512(SB)/8, $0x3e927e4fb7789f5c
DATA expConst<>+520(SB)/8, $0x3e927e4fb7789f5c
DATA expConst<>+528(SB)/8, $0x3e927e4fb7789f5c
DATA expConst<>+536(SB)/8, $0x3e927e4fb7789f5c
DATA expConst<>+544(SB)/8, $0x3e5ae64567f544e4
DATA expConst<>+552(SB)/8, $0x3e5ae64567f544e4
DATA expConst<>+560(SB)/8, $0x3e5ae64567f544e4
DATA expConst<>+568(SB)/8, $0x3e5ae64567f544e4
DATA expConst<>+576(SB)/8, $0x3e21eed8eff8d898
DATA expConst<>+584(SB)/8, $0x3e21eed8eff8d898
DATA expConst<>+592(SB)/8, $0x3e21eed8eff8d898
DATA expConst<>+600(SB)/8, $0x3e21eed8eff8d898
DATA expConst<>+608(SB)/8, $1023
DATA expConst<>+616(SB)/8, $1023
DATA expConst<>+624(SB)/8, $1023
DATA expConst<>+632(SB)/8, $1023
GLOBL expConst<>(SB), RODATA|NOPTR, $640

// func logisticFMA(x *float64, n int, negScale, mul, add float64)
//
// x[i] = mul/(1+exp(negScale·x[i])) + add for i < n, four lanes at a time,
// the last partial group under a lane mask. exp is Cody-Waite range
// reduction and a degree-12 Taylor polynomial (relative error below 1e-15),
// its argument clamped to ±708.
TEXT ·logisticFMA(SB), NOSPLIT, $0-40
	MOVQ         x+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSD negScale+16(FP), Y12
	VBROADCASTSD mul+24(FP), Y14
	VBROADCASTSD add+32(FP), Y13

lloop:
	CMPQ         CX, $4
	JLT          ltail
	VMOVUPD      (DI), Y0
	VMULPD       Y12, Y0, Y0
	VMINPD       expConst<>+0(SB), Y0, Y0
	VMAXPD       expConst<>+32(SB), Y0, Y0
	VMULPD       expConst<>+64(SB), Y0, Y1
	VROUNDPD     $0, Y1, Y1
	VMOVAPD      Y0, Y2
	VFNMADD231PD expConst<>+96(SB), Y1, Y2
	VFNMADD231PD expConst<>+128(SB), Y1, Y2
	VMOVUPD      expConst<>+576(SB), Y3
	VFMADD213PD  expConst<>+544(SB), Y2, Y3
	VFMADD213PD  expConst<>+512(SB), Y2, Y3
	VFMADD213PD  expConst<>+480(SB), Y2, Y3
	VFMADD213PD  expConst<>+448(SB), Y2, Y3
	VFMADD213PD  expConst<>+416(SB), Y2, Y3
	VFMADD213PD  expConst<>+384(SB), Y2, Y3
	VFMADD213PD  expConst<>+352(SB), Y2, Y3
	VFMADD213PD  expConst<>+320(SB), Y2, Y3
	VFMADD213PD  expConst<>+288(SB), Y2, Y3
	VFMADD213PD  expConst<>+256(SB), Y2, Y3
	VFMADD213PD  expConst<>+224(SB), Y2, Y3
	VFMADD213PD  expConst<>+192(SB), Y2, Y3
	VCVTPD2DQY   Y1, X4
	VPMOVSXDQ    X4, Y4
	VPADDQ       expConst<>+608(SB), Y4, Y4
	VPSLLQ       $52, Y4, Y4
	VMULPD       Y4, Y3, Y3
	VADDPD       expConst<>+160(SB), Y3, Y3
	VDIVPD       Y3, Y14, Y5
	VADDPD       Y13, Y5, Y5
	VMOVUPD      Y5, (DI)
	ADDQ         $32, DI
	SUBQ         $4, CX
	JMP          lloop

ltail:
	TESTQ        CX, CX
	JZ           ldone
	LEAQ         maskTable<>(SB), R8
	MOVQ         $8, AX
	SUBQ         CX, AX
	VMOVDQU      (R8)(AX*8), Y11
	VMASKMOVPD   (DI), Y11, Y0
	VMULPD       Y12, Y0, Y0
	VMINPD       expConst<>+0(SB), Y0, Y0
	VMAXPD       expConst<>+32(SB), Y0, Y0
	VMULPD       expConst<>+64(SB), Y0, Y1
	VROUNDPD     $0, Y1, Y1
	VMOVAPD      Y0, Y2
	VFNMADD231PD expConst<>+96(SB), Y1, Y2
	VFNMADD231PD expConst<>+128(SB), Y1, Y2
	VMOVUPD      expConst<>+576(SB), Y3
	VFMADD213PD  expConst<>+544(SB), Y2, Y3
	VFMADD213PD  expConst<>+512(SB), Y2, Y3
	VFMADD213PD  expConst<>+480(SB), Y2, Y3
	VFMADD213PD  expConst<>+448(SB), Y2, Y3
	VFMADD213PD  expConst<>+416(SB), Y2, Y3
	VFMADD213PD  expConst<>+384(SB), Y2, Y3
	VFMADD213PD  expConst<>+352(SB), Y2, Y3
	VFMADD213PD  expConst<>+320(SB), Y2, Y3
	VFMADD213PD  expConst<>+288(SB), Y2, Y3
	VFMADD213PD  expConst<>+256(SB), Y2, Y3
	VFMADD213PD  expConst<>+224(SB), Y2, Y3
	VFMADD213PD  expConst<>+192(SB), Y2, Y3
	VCVTPD2DQY   Y1, X4
	VPMOVSXDQ    X4, Y4
	VPADDQ       expConst<>+608(SB), Y4, Y4
	VPSLLQ       $52, Y4, Y4
	VMULPD       Y4, Y3, Y3
	VADDPD       expConst<>+160(SB), Y3, Y3
	VDIVPD       Y3, Y14, Y5
	VADDPD       Y13, Y5, Y5
	VMASKMOVPD   Y5, Y11, (DI)

ldone:
	VZEROUPPER
	RET
