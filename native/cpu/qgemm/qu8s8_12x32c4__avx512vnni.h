// The 12 x 32 VNNI tile the qu8s8 gemm and igemm micro-kernels share (included by each, compiled
// with -mavx512vnni): 24 accumulators (rows 0-11 by two packed blocks, x = channels 0-15, y =
// 16-31) started from the bias, one vpdpbusd per row, block and 4 k, each broadcast of A feeding
// two, and the requantising store of the rows that exist.
//
// Written with named accumulators and inline asm: through the intrinsic GCC copies every
// accumulator twice per step (its builtin is not destructive), and an accumulator array bound
// to asm operands lives in memory; either cost half the kernel's rate or more.
#pragma once
#include <immintrin.h>

#include <cstring>

#include "qu8s8_requant__avx512f.h"

#define RN_QU8S8_ROWS12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define RN_QU8S8_DPBUSD(acc, a, w) asm("vpdpbusd %[wv], %[av], %[x]" : [x] "+v"(acc) : [av] "v"(a), [wv] "v"(w))
// Declares x0..x11 and y0..y11 from the bias of the two blocks.
#define RN_QU8S8_INIT_12X32(bias)                                                                   \
  const __m512i rn_bias0 = _mm512_loadu_si512(bias), rn_bias1 = _mm512_loadu_si512((bias) + kQu8s8Nr); \
  RN_QU8S8_ROWS12(RN_QU8S8_INIT_ROW)
#define RN_QU8S8_INIT_ROW(i) __m512i x##i = rn_bias0, y##i = rn_bias1;
// Row i's 4 bytes at `src` times the two blocks' weights wv0, wv1 of this group of 4.
#define RN_QU8S8_STEP(i, src)                                  \
  {                                                            \
    int32_t q;                                                 \
    std::memcpy(&q, src, 4);                                   \
    const __m512i av = _mm512_set1_epi32(q);                   \
    RN_QU8S8_DPBUSD(x##i, av, wv0);                            \
    RN_QU8S8_DPBUSD(y##i, av, wv1);                            \
  }
// Requantises and stores rows i < mr of nc channels.
#define RN_QU8S8_STORE_12X32(multipliers, r, nc, mr, c, c_stride)   \
  {                                                                 \
    const Qu8RequantRow32__avx512f rq(multipliers, r, nc);          \
    RN_QU8S8_ROWS12(RN_QU8S8_STORE_ROW)                             \
  }
#define RN_QU8S8_STORE_ROW(i) if (i < mr) rq.store(x##i, y##i, c + i * c_stride);
