// The depthwise driver: a few tasks per thread, each over consecutive (image,
// output channel) planes. Each plane is copied once into a zero-padded buffer
// (split into even and odd columns for stride 2, so that every tap is a
// contiguous vector load), then the row kernel chosen for the shape runs over
// the output rows.
#include "dwconv.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "../arch.h"
#include "../common.h"
#include "../threadpool.h"

namespace resnode::cpu {
namespace {

#if RN_ARCH_X86_64
#define RN_DWCONV(k) DwconvKernel{k, nullptr, #k, nullptr}
#define RN_VMULCADDC(k) DwconvKernel{nullptr, k, #k, nullptr}
DwconvKernel pick_affine(Isa isa) {
  if (isa == Isa::avx512) return RN_VMULCADDC(f32_vmulcaddc__avx512f);
  if (isa == Isa::avx2) return RN_VMULCADDC(f32_vmulcaddc__avx2);
  return {};
}

DwconvKernel pick_row(Isa isa, int64_t k, int64_t stride) {
  const int key = int(k) * 10 + int(stride);
  if (isa == Isa::avx512) {
    switch (key) {
      case 31: return RN_DWCONV(f32_dwconv_3x3s1__avx512f);
      case 32: return RN_DWCONV(f32_dwconv_3x3s2__avx512f);
      case 51: return RN_DWCONV(f32_dwconv_5x5s1__avx512f);
      case 52: return RN_DWCONV(f32_dwconv_5x5s2__avx512f);
      case 71: return RN_DWCONV(f32_dwconv_7x7s1__avx512f);
      case 72: return RN_DWCONV(f32_dwconv_7x7s2__avx512f);
    }
  } else if (isa == Isa::avx2) {
    switch (key) {
      case 31: return RN_DWCONV(f32_dwconv_3x3s1__avx2);
      case 32: return RN_DWCONV(f32_dwconv_3x3s2__avx2);
      case 51: return RN_DWCONV(f32_dwconv_5x5s1__avx2);
      case 52: return RN_DWCONV(f32_dwconv_5x5s2__avx2);
      case 71: return RN_DWCONV(f32_dwconv_7x7s1__avx2);
      case 72: return RN_DWCONV(f32_dwconv_7x7s2__avx2);
    }
  }
  return {};
}

DwconvKernel pick(Isa isa, int64_t k, int64_t stride) {
  DwconvKernel kernel = pick_row(isa, k, stride);
  if (kernel.fn && stride == 2) kernel.split = isa == Isa::avx512 ? f32_deinterleave2__avx512f : f32_deinterleave2__avx2;
  return kernel;
}
#undef RN_DWCONV
#undef RN_VMULCADDC
#else
// The kernels are x86-64 only: elsewhere the scalar direct loop runs.
DwconvKernel pick_affine(Isa) { return {}; }
DwconvKernel pick(Isa, int64_t, int64_t) { return {}; }
#endif

// Writes input plane `plane` into the padded plane (rows [0, rows), each
// `len` floats per phase for stride 2): the cells that hold input values, and
// only those, so a buffer zeroed once serves every plane of one call (their
// padding cells are the same). Zeroing per plane (three small memsets per
// row) cost more than the convolution itself on 7x7 and 14x14 planes.
void copy_into_padded(const Conv2dShape& s, const float* plane, int64_t rows, size_t len,
                      f32_deinterleave2_fn split, float* dst) {
  const int64_t stride = s.stride_w;
  const size_t row_floats = len * size_t(stride);
  const int64_t p = s.pad_left;
  // padded column c = ix + pad_left, kept while it fits the row's phases
  const int64_t end = std::max<int64_t>(0, std::min<int64_t>(s.w, int64_t(row_floats) - p));
  const int64_t r0 = std::max<int64_t>(0, s.pad_top), r1 = std::min<int64_t>(rows, s.pad_top + s.h);
  for (int64_t r = r0; r < r1 && end > 0; ++r) {
    const float* src = plane + (r - s.pad_top) * s.w;
    float* row = dst + size_t(r) * row_floats;
    if (stride == 1) {
      std::memcpy(row + p, src, size_t(end) * sizeof(float));
      continue;
    }
    // Padded column c (= ix + p) goes to phase c & 1 at c >> 1: an odd first column on its own,
    // then whole (even, odd) pairs through the ISA's split, then an even last column on its own.
    float* phase[2] = {row, row + len};
    const float* col = src - p;  // col[c] = src[c - p]
    int64_t c = p;
    const int64_t c_end = p + end;
    if (c & 1) { phase[1][c >> 1] = col[c]; ++c; }
    const int64_t pairs = (c_end - c) / 2;
    split(col + c, size_t(pairs), phase[0] + (c >> 1), phase[1] + (c >> 1));
    c += 2 * pairs;
    if (c < c_end) phase[0][c >> 1] = col[c];
  }
}

// The per-channel affine: the planes are contiguous, so one call per plane.
void affine_planes(const Conv2dShape& s, const PackedConv& w, f32_vmulcaddc_fn fn,
                   const float* x, const float* residual, Clamp act, const Activation& f, float* y,
                   int threads) {
  const size_t hw = size_t(s.h * s.w);
  const int t = threads_for_work(2.0 * double(s.n * s.c_out) * double(hw), threads);
  const float* bias = w.bias_or_null();
  const float lo = act.lo, hi = act.hi;
  parallel_for(size_t(s.n * s.c_out), t, [&](size_t plane) {
    const size_t oc = plane % size_t(s.c_out), off = plane * hw;
    fn(x + off, hw, w.weights.get()[oc], bias ? bias[oc] : 0.0f,
       residual ? residual + off : nullptr, lo, hi, y + off);
    if (f.active()) f.apply(y + off, int64_t(hw));
  });
}

}  // namespace

size_t dwconv_row_floats(size_t out_w, size_t k, size_t stride) {
  (void)stride;  // per phase: the kernels read column x + kx (s1) or x + kx/2 (s2) of it
  // A 4-vector block starts below out_w - 32 and reads 64 + k - 1 floats; a
  // one-vector step starts below out_w on a multiple of 16 and reads 16 + k - 1.
  return round_up(out_w, 16) + 32 + k;
}

DwconvKernel dwconv_kernel(const Conv2dShape& s, const PackedConv& w) {
  if (!w.direct || w.bf16 || w.c_in_per_group != 1) return {};
  if (s.kh != s.kw || s.stride_h != s.stride_w || s.dil_h != 1 || s.dil_w != 1) return {};
  const bool unpadded = s.pad_top == 0 && s.pad_left == 0 && s.pad_bottom == 0 && s.pad_right == 0;
  if (s.kh == 1 && s.stride_h == 1 && unpadded && w.m_per_group == 1) return pick_affine(w.isa());
  return pick(w.isa(), s.kh, s.stride_h);
}

void conv2d_dwconv(const Conv2dShape& s, const PackedConv& w, const float* x,
                   const float* residual, Clamp act, const Activation& f, float* y, int threads) {
  const DwconvKernel kernel = dwconv_kernel(s, w);
  RN_CHECK(kernel.found() && s.c_in == s.groups);
  if (kernel.affine) return affine_planes(s, w, kernel.affine, x, residual, act, f, y, threads);
  const int64_t k = s.kh, stride = s.stride_h, m_g = w.m_per_group;
  RN_CHECK(k <= 7 && (stride == 1 || stride == 2));  // window[] below, and the phases
  RN_CHECK(stride == 1 || kernel.split);
  const size_t len = dwconv_row_floats(size_t(s.out_w), size_t(k), size_t(stride));
  const int64_t rows = (s.out_h - 1) * stride + k;  // padded rows the windows touch
  const size_t row_floats = len * size_t(stride);
  const int64_t ohw = s.out_h * s.out_w;
  const double flops = 2.0 * double(s.n * s.c_out * ohw) * double(k * k);
  const int t = threads_for_work(flops, threads);
  const float* bias = w.bias_or_null();
  const float lo = act.lo, hi = act.hi;
  // A few chunks of consecutive planes per thread: each zeroes its padded
  // buffer once, then copies in only the input cells of each plane.
  const size_t planes = size_t(s.n * s.c_out);
  const size_t chunks = std::min(planes, size_t(4 * t));
  const size_t padded_floats = size_t(rows) * row_floats;
  parallel_for(chunks, t, [&](size_t chunk) {
    // slot 0: the same per-thread buffer the GEMM path packs B panels into
    float* padded = thread_scratch(0, padded_floats);
    std::memset(padded, 0, padded_floats * sizeof(float));
    for (size_t task = chunk * planes / chunks; task < (chunk + 1) * planes / chunks; ++task) {
      const int64_t b = int64_t(task) / s.c_out, oc = int64_t(task) % s.c_out;
      copy_into_padded(s, x + (b * s.c_in + oc / m_g) * s.h * s.w, rows, len, kernel.split, padded);
      const float* wk = w.weights.get() + oc * k * k;
      const float bv = bias ? bias[oc] : 0.0f;
      float* yp = y + (b * s.c_out + oc) * ohw;
      const float* rp = residual ? residual + (b * s.c_out + oc) * ohw : nullptr;
      const float* window[7];
      for (int64_t oy = 0; oy < s.out_h; ++oy) {
        for (int64_t ky = 0; ky < k; ++ky) window[ky] = padded + size_t(oy * stride + ky) * row_floats;
        kernel.fn(window, len, wk, bv, rp ? rp + oy * s.out_w : nullptr, lo, hi, size_t(s.out_w),
                  yp + oy * s.out_w);
        // The row before, still in L1 (the one just stored would stall its
        // loads on the store buffer); narrow planes (7x7, 14x14) all at once,
        // in vectors rather than a short scalar-tailed call per row.
        if (f.active() && oy > 0 && s.out_w >= 32) f.apply(yp + (oy - 1) * s.out_w, s.out_w);
      }
      if (f.active() && s.out_w >= 32) f.apply(yp + (s.out_h - 1) * s.out_w, s.out_w);
      else if (f.active()) f.apply(yp, ohw);
    }
  });
}

}  // namespace resnode::cpu
