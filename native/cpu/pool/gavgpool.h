// The global average pool's plane-sum micro-kernels, one per ISA (one per
// file, XNNPACK's f32_gavgpool_cw naming: channels-first, one plane at a
// time). global_average_pool (pool.cc) picks one for the ISA fixed when its
// step is parsed and divides each sum by the plane's size.
#pragma once
#include <cstddef>

namespace resnode::cpu {

// The sum of the n floats of one plane, x[0..n). n >= 1.
using f32_gavgpool_cw_fn = float (*)(const float* x, size_t n);

float f32_gavgpool_cw__scalar(const float* x, size_t n);
float f32_gavgpool_cw__avx2(const float* x, size_t n);
float f32_gavgpool_cw__avx512f(const float* x, size_t n);

}  // namespace resnode::cpu
