// The direct-convolution micro-kernel contract (AVX-512): output channels in
// the vector lanes, output pixels broadcast from the input, as in ONNX
// Runtime's NCHWc kernels, but reading and writing plain NCHW.
//
// One call computes a tile of up to 14 output pixels x 32 output channels over
// the whole K (channels x taps) in 28 zmm accumulators: per (channel, tap) two
// 16-channel weight vectors and 14 broadcast input pixels, so no im2col
// buffer and no column tails. The tile's pixels are one output row (pixels
// 0..13 of row A) or two rows of up to 7 (pixels 0..6 of row A, 0..6 of row B),
// so 7-wide layers waste no lanes. The input is zero-padded by the caller.
#pragma once
#include <cstddef>
#include <cstdint>

namespace resnode::cpu {

struct DconvTile {
  // Input under tap 0 of channel 0 for the first pixel of row A / row B;
  // pixel p of a row reads + p * stride_w, tap t + tap_offset[t], channel c
  // + c * channel_stride.
  const float* xa = nullptr;
  const float* xb = nullptr;
  size_t stride_w = 1;
  size_t channel_stride = 0;
  const int32_t* tap_offset = nullptr;
  // Output: row A's first pixel of channel oc0 at ya, row B's at yb; channel
  // i of the tile at + i * ld. na / nb valid pixels in row A / B (nb = 0 for
  // one-row tiles), rows valid output channels (<= 32).
  float* ya = nullptr;
  float* yb = nullptr;
  size_t ld = 0;
  int na = 0, nb = 0, rows = 0;
  const float* bias = nullptr;      // per output channel (32 from oc0), or null
  const float* residual_a = nullptr;  // residual at ya's position, or null (may alias ya)
  const float* residual_b = nullptr;
  bool relu = false;
  // Optional: while channel c runs, fetch prefetch[c * prefetch_per_channel,
  // + prefetch_per_channel) into L2 (a slice of the next weight panel, which
  // would otherwise come from L3 or memory at a rate one core cannot sustain).
  const float* prefetch = nullptr;
  size_t prefetch_per_channel = 0;
};

// w: the 32-channel weight panel, k-major (w[k * 32 + i], k = channel * taps + tap).
using f32_dconv_ukernel_fn = void (*)(size_t channels, size_t taps, const float* w,
                                      const DconvTile& t);

// Single-row tiles (14 pixels) and two-row tiles (7 + 7), for pixel strides 1,
// 2 and any (read from t.stride_w).
void f32_dconv_14x32s1__avx512f(size_t channels, size_t taps, const float* w, const DconvTile& t);
void f32_dconv_14x32s2__avx512f(size_t channels, size_t taps, const float* w, const DconvTile& t);
void f32_dconv_14x32__avx512f(size_t channels, size_t taps, const float* w, const DconvTile& t);
void f32_dconv_7x2x32s1__avx512f(size_t channels, size_t taps, const float* w, const DconvTile& t);
void f32_dconv_7x2x32s2__avx512f(size_t channels, size_t taps, const float* w, const DconvTile& t);
void f32_dconv_7x2x32__avx512f(size_t channels, size_t taps, const float* w, const DconvTile& t);

}  // namespace resnode::cpu
