// The u8 NHWC pooling drivers and their per-ISA kernel choice (see qu8_pool.h). The max pool walks
// its windows with for_pool_windows (pool/pool_windows.h: each output pixel gathers the addresses
// of its in-bounds taps, whole rows of c bytes) and the kernel takes their max. The global average pool is small (one
// pass over its input) and runs on the calling thread.
#include "qu8_pool.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "../common.h"
#include "../threadpool.h"
#include "../pool/pool_windows.h"

namespace resnode::cpu {

#if defined(__x86_64__) || defined(_M_X64)
Qu8MaxPoolKernel qu8_maxpool_kernel(Isa isa) {
  return isa == Isa::avx512 ? qu8_maxpool__avx512f : isa == Isa::avx2 ? qu8_maxpool__avx2 : qu8_maxpool__scalar;
}
Qu8GavgSumKernel qu8_gavgpool_sum_kernel(Isa isa) { return isa == Isa::avx512 ? qu8_gavgpool_sum__avx512f : qu8_gavgpool_sum__scalar; }
const char* qu8_maxpool_kernel_name(Isa isa) {
  return isa == Isa::avx512 ? "qu8_maxpool__avx512f" : isa == Isa::avx2 ? "qu8_maxpool__avx2" : "qu8_maxpool__scalar";
}
const char* qu8_gavgpool_sum_kernel_name(Isa isa) { return isa == Isa::avx512 ? "qu8_gavgpool_sum__avx512f" : "qu8_gavgpool_sum__scalar"; }
#else
Qu8MaxPoolKernel qu8_maxpool_kernel(Isa) { return qu8_maxpool__scalar; }
Qu8GavgSumKernel qu8_gavgpool_sum_kernel(Isa) { return qu8_gavgpool_sum__scalar; }
const char* qu8_maxpool_kernel_name(Isa) { return "qu8_maxpool__scalar"; }
const char* qu8_gavgpool_sum_kernel_name(Isa) { return "qu8_gavgpool_sum__scalar"; }
#endif

namespace {
// Whether each of `out` windows along one axis (start o·stride − pad, taps every dil) has a tap in [0, n).
bool axis_has_taps(int64_t out, int64_t stride, int64_t pad, int64_t k, int64_t dil, int64_t n) {
  for (int64_t o = 0; o < out; ++o) {
    bool any = false;
    for (int64_t t = 0; t < k && !any; ++t) any = o * stride - pad + t * dil >= 0 && o * stride - pad + t * dil < n;
    if (!any) return false;
  }
  return true;
}
}  // namespace

bool every_window_has_a_tap(const Pool2dShape& s) {
  return axis_has_taps(s.out_h, s.stride_h, s.pad_top, s.kh, s.dil_h, s.h) && axis_has_taps(s.out_w, s.stride_w, s.pad_left, s.kw, s.dil_w, s.w);
}

void qu8_max_pool_nhwc(const Pool2dShape& s, Qu8MaxPoolKernel kernel, const uint8_t* x, uint8_t* y, int threads) {
  RN_CHECK(s.n > 0 && s.c > 0 && s.kh > 0 && s.kw > 0 && s.out_h > 0 && s.out_w > 0);
  for_pool_windows(s, x, y, threads, [&](const uint8_t* const* taps, size_t k, int64_t, int64_t, uint8_t* out) {
    RN_CHECK(k > 0);  // the pads are smaller than the window (checked when the step is parsed)
    kernel(taps, k, size_t(s.c), out);
  });
}

void qu8_global_average_pool(int64_t n, int64_t c, int64_t hw, const QGlobalAveragePool& q, Qu8GavgSumKernel sum,
                             const uint8_t* x_u8, const float* x_f32, float* y) {
  RN_CHECK((x_u8 == nullptr) != (x_f32 == nullptr) && q.qmin <= q.qmax);
  std::vector<int32_t> sums(static_cast<size_t>(c));
  const float lo = float(q.qmin), hi = float(q.qmax);
  for (int64_t b = 0; b < n; ++b) {
    int32_t bias = 0;  // what to subtract from each sum: hw · x_zero_point for bytes
    if (x_u8) {
      sum(x_u8 + size_t(b * hw * c), size_t(hw), size_t(c), sums.data());
      bias = int32_t(hw) * q.x_zero_point;
    } else {
      // Values on x's grid: their integers q − z_x, as the planner's to-integers step rounds them.
      for (int64_t ch = 0; ch < c; ++ch) {
        const float* p = x_f32 + size_t((b * c + ch) * hw);
        int32_t s = 0;
        for (int64_t i = 0; i < hw; ++i) s += int32_t(std::nearbyint(p[i] / q.x_scale));
        sums[size_t(ch)] = s;
      }
    }
    for (int64_t ch = 0; ch < c; ++ch) {
      float v = std::nearbyint(float(sums[size_t(ch)] - bias) * q.multiplier) + float(q.y_zero_point);
      v = v < lo ? lo : (v > hi ? hi : v);
      y[b * c + ch] = (v - float(q.y_zero_point)) * q.y_scale;
    }
  }
}

}  // namespace resnode::cpu
