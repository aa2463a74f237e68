// im2col into u8 rows and the qu8s8 GEMM (see qu8_conv2d_nhwc.h).
#include "qu8_conv2d_nhwc.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

#include "../common.h"
#include "../threadpool.h"

namespace resnode::cpu {

void qu8_conv_weights_ohwi(const int8_t* oihw, int64_t cout, int64_t c, int64_t kh, int64_t kw, int8_t* ohwi) {
  for (int64_t o = 0; o < cout; ++o)
    for (int64_t i = 0; i < c; ++i)
      for (int64_t y = 0; y < kh; ++y)
        for (int64_t x = 0; x < kw; ++x) ohwi[((o * kh + y) * kw + x) * c + i] = oihw[((o * c + i) * kh + y) * kw + x];
}

void qu8_conv2d_nhwc(const Qu8s8Packed& p, const Qu8ConvShape& s, const uint8_t* x, int32_t x_zero_point,
                     uint8_t* y, int threads) {
  const int64_t k = s.kh * s.kw * s.c, m = s.n * s.oh * s.ow;
  RN_CHECK(p.k == k && x_zero_point >= 0 && x_zero_point <= 255);
  if (s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 && s.pad_top == 0 && s.pad_left == 0 && s.oh == s.h && s.ow == s.w) {
    qu8s8_gemm(p, m, x, s.c, y, p.n, threads);
    return;
  }
  // One row per output pixel; a tap outside the input reads the zero point.
  std::unique_ptr<uint8_t[]> rows_buf(new uint8_t[size_t(m * k)]);  // every byte is written below
  uint8_t* rows = rows_buf.get();
  parallel_for(size_t(s.n * s.oh), threads_for_work(double(m * k), threads), [&](size_t task) {
    const int64_t b = int64_t(task) / s.oh, oy = int64_t(task) % s.oh;
    for (int64_t ox = 0; ox < s.ow; ++ox) {
      uint8_t* row = rows + ((b * s.oh + oy) * s.ow + ox) * k;
      for (int64_t ky = 0; ky < s.kh; ++ky) {
        const int64_t iy = oy * s.sh - s.pad_top + ky;
        for (int64_t kx = 0; kx < s.kw; ++kx, row += s.c) {
          const int64_t ix = ox * s.sw - s.pad_left + kx;
          if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) std::memset(row, x_zero_point, size_t(s.c));
          else std::memcpy(row, x + ((b * s.h + iy) * s.w + ix) * s.c, size_t(s.c));
        }
      }
    }
  });
  qu8s8_gemm(p, m, rows, k, y, p.n, threads);
}

}  // namespace resnode::cpu

namespace resnode::cpu {

void qu8_conv2d_nchw_f32(const Qu8ConvPacked& p, const Qu8ConvShape& s, const float* x, float* y,
                         uint8_t* x_u8, uint8_t* y_u8, int threads) {
  RN_CHECK(s.c == p.c_in && s.kh == p.kh && s.kw == p.kw);
  const int64_t hw = s.h * s.w, ohw = s.oh * s.ow;
  // Both layout changes go by chunks of kPixels pixels: each reads (or writes) kPixels
  // consecutive floats per channel, and the chunk's NHWC bytes (kPixels * channels) stay in L1/L2.
  constexpr int64_t kPixels = 64;
  const int64_t x_chunks = (hw + kPixels - 1) / kPixels, y_chunks = (ohw + kPixels - 1) / kPixels;
  // QuantizeLinear into NHWC: roundHalfEven(x / scale) + zero point, clamped (as the
  // Requantize step it replaces: the float32 quotient, rounded to nearest even).
  parallel_for(size_t(s.n * x_chunks), threads_for_work(double(s.n * hw * s.c), threads), [&](size_t task) {
    const int64_t b = int64_t(task) / x_chunks, i0 = int64_t(task) % x_chunks * kPixels, i1 = std::min(hw, i0 + kPixels);
    const float lo = float(p.x_qmin), hi = float(p.x_qmax), zp = float(p.x_zero_point);
    for (int64_t c = 0; c < s.c; ++c) {
      const float* xc = x + (b * s.c + c) * hw;
      uint8_t* out = x_u8 + b * hw * s.c + c;
      for (int64_t i = i0; i < i1; ++i) {
        const float q = std::nearbyint(xc[i] / p.x_scale) + zp;
        out[i * s.c] = uint8_t(int32_t(q < lo ? lo : q > hi ? hi : q));
      }
    }
  });
  qu8_conv2d_nhwc(p.gemm, s, x_u8, p.x_zero_point, y_u8, threads);
  parallel_for(size_t(s.n * y_chunks), threads_for_work(double(s.n * ohw * p.c_out), threads), [&](size_t task) {
    const int64_t b = int64_t(task) / y_chunks, i0 = int64_t(task) % y_chunks * kPixels, i1 = std::min(ohw, i0 + kPixels);
    const int32_t zy = p.gemm.requant.zero_point;
    for (int64_t o = 0; o < p.c_out; ++o) {
      const uint8_t* in = y_u8 + b * ohw * p.c_out + o;
      float* yc = y + (b * p.c_out + o) * ohw;
      for (int64_t i = i0; i < i1; ++i) yc[i] = float(int32_t(in[i * p.c_out]) - zy) * p.y_scale;
    }
  });
}

}  // namespace resnode::cpu
