// qu8s8 indirect micro-kernel on AVX512_VNNI: up to 12 rows x 32 channels (two packed blocks),
// the rows read in place through an indirection buffer instead of a copied panel (XNNPACK's
// igemm): for each of ks taps, 12 row pointers, each to kc contiguous bytes (kc a multiple of 4,
// so a tap's channels are whole groups of the packed weights, in the order they were packed).
// One vpdpbusd per row, block and 4 channels; 24 accumulators, each broadcast feeding two.
// Compiled with -mavx512vnni; inline asm for the reason given in qu8s8_gemm_12x32c4__avx512vnni.cc.
#include <immintrin.h>

#include <cstring>

#include "../common.h"
#include "qu8s8_gemm.h"
#include "qu8s8_requant__avx512f.h"

namespace resnode::cpu {

#define RN_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define RN_DPBUSD(acc, a, w) asm("vpdpbusd %[wv], %[av], %[x]" : [x] "+v"(acc) : [av] "v"(a), [wv] "v"(w))

void qu8s8_igemm_12x32c4__avx512vnni(int64_t mr, int64_t nc, int64_t kc, int64_t ks, const uint8_t* const* a,
                                     const int8_t* w, const int32_t* bias, const float* multipliers,
                                     uint8_t* c, int64_t c_stride, const Qu8Requant& r) {
  constexpr int64_t kMr = 12;
  RN_CHECK(kc % 4 == 0);
  const __m512i bias0 = _mm512_loadu_si512(bias), bias1 = _mm512_loadu_si512(bias + kQu8s8Nr);
#define RN_INIT(i) __m512i x##i = bias0, y##i = bias1;
  RN_ROWS(RN_INIT)
#undef RN_INIT
  const int64_t groups = kc / 4;
  const int8_t* w1 = w + ks * groups * kQu8s8Nr * 4;  // the second block
  for (int64_t s = 0; s < ks; ++s, a += kMr) {
#define RN_PTR(i) const uint8_t* a##i = a[i];
    RN_ROWS(RN_PTR)
#undef RN_PTR
    for (int64_t off = 0; off < kc; off += 4, w += kQu8s8Nr * 4, w1 += kQu8s8Nr * 4) {
      const __m512i wv0 = _mm512_loadu_si512(w), wv1 = _mm512_loadu_si512(w1);
#define RN_STEP(i) { int32_t q; std::memcpy(&q, a##i + off, 4); const __m512i av = _mm512_set1_epi32(q); RN_DPBUSD(x##i, av, wv0); RN_DPBUSD(y##i, av, wv1); }
      RN_ROWS(RN_STEP)
#undef RN_STEP
    }
  }
  const Qu8RequantRow32__avx512f rq(multipliers, r, nc);
#define RN_STORE(i) if (i < mr) rq.store(x##i, y##i, c + i * c_stride);
  RN_ROWS(RN_STORE)
#undef RN_STORE
}

#undef RN_DPBUSD
#undef RN_ROWS

}  // namespace resnode::cpu
