// Max / average / global average pooling, NCHW. Parallel over (n, c) planes.
#include <algorithm>
#include <cfloat>
#include <vector>

#include "arch.h"
#include "common.h"
#include "isa.h"
#include "ops.h"
#include "pool/gavgpool.h"
#include "pool_rows.h"
#include "threadpool.h"

namespace resnode::cpu {
namespace {

// Runs fn(plane) over n planes in contiguous chunks.
template <typename F>
void for_planes(size_t planes, double work_per_plane, int threads, F&& fn) {
  if (threads <= 0) threads = global_threads();
  const int t = threads_for_work(work_per_plane * double(planes), threads);
  const size_t tasks = std::min(planes, size_t(t) * kTasksPerThread);
  parallel_for(tasks, t, [&](size_t i) {
    const size_t p0 = i * planes / tasks, p1 = (i + 1) * planes / tasks;
    for (size_t p = p0; p < p1; ++p) fn(p);
  });
}

void check_pool(const Pool2dShape& s) {
  RN_CHECK(s.n > 0 && s.c > 0 && s.h > 0 && s.w > 0 && s.kh > 0 && s.kw > 0);
  RN_CHECK(s.stride_h > 0 && s.stride_w > 0 && s.dil_h > 0 && s.dil_w > 0);
  RN_CHECK(s.out_h > 0 && s.out_w > 0);
}

}  // namespace

// Valid tap range [k0, k1) of a window starting at `start` (taps at
// start + k * dil) over an input of extent n.
inline void tap_range(int64_t start, int64_t dil, int64_t k, int64_t n, int64_t* k0, int64_t* k1) {
  int64_t lo = start < 0 ? (-start + dil - 1) / dil : 0;
  int64_t hi = start >= n ? 0 : (n - start + dil - 1) / dil;
  *k0 = std::min(lo, k);
  *k1 = std::max(*k0, std::min(hi, k));
}

void max_pool_vmax(const float* const* rows, size_t nrows, size_t w, float* t) {
  for (size_t i = 0; i < w; ++i) t[i] = -FLT_MAX;
  for (size_t r = 0; r < nrows; ++r)
    for (size_t i = 0; i < w; ++i) {
      const float v = rows[r][i];
      t[i] = v > t[i] ? v : t[i];
    }
}

void max_pool_hmax(const float* t, int64_t ix0, int64_t kw, int64_t dw, int64_t sw, size_t count,
                   float* out) {
  for (size_t j = 0; j < count; ++j) {
    const float* p = t + ix0 + int64_t(j) * sw;
    float m = -FLT_MAX;
    for (int64_t kx = 0; kx < kw; ++kx) {
      const float v = p[kx * dw];
      m = v > m ? v : m;
    }
    out[j] = m;
  }
}

void avg_pool_vsum(const float* const* rows, size_t nrows, size_t w, float* t) {
  for (size_t i = 0; i < w; ++i) t[i] = 0.0f;
  for (size_t r = 0; r < nrows; ++r)
    for (size_t i = 0; i < w; ++i) t[i] += rows[r][i];
}

void avg_pool_hsum(const float* t, int64_t ix0, int64_t kw, int64_t dw, int64_t sw, float div,
                   size_t count, float* out) {
  for (size_t j = 0; j < count; ++j) {
    const float* p = t + ix0 + int64_t(j) * sw;
    float sum = 0.0f;
    for (int64_t kx = 0; kx < kw; ++kx) sum += p[kx * dw];
    out[j] = sum / div;
  }
}

namespace {

struct PoolRowKernels {
  MaxPoolRowKernels max;
  AvgPoolRowKernels avg;
};

const PoolRowKernels& pool_row_kernels(Isa isa) {
  static const PoolRowKernels portable{{max_pool_vmax, max_pool_hmax}, {avg_pool_vsum, avg_pool_hsum}};
#if RN_ARCH_X86_64
  static const PoolRowKernels avx512{{max_pool_vmax__avx512f, max_pool_hmax__avx512f},
                                     {avg_pool_vsum__avx512f, avg_pool_hsum__avx512f}};
  if (isa == Isa::avx512) return avx512;
#else
  (void)isa;
#endif
  return portable;
}

}  // namespace

void max_pool2d(const Pool2dShape& s, const float* x, float* y, int threads, Isa isa) {
  check_pool(s);
  const size_t in_plane = size_t(s.h * s.w), out_plane = size_t(s.out_h * s.out_w);
  const MaxPoolRowKernels& k = pool_row_kernels(isa).max;
  // Per output column: the valid kx range (computed once, not per tap).
  std::vector<int64_t> kx0(size_t(s.out_w)), kx1(size_t(s.out_w));
  for (int64_t ox = 0; ox < s.out_w; ++ox)
    tap_range(ox * s.stride_w - s.pad_left, s.dil_w, s.kw, s.w, &kx0[size_t(ox)], &kx1[size_t(ox)]);
  // Interior output columns [ox_in0, ox_in1): all kw taps in bounds.
  int64_t ox_in0 = s.out_w, ox_in1 = s.out_w;
  for (int64_t ox = 0; ox < s.out_w; ++ox)
    if (kx0[size_t(ox)] == 0 && kx1[size_t(ox)] == s.kw) {
      if (ox_in0 == s.out_w) ox_in0 = ox;
      ox_in1 = ox + 1;
    }
  for_planes(size_t(s.n * s.c), double(out_plane * s.kh * s.kw), threads, [&](size_t p) {
    const float* xp = x + p * in_plane;
    float* yp = y + p * out_plane;
    // The vertical max of one output row's window rows: w floats.
    float* t = thread_scratch(0, size_t(s.w));
    std::vector<const float*> rows(size_t(s.kh));
    for (int64_t oy = 0; oy < s.out_h; ++oy) {
      const int64_t iy0 = oy * s.stride_h - s.pad_top;
      int64_t ky0, ky1;
      tap_range(iy0, s.dil_h, s.kh, s.h, &ky0, &ky1);
      for (int64_t ky = ky0; ky < ky1; ++ky) rows[size_t(ky - ky0)] = xp + (iy0 + ky * s.dil_h) * s.w;
      k.vmax(rows.data(), size_t(ky1 - ky0), size_t(s.w), t);
      float* yrow = yp + oy * s.out_w;
      // Border columns: only their valid taps (a window with none: -FLT_MAX,
      // ONNX Runtime's value).
      auto border = [&](int64_t ox) {
        const int64_t a = kx0[size_t(ox)], b = kx1[size_t(ox)];
        max_pool_hmax(t, ox * s.stride_w - s.pad_left + a * s.dil_w, b - a, s.dil_w, s.stride_w, 1,
                      yrow + ox);
      };
      for (int64_t ox = 0; ox < ox_in0; ++ox) border(ox);
      if (ox_in1 > ox_in0)
        k.hmax(t, ox_in0 * s.stride_w - s.pad_left, s.kw, s.dil_w, s.stride_w,
               size_t(ox_in1 - ox_in0), yrow + ox_in0);
      for (int64_t ox = ox_in1; ox < s.out_w; ++ox) border(ox);
    }
  });
}

// As max_pool2d: the window rows' sum, then the columns' sum over it, divided
// by the window's count; with dilation-1 or any windows that count is (rows in
// range) x (columns in range), each in bounds or, with count_include_pad,
// inside the padded extent (ceil_mode's overhang excluded).
void average_pool2d(const Pool2dShape& s, bool count_include_pad, const float* x, float* y,
                    int threads, Isa isa) {
  check_pool(s);
  const size_t in_plane = size_t(s.h * s.w), out_plane = size_t(s.out_h * s.out_w);
  const AvgPoolRowKernels& k = pool_row_kernels(isa).avg;
  const int64_t hp = s.pad_top + s.h + s.pad_bottom, wp = s.pad_left + s.w + s.pad_right;
  // Per output column: the in-bounds kx range, and the taps inside the padded extent.
  std::vector<int64_t> kx0(size_t(s.out_w)), kx1(size_t(s.out_w)), cols_padded(size_t(s.out_w));
  int64_t ox_in0 = s.out_w, ox_in1 = s.out_w;  // interior: every tap in bounds
  for (int64_t ox = 0; ox < s.out_w; ++ox) {
    tap_range(ox * s.stride_w - s.pad_left, s.dil_w, s.kw, s.w, &kx0[size_t(ox)], &kx1[size_t(ox)]);
    int64_t a = 0;
    tap_range(ox * s.stride_w, s.dil_w, s.kw, wp, &a, &cols_padded[size_t(ox)]);
    if (kx0[size_t(ox)] == 0 && kx1[size_t(ox)] == s.kw) {
      if (ox_in0 == s.out_w) ox_in0 = ox;
      ox_in1 = ox + 1;
    }
  }
  for_planes(size_t(s.n * s.c), double(out_plane * s.kh * s.kw), threads, [&](size_t p) {
    const float* xp = x + p * in_plane;
    float* yp = y + p * out_plane;
    float* t = thread_scratch(0, size_t(s.w));
    std::vector<const float*> rows(size_t(s.kh));
    for (int64_t oy = 0; oy < s.out_h; ++oy) {
      const int64_t iy0 = oy * s.stride_h - s.pad_top;
      int64_t ky0, ky1, a, rows_padded;
      tap_range(iy0, s.dil_h, s.kh, s.h, &ky0, &ky1);
      tap_range(oy * s.stride_h, s.dil_h, s.kh, hp, &a, &rows_padded);
      for (int64_t ky = ky0; ky < ky1; ++ky) rows[size_t(ky - ky0)] = xp + (iy0 + ky * s.dil_h) * s.w;
      k.vsum(rows.data(), size_t(ky1 - ky0), size_t(s.w), t);
      const int64_t rows_counted = count_include_pad ? rows_padded : ky1 - ky0;
      float* yrow = yp + oy * s.out_w;
      auto border = [&](int64_t ox) {
        const int64_t a0 = kx0[size_t(ox)], b0 = kx1[size_t(ox)];
        const int64_t div = rows_counted * (count_include_pad ? cols_padded[size_t(ox)] : b0 - a0);
        if (div <= 0) {
          yrow[ox] = 0.0f;
          return;
        }
        avg_pool_hsum(t, ox * s.stride_w - s.pad_left + a0 * s.dil_w, b0 - a0, s.dil_w, s.stride_w,
                      float(div), 1, yrow + ox);
      };
      for (int64_t ox = 0; ox < ox_in0; ++ox) border(ox);
      if (ox_in1 > ox_in0) {
        if (rows_counted > 0)
          k.hsum(t, ox_in0 * s.stride_w - s.pad_left, s.kw, s.dil_w, s.stride_w,
                 float(rows_counted * s.kw), size_t(ox_in1 - ox_in0), yrow + ox_in0);
        else
          for (int64_t ox = ox_in0; ox < ox_in1; ++ox) yrow[ox] = 0.0f;
      }
      for (int64_t ox = ox_in1; ox < s.out_w; ++ox) border(ox);
    }
  });
}

namespace {
struct GavgpoolKernel {
  f32_gavgpool_cw_fn fn;
  const char* name;
};
GavgpoolKernel gavgpool_kernel(Isa isa) {
#if RN_ARCH_X86_64
  if (isa == Isa::avx512) return {f32_gavgpool_cw__avx512f, "f32_gavgpool_cw__avx512f"};
  if (isa == Isa::avx2) return {f32_gavgpool_cw__avx2, "f32_gavgpool_cw__avx2"};
#else
  (void)isa;
#endif
  return {f32_gavgpool_cw__scalar, "f32_gavgpool_cw__scalar"};
}
}  // namespace

const char* global_average_pool_kernel_name(Isa isa) { return gavgpool_kernel(isa).name; }

void global_average_pool(int64_t n, int64_t c, int64_t hw, const float* x, float* y,
                         int threads, Isa isa) {
  RN_CHECK(n > 0 && c > 0 && hw > 0);
  const f32_gavgpool_cw_fn psum = gavgpool_kernel(isa).fn;
  for_planes(size_t(n * c), double(hw), threads,
             [&](size_t p) { y[p] = psum(x + p * size_t(hw), size_t(hw)) / float(hw); });
}

}  // namespace resnode::cpu
