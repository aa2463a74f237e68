// The direct-convolution micro-kernel contract (AVX-512): output channels in
// the vector lanes, output pixels broadcast from the input, as in ONNX
// Runtime's NCHWc kernels, but reading and writing plain NCHW.
//
// One call computes a tile of up to 14 output pixels (of one output row) x 32
// output channels over the whole K (channels x taps) in 28 zmm accumulators:
// per (channel, tap) two 16-channel weight vectors and 14 broadcast input
// pixels, so no im2col buffer and no column tails. Rows of at most 7 pixels
// use 7-pixel x 64-channel tiles instead (four weight vectors, seven
// broadcasts), and rows of exactly 7 pixels two-row tiles of 2 x 7 pixels x
// 32 channels (the two rows are adjacent in the output). The input is
// zero-padded by the caller.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../clamp.h"

namespace resnode::cpu {

struct DconvTile {
  // Input under tap 0 of channel 0 for the tile's first pixel; pixel p reads
  // + p * stride_w, tap t + tap_offset[t], channel c + c * channel_stride.
  const float* x = nullptr;
  size_t stride_w = 1;
  size_t channel_stride = 0;
  const int32_t* tap_offset = nullptr;
  // Two-row kernels: floats from the input of the tile's first output row to
  // that of its second (stride_h x the padded row width).
  size_t row_stride = 0;
  // Output: the tile's first pixel of channel oc0 at y, channel i at + i * ld;
  // pixels valid pixels, rows valid output channels (<= 32, or 64). With nhwc,
  // y (and the residual) are NHWC: channel i of pixel p at + p * ld + i (the
  // accumulators' own order, stored without the transpose).
  float* y = nullptr;
  size_t ld = 0;
  bool nhwc = false;
  int pixels = 0, rows = 0;
  const float* bias = nullptr;      // per output channel (from oc0), or null
  const float* residual = nullptr;  // residual at y's position, or null (may alias y)
  Clamp act;  // ReLU, ReLU6, Clip; none by default
  // Optional: while channel c runs, fetch prefetch[c * prefetch_per_channel,
  // + prefetch_per_channel) into L2 (a slice of the next weight panel, which
  // would otherwise come from L3 or memory at a rate one core cannot sustain).
  const float* prefetch = nullptr;
  size_t prefetch_per_channel = 0;
  // 64-channel kernels: floats from the first 32-channel weight panel to the
  // second (0: there is none; its rows are computed and dropped).
  size_t panel_stride = 0;
};

// w: the 32-channel weight panel, k-major (w[k * 32 + i], k = channel * taps + tap).
using f32_dconv_ukernel_fn = void (*)(size_t channels, size_t taps, const float* w,
                                      const DconvTile& t);

// 14 pixels x 32 channels and 7 pixels x 64 channels (two panels), for pixel
// strides 1, 2 and any (read from t.stride_w).
void f32_dconv_14x32s1__avx512f(size_t channels, size_t taps, const float* w, const DconvTile& t);
void f32_dconv_14x32s2__avx512f(size_t channels, size_t taps, const float* w, const DconvTile& t);
void f32_dconv_14x32__avx512f(size_t channels, size_t taps, const float* w, const DconvTile& t);
void f32_dconv_7x64s1__avx512f(size_t channels, size_t taps, const float* w, const DconvTile& t);
void f32_dconv_7x64s2__avx512f(size_t channels, size_t taps, const float* w, const DconvTile& t);
void f32_dconv_7x64__avx512f(size_t channels, size_t taps, const float* w, const DconvTile& t);
// Two output rows of 7 pixels (14 adjacent outputs) x 32 channels.
void f32_dconv_2x7x32s1__avx512f(size_t channels, size_t taps, const float* w, const DconvTile& t);
void f32_dconv_2x7x32s2__avx512f(size_t channels, size_t taps, const float* w, const DconvTile& t);
void f32_dconv_2x7x32__avx512f(size_t channels, size_t taps, const float* w, const DconvTile& t);

}  // namespace resnode::cpu
