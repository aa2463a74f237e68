// The LayerNormalization row micro-kernels, one per ISA (one per file):
// y = (x − mean)·rsqrt(var + epsilon)·scale + bias over one row of n floats
// (bias may be null), mean and variance in two passes. layer_norm (layout.cc)
// runs one over each row with the kernel chosen when its step was parsed.
#pragma once
#include <cstddef>

#include "../isa.h"

namespace resnode::cpu {

using f32_layernorm_fn = void (*)(const float* x, const float* scale, const float* bias, float* y,
                                  size_t n, float epsilon);

void f32_layernorm__scalar(const float* x, const float* scale, const float* bias, float* y, size_t n,
                           float epsilon);
void f32_layernorm__avx2(const float* x, const float* scale, const float* bias, float* y, size_t n,
                         float epsilon);
void f32_layernorm__avx512f(const float* x, const float* scale, const float* bias, float* y, size_t n,
                            float epsilon);

struct LayerNormKernel {
  f32_layernorm_fn fn;
  const char* name;
};
// The row kernel for `isa` (scalar where the ISA has none).
LayerNormKernel layer_norm_kernel(Isa isa);

}  // namespace resnode::cpu
