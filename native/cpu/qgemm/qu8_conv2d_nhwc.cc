// The int8 conv on u8 NHWC rows (panels gathered from the input pixels) and the qu8s8 GEMM (see qu8_conv2d_nhwc.h).
#include "qu8_conv2d_nhwc.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "../common.h"
#include "../threadpool.h"
#include "qu8s8_gemm_tiles.h"

namespace resnode::cpu {

int64_t qu8_conv_tap_channels(const Qu8s8GemmConfig& config, int64_t c) {
  return config.igemm ? (c + 3) / 4 * 4 : c;
}

void qu8_conv_weights_ohwi(const int8_t* oihw, int64_t cout, int64_t c, int64_t kh, int64_t kw, int64_t c_tap, int8_t* ohwi) {
  RN_CHECK(c_tap >= c);
  std::memset(ohwi, 0, size_t(cout * kh * kw * c_tap));
  for (int64_t o = 0; o < cout; ++o)
    for (int64_t i = 0; i < c; ++i)
      for (int64_t y = 0; y < kh; ++y)
        for (int64_t x = 0; x < kw; ++x) ohwi[((o * kh + y) * kw + x) * c_tap + i] = oihw[((o * c + i) * kh + y) * kw + x];
}

namespace {
// A 1x1 conv whose output pixels are its input pixels: a plain GEMM on the NHWC rows.
bool is_plain_gemm(const Qu8ConvShape& s) {
  return s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 && s.pad_top == 0 && s.pad_left == 0 && s.oh == s.h && s.ow == s.w;
}
}  // namespace

const char* qu8_conv2d_nhwc_kernel_name(const Qu8s8Packed& p, const Qu8ConvShape& s) {
  // The branches of qu8_conv2d_nhwc below: the padded-tap copy, the plain GEMM (in place where k
  // is a multiple of 4: qu8s8_gemm_reads_in_place) and the K x K conv (in place where c is).
  const bool padded_taps = p.k != s.kh * s.kw * s.c;
  const bool in_place = padded_taps || (is_plain_gemm(s) ? qu8s8_gemm_reads_in_place(p) : p.config.igemm && s.c % 4 == 0);
  return in_place ? p.config.igemm_name : p.config.name;
}

void qu8_conv2d_nhwc(const Qu8s8Packed& p, const Qu8ConvShape& s, const uint8_t* x, int32_t x_zero_point,
                     uint8_t* y, int threads, const Qu8TileAdd* add) {
  const int64_t k = s.kh * s.kw * s.c, m = s.n * s.oh * s.ow;
  RN_CHECK(x_zero_point >= 0 && x_zero_point <= 255);
  if (p.k != k) {
    // Weights packed with c_tap > c channels per tap (qu8_conv_tap_channels; the stem's 3 as 4):
    // x is copied once, c_tap channels per pixel and the pad columns added (the zero point
    // throughout; the padded channels' weights are 0), so that each kernel row of each output pixel
    // is kw * c_tap contiguous bytes: kh row pointers per pixel, kw * c_tap / 4 groups each.
    const int64_t c_tap = qu8_conv_tap_channels(p.config, s.c), wp = std::max(s.w + s.pad_left, (s.ow - 1) * s.sw + s.kw);
    RN_CHECK(p.config.igemm && c_tap > s.c && p.k == s.kh * s.kw * c_tap);
    // Per call, uninitialised (every byte is written below), freed on return: no memory kept
    // between runs for the largest input seen.
    const std::unique_ptr<uint8_t[]> padded_bytes(new uint8_t[size_t(s.n * s.h * wp * c_tap)]);
    uint8_t* const padded = padded_bytes.get();
    parallel_for(size_t(s.n * s.h), threads_for_work(double(s.n * s.h * wp * c_tap), threads), [&](size_t line) {
      uint8_t* dst = padded + int64_t(line) * wp * c_tap;
      const uint8_t* src = x + int64_t(line) * s.w * s.c;
      std::memset(dst, x_zero_point, size_t(wp * c_tap));
      // A byte loop, not memcpy: c is a few bytes (3 for the stem), a call each would cost more.
      for (int64_t ix = 0; ix < s.w; ++ix)
        for (int64_t ch = 0; ch < s.c; ++ch) dst[(s.pad_left + ix) * c_tap + ch] = src[ix * s.c + ch];
    });
    const int64_t mr = p.config.mr, kc = s.kw * c_tap;
    const std::vector<uint8_t> pad_row(static_cast<size_t>(kc), static_cast<uint8_t>(x_zero_point));
    qu8s8_igemm_tiles(p, m, s.kh, [&](const uint8_t** ptrs, int64_t i, int64_t rows) {
      int64_t b = i / (s.oh * s.ow), oy = i / s.ow % s.oh, ox = i % s.ow;
      for (int64_t r = 0; r < mr; ++r) {
        for (int64_t ky = 0; ky < s.kh; ++ky) {
          const int64_t iy = oy * s.sh - s.pad_top + ky;
          ptrs[ky * mr + r] = r < rows && iy >= 0 && iy < s.h ? padded + ((b * s.h + iy) * wp + ox * s.sw) * c_tap : pad_row.data();
        }
        if (++ox == s.ow && (ox = 0, ++oy == s.oh)) oy = 0, ++b;
      }
    }, y, p.n, threads, add);
    return;
  }
  if (is_plain_gemm(s)) {
    qu8s8_gemm(p, m, x, s.c, y, p.n, threads, add);
    return;
  }
  if (p.config.igemm && s.c % 4 == 0) {
    // Each tap of each output pixel is one row pointer into x, read in place by the kernel (no
    // gather, no panel): kh * kw pointers per pixel, to the pad row (c bytes of the zero point)
    // where the tap falls outside the input; rows past the tile's end read the pad row too.
    const int64_t mr = p.config.mr, ks = s.kh * s.kw;
    const std::vector<uint8_t> pad_row(size_t(s.c), uint8_t(x_zero_point));
    qu8s8_igemm_tiles(p, m, ks, [&](const uint8_t** ptrs, int64_t i, int64_t rows) {
      // The tile's first pixel, then one column on per row (no division per row).
      int64_t b = i / (s.oh * s.ow), oy = i / s.ow % s.oh, ox = i % s.ow;
      for (int64_t r = 0; r < mr; ++r) {
        for (int64_t ky = 0; ky < s.kh; ++ky) {
          const int64_t iy = oy * s.sh - s.pad_top + ky;
          const bool row_inside = r < rows && iy >= 0 && iy < s.h;
          const uint8_t* line = row_inside ? x + (b * s.h + iy) * s.w * s.c : nullptr;
          for (int64_t kx = 0; kx < s.kw; ++kx) {
            const int64_t ix = ox * s.sw - s.pad_left + kx;
            ptrs[(ky * s.kw + kx) * mr + r] = row_inside && ix >= 0 && ix < s.w ? line + ix * s.c : pad_row.data();
          }
        }
        if (++ox == s.ow && (ox = 0, ++oy == s.oh)) oy = 0, ++b;
      }
    }, y, p.n, threads, add);
    return;
  }
  // Each tile's panel is filled straight from the input pixels (no im2col buffer): a row is
  // gathered in L1, one run of kw * c contiguous bytes per kernel row (the zero point where a tap
  // falls outside the input), then moved into the panel 4 bytes at a time.
  const int64_t mr = p.config.mr, run = s.kw * s.c;
  qu8s8_gemm_tiles(p, m, [&](uint8_t* panel, int64_t i, int64_t rows) {
    thread_local std::vector<uint8_t> row_buf;
    row_buf.resize(size_t(k));
    uint8_t* row = row_buf.data();
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t pixel = i + r, b = pixel / (s.oh * s.ow), oy = pixel / s.ow % s.oh, ox = pixel % s.ow;
      const int64_t ix0 = ox * s.sw - s.pad_left;
      // Taps [kx0, kx1) of each kernel row read columns inside the input.
      const int64_t kx0 = std::max<int64_t>(0, -ix0), kx1 = std::min(s.kw, s.w - ix0);
      for (int64_t ky = 0; ky < s.kh; ++ky) {
        uint8_t* dst = row + ky * run;
        const int64_t iy = oy * s.sh - s.pad_top + ky;
        if (iy < 0 || iy >= s.h || kx0 >= kx1) {
          std::memset(dst, x_zero_point, size_t(run));
          continue;
        }
        if (kx0 > 0) std::memset(dst, x_zero_point, size_t(kx0 * s.c));
        std::memcpy(dst + kx0 * s.c, x + ((b * s.h + iy) * s.w + ix0 + kx0) * s.c, size_t((kx1 - kx0) * s.c));
        if (kx1 < s.kw) std::memset(dst + kx1 * s.c, x_zero_point, size_t((s.kw - kx1) * s.c));
      }
      qu8s8_panel_row(panel, mr, r, 0, row, k);
    }
  }, y, p.n, threads, add);
}

}  // namespace resnode::cpu

namespace resnode::cpu {

void qu8_conv2d_step(const Qu8ConvPacked& p, const Qu8ConvShape& s, const Qu8ConvIo& io, uint8_t* x_scratch,
                     uint8_t* y_scratch, int threads, const Qu8ConvResidualAdd* add, uint8_t* r_scratch) {
  RN_CHECK(s.c == p.c_in && s.kh == p.kh && s.kw == p.kw);
  const int64_t hw = s.h * s.w, ohw = s.oh * s.ow;
  // Both layout changes go by chunks of kPixels pixels: each reads (or writes) kPixels
  // consecutive floats per channel, and the chunk's NHWC bytes (kPixels * channels) stay in L1/L2.
  constexpr int64_t kPixels = 64;
  const int64_t x_chunks = (hw + kPixels - 1) / kPixels, y_chunks = (ohw + kPixels - 1) / kPixels;
  // QuantizeLinear into NHWC: roundHalfEven(x / scale) + zero point, clamped (as the
  // Requantize step it replaces: the float32 quotient, rounded to nearest even).
  const Qu8Quant xq{p.x_scale, p.x_zero_point, p.x_qmin, p.x_qmax};
  RN_CHECK((io.x_f32 == nullptr) != (io.x_u8 == nullptr) && (io.y_f32 == nullptr) != (io.y_u8 == nullptr));
  const float* x = io.x_f32;
  const uint8_t* x_u8 = io.x_u8 ? io.x_u8 : x_scratch;
  uint8_t* y_u8 = io.y_u8 ? io.y_u8 : y_scratch;
  if (x) parallel_for(size_t(s.n * x_chunks), threads_for_work(double(s.n * hw * s.c), threads), [&](size_t task) {
    const int64_t b = int64_t(task) / x_chunks, i0 = int64_t(task) % x_chunks * kPixels, i1 = std::min(hw, i0 + kPixels);
    p.layout.quantize(x + b * s.c * hw, s.c, hw, i0, i1, xq, x_scratch + b * hw * s.c);
  });
  Qu8TileAdd tile_add;
  if (add) {
    RN_CHECK(add->kernel && add->p.shift == p.y_shift && (io.r_f32 == nullptr) != (io.r_u8 == nullptr));
    tile_add = {io.r_u8 ? io.r_u8 : r_scratch, p.c_out, add->conv_is_a, add->p, add->kernel};
    if (io.r_f32) {
      // The residual operand's QuantizeLinear, into the shifted u8 domain the add kernel reads.
      const QLinearAdd& a = add->p;
      const Qu8Quant rq{add->conv_is_a ? a.b_scale : a.a_scale, (add->conv_is_a ? a.b_zero_point : a.a_zero_point) + a.shift, 0, 255};
      parallel_for(size_t(s.n * y_chunks), threads_for_work(double(s.n * ohw * p.c_out), threads), [&](size_t task) {
        const int64_t b = int64_t(task) / y_chunks, i0 = int64_t(task) % y_chunks * kPixels, i1 = std::min(ohw, i0 + kPixels);
        p.layout.quantize(io.r_f32 + b * p.c_out * ohw, p.c_out, ohw, i0, i1, rq, r_scratch + b * ohw * p.c_out);
      });
    }
  }
  qu8_conv2d_nhwc(p.gemm, s, x_u8, p.x_zero_point, y_u8, threads, add ? &tile_add : nullptr);
  if (io.y_u8) return;
  float* y = io.y_f32;
  // The bytes are the conv's output quantization, or the fused add's.
  const Qu8Quant yq = add ? Qu8Quant{add->p.out_scale, add->p.zero_point + add->p.shift, add->p.qmin + add->p.shift, add->p.qmax + add->p.shift}
                          : Qu8Quant{p.y_scale, p.gemm.requant.zero_point, p.gemm.requant.qmin, p.gemm.requant.qmax};
  parallel_for(size_t(s.n * y_chunks), threads_for_work(double(s.n * ohw * p.c_out), threads), [&](size_t task) {
    const int64_t b = int64_t(task) / y_chunks, i0 = int64_t(task) % y_chunks * kPixels, i1 = std::min(ohw, i0 + kPixels);
    p.layout.dequantize(y_u8 + b * ohw * p.c_out, p.c_out, ohw, i0, i1, yq, y + b * p.c_out * ohw);
  });
}

}  // namespace resnode::cpu
