// Pooling on quantized bytes, u8 NHWC (the form the plan keeps between int8 steps,
// src/plan/formats.ts): a max pool stays in the quantized domain (max commutes with the monotonic
// quantization, so it is ONNX Runtime's QDQ MaxPool with its Q/DQ pair dropped), and a global
// average pool is ONNX Runtime's QLinearGlobalAveragePool: the integer sum S over h·w, then
// y = clamp(roundHalfEven(float(S − hw·x_zero_point) · multiplier) + y_zero_point, qmin, qmax),
// given back dequantized, (y − y_zero_point) · y_scale, in float32.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../isa.h"
#include "../ops.h"

namespace resnode::cpu {

// out[c] = max(rows[0][c], ..., rows[nrows - 1][c]) for c < channels; nrows >= 1.
using Qu8MaxPoolKernel = void (*)(const uint8_t* const* rows, size_t nrows, size_t channels, uint8_t* out);
void qu8_maxpool__scalar(const uint8_t* const* rows, size_t nrows, size_t channels, uint8_t* out);
void qu8_maxpool__avx2(const uint8_t* const* rows, size_t nrows, size_t channels, uint8_t* out);
void qu8_maxpool__avx512f(const uint8_t* const* rows, size_t nrows, size_t channels, uint8_t* out);
Qu8MaxPoolKernel qu8_maxpool_kernel(Isa isa);
const char* qu8_maxpool_kernel_name(Isa isa);

// sums[c] = x[c] + x[channels + c] + ... over `pixels` rows of `channels` bytes.
using Qu8GavgSumKernel = void (*)(const uint8_t* x, size_t pixels, size_t channels, int32_t* sums);
void qu8_gavgpool_sum__scalar(const uint8_t* x, size_t pixels, size_t channels, int32_t* sums);
void qu8_gavgpool_sum__avx512f(const uint8_t* x, size_t pixels, size_t channels, int32_t* sums);
Qu8GavgSumKernel qu8_gavgpool_sum_kernel(Isa isa);
const char* qu8_gavgpool_sum_kernel_name(Isa isa);

// y (u8 NHWC [n, out_h, out_w, c]) = the max pool of x (u8 NHWC [n, h, w, c]); padded taps are
// skipped (ONNX pads a max pool with −inf); every window has at least one tap in bounds.
bool every_window_has_a_tap(const Pool2dShape& s);  // what qu8_max_pool_nhwc requires
void qu8_max_pool_nhwc(const Pool2dShape& s, Qu8MaxPoolKernel kernel, const uint8_t* x, uint8_t* y, int threads);

struct QGlobalAveragePool {
  int32_t x_zero_point;      // of the bytes read (u8 domain)
  float x_scale;             // for a float32 input: its integers are roundHalfEven(x / x_scale)
  float multiplier;          // x_scale / (y_scale · hw), as ONNX Runtime forms it
  int32_t y_zero_point, qmin, qmax;
  float y_scale;
};
// y[n, c] (float32) from x as u8 NHWC bytes [n, hw, c] (x_u8) or as float32 NCHW values on x's
// quantization grid [n, c, hw] (x_f32; exactly one of them set).
void qu8_global_average_pool(int64_t n, int64_t c, int64_t hw, const QGlobalAveragePool& q, Qu8GavgSumKernel sum,
                             const uint8_t* x_u8, const float* x_f32, float* y);

}  // namespace resnode::cpu
