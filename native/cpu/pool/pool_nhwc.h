// Pooling on float32 NHWC values (channels in the lanes, XNNPACK's f32_maxpool / f32_avgpool
// grammar): each output pixel gathers the addresses of its in-bounds taps, whole rows
// of c floats, and one micro-kernel reduces them lane by lane; no transpose and no padded copy.
// One kernel per file and ISA; the drivers (pool_nhwc.cc) take the table of the ISA fixed when
// the step was parsed.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../isa.h"
#include "../ops.h"

namespace resnode::cpu {

// out[c] = max(-FLT_MAX, rows[0][c], ..., rows[nrows - 1][c]) for c < channels (nrows may be 0: a
// window with no tap gives -FLT_MAX, ONNX Runtime's value); a NaN tap is skipped, as in the NCHW
// kernels (the max keeps its accumulator when the new value is unordered).
using f32_maxpool_fn = void (*)(const float* const* rows, size_t nrows, size_t channels, float* out);
void f32_maxpool__scalar(const float* const* rows, size_t nrows, size_t channels, float* out);
void f32_maxpool__avx2(const float* const* rows, size_t nrows, size_t channels, float* out);
void f32_maxpool__avx512f(const float* const* rows, size_t nrows, size_t channels, float* out);

// out[c] = (rows[0][c] + ... + rows[nrows - 1][c]) * scale for c < channels (0 when nrows is 0).
using f32_avgpool_fn = void (*)(const float* const* rows, size_t nrows, size_t channels, float scale, float* out);
void f32_avgpool__scalar(const float* const* rows, size_t nrows, size_t channels, float scale, float* out);
void f32_avgpool__avx2(const float* const* rows, size_t nrows, size_t channels, float scale, float* out);
void f32_avgpool__avx512f(const float* const* rows, size_t nrows, size_t channels, float scale, float* out);

// The kernels of one ISA and their names (for profiles), fixed when a step is parsed.
struct PoolNhwcKernels {
  f32_maxpool_fn maxpool;
  f32_avgpool_fn avgpool;  // also the global average pool's, over all of an image's pixels
  const char *maxpool_name, *avgpool_name;
};
const PoolNhwcKernels& pool_nhwc_kernels(Isa isa);

// y (NHWC [n, out_h, out_w, c]) = the max pool of x (NHWC [n, h, w, c]), padded taps skipped.
void max_pool2d_nhwc(const Pool2dShape& s, const PoolNhwcKernels& k, const float* x, float* y, int threads);
// As max_pool2d_nhwc, the average: divided by the in-bounds taps, or with count_include_pad by the
// taps inside the padded extent (ceil_mode's overhang excluded), as average_pool2d does.
void average_pool2d_nhwc(const Pool2dShape& s, bool count_include_pad, const PoolNhwcKernels& k, const float* x,
                         float* y, int threads);
// y[b, c] (the [n, c] the FC reads) = the mean over hw pixels of x (NHWC [n, hw, c]).
void global_average_pool_nhwc(int64_t n, int64_t c, int64_t hw, const PoolNhwcKernels& k, const float* x, float* y,
                              int threads);

}  // namespace resnode::cpu
