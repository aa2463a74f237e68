// One LayerNormalization row (layernorm.h), portable C++: float64 sums.
#include <cmath>

#include "layernorm.h"

namespace resnode::cpu {

void f32_layernorm__scalar(const float* x, const float* scale, const float* bias, float* y, size_t n,
                           float epsilon) {
  double mean = 0, var = 0;
  for (size_t i = 0; i < n; ++i) mean += x[i];
  mean /= double(n);
  for (size_t i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  const float inv = float(1.0 / std::sqrt(var / double(n) + epsilon)), m = float(mean);
  for (size_t i = 0; i < n; ++i) y[i] = (x[i] - m) * inv * scale[i] + (bias ? bias[i] : 0.f);
}

}  // namespace resnode::cpu
