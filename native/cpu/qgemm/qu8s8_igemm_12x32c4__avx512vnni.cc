// qu8s8 indirect micro-kernel on AVX512_VNNI: up to 12 rows x 32 channels (two packed blocks; the
// 12 x 32 tile of qu8s8_12x32c4__avx512vnni.h), the rows read in place through an indirection
// buffer instead of a copied panel (XNNPACK's igemm): for each of ks taps, 12 row pointers, each
// to kc contiguous bytes (kc a multiple of 4, so a tap's channels are whole groups of the packed
// weights, in the order they were packed). Compiled with -mavx512vnni.
#include "../common.h"
#include "qu8s8_12x32c4__avx512vnni.h"
#include "qu8s8_gemm.h"

namespace resnode::cpu {

void qu8s8_igemm_12x32c4__avx512vnni(int64_t mr, int64_t nc, int64_t kc, int64_t ks, const uint8_t* const* a,
                                     const int8_t* w, const int32_t* bias, const float* multipliers,
                                     uint8_t* c, int64_t c_stride, const Qu8Requant& r) {
  constexpr int64_t kMr = 12;
  RN_CHECK(kc % 4 == 0);
  RN_QU8S8_INIT_12X32(bias)
  const int8_t* w1 = w + ks * (kc / 4) * kQu8s8Nr * 4;  // the second block
  for (int64_t s = 0; s < ks; ++s, a += kMr) {
#define RN_ROW_POINTER(i) const uint8_t* a##i = a[i];
    RN_QU8S8_ROWS12(RN_ROW_POINTER)
#undef RN_ROW_POINTER
    for (int64_t off = 0; off < kc; off += 4, w += kQu8s8Nr * 4, w1 += kQu8s8Nr * 4) {
      const __m512i wv0 = _mm512_loadu_si512(w), wv1 = _mm512_loadu_si512(w1);
#define RN_ROW_STEP(i) RN_QU8S8_STEP(i, a##i + off)
      RN_QU8S8_ROWS12(RN_ROW_STEP)
#undef RN_ROW_STEP
    }
  }
  RN_QU8S8_STORE_12X32(multipliers, r, nc, mr, c, c_stride)
}

}  // namespace resnode::cpu
