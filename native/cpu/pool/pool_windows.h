// The window walk shared by the NHWC pools (float32, pool_nhwc.cc, and u8, qpool/qu8_pool.cc):
// in parallel over output rows, each output pixel gathers the addresses of its in-bounds taps
// (whole rows of c elements) for one reduction kernel.
#pragma once
#include <algorithm>
#include <cstddef>
#include <vector>

#include "../ops.h"
#include "../threadpool.h"

namespace resnode::cpu {

// Runs reduce(taps, ntaps, oy, ox, out) for every output pixel of y (NHWC [n, out_h, out_w, c]),
// taps the addresses of the pixel's in-bounds input pixels in x (NHWC [n, h, w, c]).
template <typename T, typename Reduce>
void for_pool_windows(const Pool2dShape& s, const T* x, T* y, int threads, Reduce&& reduce) {
  if (threads <= 0) threads = global_threads();
  const size_t rows = size_t(s.n * s.out_h);
  const int t = threads_for_work(double(s.out_w * s.c * s.kh * s.kw) * double(rows), threads);
  const size_t tasks = std::min(rows, size_t(t) * kTasksPerThread);
  parallel_for(tasks, t, [&](size_t task) {
    std::vector<const T*> taps(size_t(s.kh * s.kw));
    for (size_t r = task * rows / tasks, r1 = (task + 1) * rows / tasks; r < r1; ++r) {
      const int64_t b = int64_t(r) / s.out_h, oy = int64_t(r) % s.out_h;
      T* out = y + size_t((b * s.out_h + oy) * s.out_w * s.c);
      for (int64_t ox = 0; ox < s.out_w; ++ox) {
        size_t k = 0;
        for (int64_t ky = 0; ky < s.kh; ++ky) {
          const int64_t iy = oy * s.stride_h - s.pad_top + ky * s.dil_h;
          if (iy < 0 || iy >= s.h) continue;
          for (int64_t kx = 0; kx < s.kw; ++kx) {
            const int64_t ix = ox * s.stride_w - s.pad_left + kx * s.dil_w;
            if (ix >= 0 && ix < s.w) taps[k++] = x + size_t(((b * s.h + iy) * s.w + ix) * s.c);
          }
        }
        reduce(taps.data(), k, oy, ox, out + ox * s.c);
      }
    }
  });
}

}  // namespace resnode::cpu
