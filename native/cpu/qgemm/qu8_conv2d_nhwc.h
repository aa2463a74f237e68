// An int8 convolution on uint8 NHWC activations (groups 1): a 1x1 stride-1 unpadded conv is the
// GEMM on the activation rows in place; any other shape reads each output pixel's receptive
// field in (kh, kw, c) order: in place through row pointers where the ISA has an indirect kernel
// and c is a multiple of 4, else gathered into the GEMM's panels (padding is the input zero point:
// the quantized real zero, whose product the bias folding already subtracts).
#pragma once
#include <cstdint>

#include "qu8_layout.h"
#include "qu8s8_gemm.h"

namespace resnode::cpu {

struct Qu8ConvShape {
  int64_t n = 1, h = 1, w = 1, c = 1;          // input, NHWC
  int64_t kh = 1, kw = 1, sh = 1, sw = 1;
  int64_t pad_top = 0, pad_left = 0, oh = 1, ow = 1;  // output rows and columns
};

// The channels per tap the packed weights hold for c input channels: c, or c rounded up to a
// multiple of 4 where the ISA's indirect kernel reads rows in place (the stem's 3 channels as 4, so
// that each tap is one group of 4 instead of straddling groups; qu8_conv2d_nhwc pads x to match).
int64_t qu8_conv_tap_channels(const Qu8s8GemmConfig& config, int64_t c);

// OIHW int8 weights [cout][c][kh][kw] in the (kh, kw, c) order the im2col rows use:
// [cout][kh][kw][c_tap], zero for the channels from c to c_tap.
void qu8_conv_weights_ohwi(const int8_t* oihw, int64_t cout, int64_t c, int64_t kh, int64_t kw, int64_t c_tap, int8_t* ohwi);

// y [n][oh][ow][cout] from x [n][h][w][c]; p packs the OHWI weights (k = kh * kw * c_tap).
// add: a residual QLinearAdd fused into the epilogue (Qu8TileAdd; its rows are y's pixels).
void qu8_conv2d_nhwc(const Qu8s8Packed& p, const Qu8ConvShape& s, const uint8_t* x, int32_t x_zero_point,
                     uint8_t* y, int threads, const Qu8TileAdd* add = nullptr);

// The micro-kernel qu8_conv2d_nhwc runs for this shape (the indirect one where it reads the rows in
// place), for profiles.
const char* qu8_conv2d_nhwc_kernel_name(const Qu8s8Packed& p, const Qu8ConvShape& s);

}  // namespace resnode::cpu

namespace resnode::cpu {

// A plan's int8 conv step (groups 1, no dilation): the packed OHWI weights with the activation
// quantization it reads and writes. Activations stay float32 NCHW in the plan's buffers
// (dequantized values); the step quantizes x into u8 NHWC, runs qu8_conv2d_nhwc and
// dequantizes y. int8 activations run as uint8 shifted by 128 (the zero points with them).
struct Qu8ConvPacked {
  Qu8s8Packed gemm;  // requant carries the output's (shifted) zero point and range
  Qu8LayoutConfig layout;  // the float32 NCHW <-> u8 NHWC kernels, fixed with the GEMM's
  int64_t c_out = 0, c_in = 0, kh = 0, kw = 0;
  float x_scale = 1.f, y_scale = 1.f;
  int32_t x_zero_point = 0, x_qmin = 0, x_qmax = 255;  // uint8 (shifted) domain
  int32_t x_shift = 0, y_shift = 0;                    // 128 where the model's tensor is int8
  size_t bytes() const { return gemm.w.size() + 8 * gemm.bias.size(); }
};

// One plan step: x and y each float32 NCHW (dequantized values of the input's and output's
// quantization) or u8 NHWC (the quantized bytes, in the shifted u8 domain, as the GEMM reads and
// writes them), as the plan decided for each value (src/plan/formats.ts). x_u8 / y_u8 are
// scratch of n*h*w*c_in and n*oh*ow*c_out bytes where that side is float32, else unused.
struct Qu8ConvIo {
  const float* x_f32 = nullptr;    // or
  const uint8_t* x_u8 = nullptr;
  float* y_f32 = nullptr;          // or
  uint8_t* y_u8 = nullptr;
  // With a fused residual add: the residual, in y's shape, float32 NCHW or u8 NHWC (r_scratch:
  // its bytes where it is float32). y is then the add's output, in the add's quantization.
  const float* r_f32 = nullptr;    // or
  const uint8_t* r_u8 = nullptr;
};
// The residual QLinearAdd a step fuses (ORT's arithmetic, the qlinearAdd step's u8 kernel): the
// conv's requantised bytes are operand a (conv_is_a) or b, the residual the other.
struct Qu8ConvResidualAdd {
  QLinearAdd p;
  bool conv_is_a = true;
  Qu8QLinearAddKernel kernel = nullptr;
};
void qu8_conv2d_step(const Qu8ConvPacked& p, const Qu8ConvShape& s, const Qu8ConvIo& io, uint8_t* x_scratch,
                     uint8_t* y_scratch, int threads, const Qu8ConvResidualAdd* add = nullptr,
                     uint8_t* r_scratch = nullptr);

}  // namespace resnode::cpu
