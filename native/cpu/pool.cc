// Max / average / global average pooling, NCHW. Parallel over (n, c) planes.
#include <algorithm>
#include <cfloat>
#include <vector>

#include "common.h"
#include "ops.h"
#include "threadpool.h"

namespace resnode::cpu {
namespace {

// Runs fn(plane) over n planes in contiguous chunks.
template <typename F>
void for_planes(size_t planes, double work_per_plane, int threads, F&& fn) {
  if (threads <= 0) threads = global_threads();
  const int t = threads_for_work(work_per_plane * double(planes), threads);
  const size_t tasks = std::min(planes, size_t(t) * 4);
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

void max_pool2d(const Pool2dShape& s, const float* x, float* y, int threads) {
  check_pool(s);
  const size_t in_plane = size_t(s.h * s.w), out_plane = size_t(s.out_h * s.out_w);
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
    for (int64_t oy = 0; oy < s.out_h; ++oy) {
      const int64_t iy0 = oy * s.stride_h - s.pad_top;
      int64_t ky0, ky1;
      tap_range(iy0, s.dil_h, s.kh, s.h, &ky0, &ky1);
      float* yrow = yp + oy * s.out_w;
      auto one = [&](int64_t ox) {
        const int64_t ix0 = ox * s.stride_w - s.pad_left;
        const int64_t a = kx0[size_t(ox)], b = kx1[size_t(ox)];
        float m = -FLT_MAX;  // ONNX Runtime's value for a window with no input
        for (int64_t ky = ky0; ky < ky1; ++ky) {
          const float* row = xp + (iy0 + ky * s.dil_h) * s.w + ix0;
          for (int64_t kx = a; kx < b; ++kx) {
            const float v = row[kx * s.dil_w];
            m = v > m ? v : m;
          }
        }
        yrow[ox] = m;
      };
      int64_t ox = 0;
      for (; ox < s.out_w && ox < ox_in0; ++ox) one(ox);
      // Interior columns (every kx tap in bounds), 8 outputs at a time: eight
      // independent max chains instead of one latency-bound chain.
      for (; ox + 8 <= ox_in1; ox += 8) {
        float m[8];
        for (int j = 0; j < 8; ++j) m[j] = -FLT_MAX;
        const int64_t ix0 = ox * s.stride_w - s.pad_left;
        for (int64_t ky = ky0; ky < ky1; ++ky) {
          const float* row = xp + (iy0 + ky * s.dil_h) * s.w + ix0;
          for (int64_t kx = 0; kx < s.kw; ++kx) {
            const float* r = row + kx * s.dil_w;
            for (int j = 0; j < 8; ++j) {
              const float v = r[j * s.stride_w];
              m[j] = v > m[j] ? v : m[j];
            }
          }
        }
        for (int j = 0; j < 8; ++j) yrow[ox + j] = m[j];
      }
      for (; ox < s.out_w; ++ox) one(ox);
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
