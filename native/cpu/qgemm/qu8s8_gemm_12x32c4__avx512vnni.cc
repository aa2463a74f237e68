// qu8s8 micro-kernel on AVX512_VNNI: up to 12 rows x 32 channels (two packed blocks) from a
// gathered panel (the 12 x 32 tile of qu8s8_12x32c4__avx512vnni.h). Compiled with -mavx512vnni.
#include "qu8s8_12x32c4__avx512vnni.h"
#include "qu8s8_gemm.h"

namespace resnode::cpu {

void qu8s8_gemm_12x32c4__avx512vnni(int64_t mr, int64_t nc, int64_t kc, const uint8_t* a,
                                    const int8_t* w, const int32_t* bias, const float* multipliers,
                                    uint8_t* c, int64_t c_stride, const Qu8Requant& r) {
  constexpr int64_t kMr = 12;
  RN_QU8S8_INIT_12X32(bias)
  const int64_t groups = (kc + 3) / 4;
  const int8_t* w1 = w + groups * kQu8s8Nr * 4;  // the second block
  // The panel holds kMr rows per group (zeros past mr and past kc), read in order.
  for (int64_t g = 0; g < groups; ++g, a += kMr * 4) {
    const __m512i wv0 = _mm512_loadu_si512(w + g * kQu8s8Nr * 4), wv1 = _mm512_loadu_si512(w1 + g * kQu8s8Nr * 4);
#define RN_PANEL_STEP(i) RN_QU8S8_STEP(i, a + i * 4)
    RN_QU8S8_ROWS12(RN_PANEL_STEP)
#undef RN_PANEL_STEP
  }
  RN_QU8S8_STORE_12X32(multipliers, r, nc, mr, c, c_stride)
}

}  // namespace resnode::cpu
