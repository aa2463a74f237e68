// Max / average / global average pooling, NCHW. Parallel over (n, c) planes.
#include <algorithm>
#include <cfloat>
#include <vector>

#include "arch.h"
#include "common.h"
#include "isa.h"
#include "ops.h"
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

namespace {

const MaxPoolRowKernels& max_pool_kernels(Isa isa) {
  static const MaxPoolRowKernels portable{max_pool_vmax, max_pool_hmax};
#if RN_ARCH_X86_64
  static const MaxPoolRowKernels avx512{max_pool_vmax__avx512f, max_pool_hmax__avx512f};
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
  const MaxPoolRowKernels& k = max_pool_kernels(isa);
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

void average_pool2d(const Pool2dShape& s, bool count_include_pad, const float* x, float* y,
                    int threads) {
  check_pool(s);
  const size_t in_plane = size_t(s.h * s.w), out_plane = size_t(s.out_h * s.out_w);
  const int64_t hp = s.h + s.pad_bottom, wp = s.w + s.pad_right;  // padded extent end
  for_planes(size_t(s.n * s.c), double(out_plane * s.kh * s.kw), threads, [&](size_t p) {
    const float* xp = x + p * in_plane;
    float* yp = y + p * out_plane;
    for (int64_t oy = 0; oy < s.out_h; ++oy) {
      for (int64_t ox = 0; ox < s.out_w; ++ox) {
        float sum = 0.0f;
        int64_t valid = 0, padded = 0;
        for (int64_t ky = 0; ky < s.kh; ++ky) {
          const int64_t iy = oy * s.stride_h - s.pad_top + ky * s.dil_h;
          if (iy >= hp) break;
          const bool row_in = iy >= 0 && iy < s.h;
          for (int64_t kx = 0; kx < s.kw; ++kx) {
            const int64_t ix = ox * s.stride_w - s.pad_left + kx * s.dil_w;
            if (ix >= wp) break;
            ++padded;  // inside the padded extent (ceil_mode overhang excluded)
            if (row_in && ix >= 0 && ix < s.w) {
              sum += xp[iy * s.w + ix];
              ++valid;
            }
          }
        }
        const int64_t div = count_include_pad ? padded : valid;
        yp[oy * s.out_w + ox] = div > 0 ? sum / float(div) : 0.0f;
      }
    }
  });
}

void global_average_pool(int64_t n, int64_t c, int64_t hw, const float* x, float* y,
                         int threads) {
  RN_CHECK(n > 0 && c > 0 && hw > 0);
  for_planes(size_t(n * c), double(hw), threads, [&](size_t p) {
    const float* xp = x + p * size_t(hw);
    // Eight partial sums: vectorizable and a little more accurate.
    float acc[8] = {};
    int64_t i = 0;
    for (; i + 8 <= hw; i += 8)
      for (int j = 0; j < 8; ++j) acc[j] += xp[i + j];
    float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < hw; ++i) sum += xp[i];
    y[p] = sum / float(hw);
  });
}

}  // namespace resnode::cpu
