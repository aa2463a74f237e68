// Pooling on the GPU (float32 NCHW device pointers, enqueued on ctx's stream),
// same semantics as native/cpu/ops.h:
//   max_pool2d: max over in-bounds taps (padding never wins).
//   average_pool2d: mean over in-bounds taps, or with count_include_pad the
//     sum divided by the taps inside the padded extent (see avg_pool_divisor).
//   global_average_pool: y[n, c] = mean of x[n, c, :, :].
#pragma once
#include <cstdint>

#include "context.cuh"

namespace resnode::cuda {

struct Pool2dShape {
  int64_t n, c, h, w;
  int64_t kh, kw, stride_h, stride_w, dil_h, dil_w;
  int64_t pad_top, pad_left, pad_bottom, pad_right;
  int64_t out_h, out_w;
};

void max_pool2d(Context& ctx, const Pool2dShape& s, const float* x, float* y);
void average_pool2d(Context& ctx, const Pool2dShape& s, bool count_include_pad, const float* x,
                    float* y);
void global_average_pool(Context& ctx, int64_t n, int64_t c, int64_t hw, const float* x, float* y);

}  // namespace resnode::cuda
