// Direct convolution with output channels in the vector lanes (AVX-512), for
// ungrouped convolutions with a kernel bigger than 1x1: no im2col, no column
// tails (see gemm/dconv.h). The weights are packed in 32-channel panels
// (PackedConv::dconv) when such a kernel exists for the active ISA.
#pragma once
#include "ops.h"
#include "pack.h"

namespace resnode::cpu {

// Whether pack_conv2d packs these weights for the direct kernel.
bool dconv_packable(Isa isa, int64_t c_out, int64_t kh, int64_t kw, int64_t groups);
// Tests and benchmarks: false makes later packings use the GEMM panels.
void dconv_enable_for_tests(bool on);

// Whether the direct kernel takes this shape (int32 offsets, a padded block not
// far larger than the input); choose_conv2d sends the others to w.gemm_fallback().
bool dconv_fits(const Conv2dShape& s);
// Same contract as conv2d() in ops.h, for weights packed with w.dconv and a
// shape for which dconv_fits().
// y_nhwc: y and the residual are NHWC ([n][out_h][out_w][c_out]; x stays NCHW).
void conv2d_dconv(const Conv2dShape& s, const PackedConv& w, const float* x,
                  const float* residual, Clamp act, float* y, int threads, bool y_nhwc = false);
// The micro-kernel of conv2d_dconv's main tiles for this shape (conv2d_kernel).
const char* conv2d_dconv_kernel(const Conv2dShape& s, const PackedConv& w);

}  // namespace resnode::cpu
