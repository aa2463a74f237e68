// Depthwise convolution (one input channel per group, one or two output
// channels per group) with KxK kernels, K in {3, 5, 7}, stride 1 or 2, no
// dilation: a padded copy of each input plane, then one row kernel call per
// output row with the output columns in the vector lanes (the tensors are
// NCHW, so a row of one plane is contiguous; channels-in-lanes would need a
// layout change first). Bias, residual and the clamp are fused into the store.
#pragma once
#include <cstddef>

#include "../ops.h"
#include "../pack.h"

namespace resnode::cpu {

// One output row: y[x] = clamp(bias + residual[x] + sum_{ky,kx < K}
// w[ky * K + kx] * in_ky(x * S + kx), lo, hi) for x < out_w, where in_ky is
// padded input row rows[ky]. For S = 2 a padded row is split in two phases:
// even columns from rows[ky], odd ones from rows[ky] + phase. residual may be
// null. Every row (phase) holds at least dwconv_row_floats(out_w, K, S) floats
// (zeros past the padded input), so full vectors are loaded without masks;
// the stores and the residual loads are masked at out_w.
using f32_dwconv_row_fn = void (*)(const float* const* rows, size_t phase, const float* w,
                                   float bias, const float* residual, float lo, float hi,
                                   size_t out_w, float* y);

// A per-channel affine over one plane (a depthwise 1x1 stride-1 unpadded conv
// with one output channel per group: a BatchNormalization with no conv before
// it): y[i] = clamp(x[i] * scale + bias + residual[i], lo, hi) for i < n.
// residual may be null; every load and store is masked at n.
using f32_vmulcaddc_fn = void (*)(const float* x, size_t n, float scale, float bias,
                                  const float* residual, float lo, float hi, float* y);

// even[j] = src[2j], odd[j] = src[2j + 1] for j < pairs: a stride-2 input row split into the two
// phases the row kernels read.
using f32_deinterleave2_fn = void (*)(const float* src, size_t pairs, float* even, float* odd);

// Floats that the row kernels may read from one row (or phase) of the padded input.
size_t dwconv_row_floats(size_t out_w, size_t k, size_t stride);

// The kernel for this shape and ISA: a row kernel, the plane affine, or
// neither (the scalar direct loop then runs).
struct DwconvKernel {
  f32_dwconv_row_fn fn = nullptr;
  f32_vmulcaddc_fn affine = nullptr;
  const char* name = nullptr;
  f32_deinterleave2_fn split = nullptr;  // stride 2: the phase split of the same ISA
  bool found() const { return fn || affine; }
};
DwconvKernel dwconv_kernel(const Conv2dShape& s, const PackedConv& w);
// Same contract as conv2d() in ops.h, for direct-packed weights that have a dwconv_kernel().
void conv2d_dwconv(const Conv2dShape& s, const PackedConv& w, const float* x,
                   const float* residual, Clamp act, const Activation& f, float* y, int threads);

#define RN_DWCONV_DECLARE(name)                                                                 \
  void name(const float* const* rows, size_t phase, const float* w, float bias,                 \
            const float* residual, float lo, float hi, size_t out_w, float* y);
RN_DWCONV_DECLARE(f32_dwconv_3x3s1__avx512f)
RN_DWCONV_DECLARE(f32_dwconv_3x3s2__avx512f)
RN_DWCONV_DECLARE(f32_dwconv_5x5s1__avx512f)
RN_DWCONV_DECLARE(f32_dwconv_5x5s2__avx512f)
RN_DWCONV_DECLARE(f32_dwconv_7x7s1__avx512f)
RN_DWCONV_DECLARE(f32_dwconv_7x7s2__avx512f)
RN_DWCONV_DECLARE(f32_dwconv_3x3s1__avx2)
RN_DWCONV_DECLARE(f32_dwconv_3x3s2__avx2)
RN_DWCONV_DECLARE(f32_dwconv_5x5s1__avx2)
RN_DWCONV_DECLARE(f32_dwconv_5x5s2__avx2)
RN_DWCONV_DECLARE(f32_dwconv_7x7s1__avx2)
RN_DWCONV_DECLARE(f32_dwconv_7x7s2__avx2)
#undef RN_DWCONV_DECLARE
void f32_deinterleave2__avx512f(const float* src, size_t pairs, float* even, float* odd);
void f32_deinterleave2__avx2(const float* src, size_t pairs, float* even, float* odd);
void f32_vmulcaddc__avx512f(const float* x, size_t n, float scale, float bias,
                            const float* residual, float lo, float hi, float* y);
void f32_vmulcaddc__avx2(const float* x, size_t n, float scale, float bias,
                         const float* residual, float lo, float hi, float* y);

}  // namespace resnode::cpu
