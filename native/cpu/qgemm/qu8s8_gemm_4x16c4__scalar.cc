// The portable qu8s8 micro-kernel: up to 4 rows x 16 channels of one packed block.
#include <cmath>

#include "qu8s8_gemm.h"

namespace resnode::cpu {

void qu8s8_gemm_4x16c4__scalar(int64_t mr, int64_t nc, int64_t kc, const uint8_t* a,
                               const int8_t* w, const int32_t* bias, const float* multipliers,
                               uint8_t* c, int64_t c_stride, const Qu8Requant& r) {
  constexpr int64_t kMr = 4;
  for (int64_t i = 0; i < mr; ++i) {
    int32_t acc[kQu8s8Nr];
    for (int64_t j = 0; j < kQu8s8Nr; ++j) acc[j] = bias[j];
    for (int64_t k = 0; k < kc; ++k) {
      const int32_t x = a[((k / 4) * kMr + i) * 4 + k % 4];  // the panel: [group][row][4]
      const int8_t* g = w + (k / 4) * kQu8s8Nr * 4 + k % 4;
      for (int64_t j = 0; j < kQu8s8Nr; ++j) acc[j] += x * int32_t(g[j * 4]);
    }
    for (int64_t j = 0; j < nc; ++j) {
      // float(acc) * multiplier, rounded half to even (nearbyint in the default mode), as ORT.
      const float v = std::nearbyint(float(acc[j]) * multipliers[j]);
      const float lo = float(r.qmin - r.zero_point), hi = float(r.qmax - r.zero_point);
      c[i * c_stride + j] = uint8_t(int32_t(v < lo ? lo : (v > hi ? hi : v)) + r.zero_point);
    }
  }
}

}  // namespace resnode::cpu
