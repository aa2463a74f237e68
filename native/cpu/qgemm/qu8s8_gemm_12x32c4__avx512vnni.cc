// qu8s8 micro-kernel on AVX512_VNNI: up to 12 rows x 32 channels (two packed blocks), one
// vpdpbusd per row, block and 4 k (4 u8 x s8 products summed into each int32 lane, exactly):
// 24 accumulators, each broadcast of A feeding two. Compiled with -mavx512vnni.
//
// Written with named accumulators and inline asm: through the intrinsic GCC copies every
// accumulator twice per step (its builtin is not destructive), and an accumulator array bound
// to asm operands lives in memory; either cost half the kernel's rate or more.
#include <immintrin.h>

#include <cstring>

#include "qu8s8_gemm.h"
#include "qu8s8_requant__avx512f.h"

namespace resnode::cpu {

#define RN_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define RN_DPBUSD(acc, a, w) asm("vpdpbusd %[wv], %[av], %[x]" : [x] "+v"(acc) : [av] "v"(a), [wv] "v"(w))

void qu8s8_gemm_12x32c4__avx512vnni(int64_t mr, int64_t nc, int64_t kc, const uint8_t* a,
                                    const int8_t* w, const int32_t* bias, const float* multipliers,
                                    uint8_t* c, int64_t c_stride, const Qu8Requant& r) {
  constexpr int64_t kMr = 12;
  const __m512i bias0 = _mm512_loadu_si512(bias), bias1 = _mm512_loadu_si512(bias + kQu8s8Nr);
#define RN_INIT(i) __m512i x##i = bias0, y##i = bias1;
  RN_ROWS(RN_INIT)
#undef RN_INIT
  const int64_t groups = (kc + 3) / 4;
  const int8_t* w1 = w + groups * kQu8s8Nr * 4;  // the second block
  // The panel holds kMr rows per group (zeros past mr and past kc), read in order.
  for (int64_t g = 0; g < groups; ++g, a += kMr * 4) {
    const __m512i wv0 = _mm512_loadu_si512(w + g * kQu8s8Nr * 4), wv1 = _mm512_loadu_si512(w1 + g * kQu8s8Nr * 4);
#define RN_STEP(i) { int32_t q; std::memcpy(&q, a + i * 4, 4); const __m512i av = _mm512_set1_epi32(q); RN_DPBUSD(x##i, av, wv0); RN_DPBUSD(y##i, av, wv1); }
    RN_ROWS(RN_STEP)
#undef RN_STEP
  }
  const Qu8RequantRow32__avx512f rq(multipliers, r, nc);
#define RN_STORE(i) if (i < mr) rq.store(x##i, y##i, c + i * c_stride);
  RN_ROWS(RN_STORE)
#undef RN_STORE
}

#undef RN_DPBUSD
#undef RN_ROWS

}  // namespace resnode::cpu
