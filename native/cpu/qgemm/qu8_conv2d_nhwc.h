// An int8 convolution on uint8 NHWC activations (groups 1): a 1x1 stride-1 unpadded conv is the
// GEMM on the activation rows in place; any other shape gathers each output pixel's receptive
// field into one u8 row (im2col, (kh, kw, c) order, padding filled with the input zero point:
// the quantized real zero, whose product the bias folding already subtracts) and runs the GEMM.
#pragma once
#include <cstdint>

#include "qu8s8_gemm.h"

namespace resnode::cpu {

struct Qu8ConvShape {
  int64_t n = 1, h = 1, w = 1, c = 1;          // input, NHWC
  int64_t kh = 1, kw = 1, sh = 1, sw = 1;
  int64_t pad_top = 0, pad_left = 0, oh = 1, ow = 1;  // output rows and columns
};

// OIHW int8 weights [cout][c][kh][kw] in the (kh, kw, c) order the im2col rows use: [cout][kh][kw][c].
void qu8_conv_weights_ohwi(const int8_t* oihw, int64_t cout, int64_t c, int64_t kh, int64_t kw, int8_t* ohwi);

// y [n][oh][ow][cout] from x [n][h][w][c]; p packs the OHWI weights (k = kh * kw * c).
void qu8_conv2d_nhwc(const Qu8s8Packed& p, const Qu8ConvShape& s, const uint8_t* x, int32_t x_zero_point,
                     uint8_t* y, int threads);

}  // namespace resnode::cpu
