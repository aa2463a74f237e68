#include "im2col.h"

#include <algorithm>
#include <cstring>

#include "common.h"

namespace resnode::cpu {
namespace {

struct Run {
  int64_t oy, ox0;
  size_t j0, len;
};

void pack_pointwise(const ConvGeom& g, const float* x, size_t k0, size_t kl, size_t n0,
                    size_t ncols, size_t nr, float* dst) {
  const size_t hw = size_t(g.h * g.w);
  for (size_t q0 = 0; q0 < ncols; q0 += nr) {
    const size_t cols = std::min(nr, ncols - q0);
    const float* src = x + k0 * hw + n0 + q0;
    if (cols == nr) {
      for (size_t kk = 0; kk < kl; ++kk) std::memcpy(dst + kk * nr, src + kk * hw, nr * 4);
    } else {
      for (size_t kk = 0; kk < kl; ++kk) {
        std::memcpy(dst + kk * nr, src + kk * hw, cols * 4);
        std::memset(dst + kk * nr + cols, 0, (nr - cols) * 4);
      }
    }
    dst += kl * nr;
  }
}

}  // namespace

void im2col_pack(const ConvGeom& g, const float* x, size_t k0, size_t kl, size_t n0,
                 size_t ncols, size_t nr, float* dst) {
  RN_CHECK(nr <= 64);
  if (g.pointwise()) return pack_pointwise(g, x, k0, kl, n0, ncols, nr, dst);
  const int64_t ksz = g.kh * g.kw;
  for (size_t q0 = 0; q0 < ncols; q0 += nr) {
    const size_t cols = std::min(nr, ncols - q0);
    // Split the panel's pixels into runs that share an output row.
    Run runs[64];
    size_t nruns = 0;
    for (size_t j = 0; j < cols;) {
      const size_t p = n0 + q0 + j;
      const int64_t oy = int64_t(p) / g.ow, ox = int64_t(p) % g.ow;
      const size_t len = std::min(cols - j, size_t(g.ow - ox));
      runs[nruns++] = Run{oy, ox, j, len};
      j += len;
    }
    int64_t ci = int64_t(k0) / ksz, r = int64_t(k0) % ksz;
    int64_t ky = r / g.kw, kx = r % g.kw;
    for (size_t kk = 0; kk < kl; ++kk) {
      float* d = dst + kk * nr;
      const float* plane = x + ci * g.h * g.w;
      for (size_t ri = 0; ri < nruns; ++ri) {
        const Run& run = runs[ri];
        float* dr = d + run.j0;
        const int64_t iy = run.oy * g.sh - g.pt + ky * g.dh;
        if (iy < 0 || iy >= g.h) {
          std::memset(dr, 0, run.len * 4);
          continue;
        }
        const float* row = plane + iy * g.w;
        const int64_t ix0 = run.ox0 * g.sw - g.pl + kx * g.dw;
        const int64_t len = int64_t(run.len);
        if (g.sw == 1) {
          const int64_t lo = std::clamp<int64_t>(-ix0, 0, len);
          const int64_t hi = std::clamp<int64_t>(g.w - ix0, lo, len);
          for (int64_t t = 0; t < lo; ++t) dr[t] = 0.0f;
          if (hi > lo) std::memcpy(dr + lo, row + ix0 + lo, size_t(hi - lo) * 4);
          for (int64_t t = hi; t < len; ++t) dr[t] = 0.0f;
        } else {
          for (int64_t t = 0; t < len; ++t) {
            const int64_t ix = ix0 + t * g.sw;
            dr[t] = (ix >= 0 && ix < g.w) ? row[ix] : 0.0f;
          }
        }
      }
      if (cols < nr) std::memset(d + cols, 0, (nr - cols) * 4);
      if (++kx == g.kw) {
        kx = 0;
        if (++ky == g.kh) {
          ky = 0;
          ++ci;
        }
      }
    }
    dst += kl * nr;
  }
}

}  // namespace resnode::cpu
