#include <arm_neon.h>

#include "peak.h"

namespace resnode::cpu {

double fma_loop__neon(int64_t iters) {
  float32x4_t acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = vdupq_n_f32(float(i) * 1e-3f);
  const float32x4_t a = vdupq_n_f32(0.999999f), b = vdupq_n_f32(1e-7f);
  for (int64_t it = 0; it < iters; ++it)
    for (int i = 0; i < 12; ++i) acc[i] = vfmaq_f32(b, acc[i], a);
  float32x4_t sum = acc[0];
  for (int i = 1; i < 12; ++i) sum = vaddq_f32(sum, acc[i]);
  return double(vaddvq_f32(sum));
}

}  // namespace resnode::cpu
