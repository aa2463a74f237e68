// im2col into 32-wide packed B panels with AVX-512 (the panel width of the
// 14x32 micro-kernel). Compiled with -mavx512f -mavx512bw -mavx512vl
// -mavx512dq -mfma (by file name). Semantics are exactly im2col_pack's.
//
// Each panel's 32 pixels are split into runs that share an output row; per
// k row and run, the input row segment is read with masked loads (lanes in the
// padding read nothing and become 0):
//   stride 1: two masked loads;
//   stride 2: four masked loads + two even-lane permutes;
//   other strides: masked gathers.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common.h"
#include "im2col.h"

namespace resnode::cpu {
namespace {

constexpr size_t NR = 32;

struct Run {
  int64_t oy, ox0;
  size_t j0, len;
};

// Lanes [lo, hi) of a 64-lane mask, lo/hi clamped to [0, 64].
inline uint64_t lane_range64(int64_t lo, int64_t hi) {
  lo = std::clamp<int64_t>(lo, 0, 64);
  hi = std::clamp<int64_t>(hi, 0, 64);
  if (hi <= lo) return 0;
  const uint64_t upto_hi = hi >= 64 ? ~0ull : (1ull << hi) - 1;
  const uint64_t below_lo = lo >= 64 ? ~0ull : (1ull << lo) - 1;
  return upto_hi & ~below_lo;
}

// Address arithmetic that may point before the row (masked lanes never touch it).
inline const float* offset(const float* p, int64_t i) {
  return reinterpret_cast<const float*>(reinterpret_cast<uintptr_t>(p) + uintptr_t(i * 4));
}

// Panels ahead whose rows a pointwise pack fetches into L2. Each of a panel's
// K rows lies h*w floats from the next, more streams than the hardware
// prefetchers follow, so without this every row of a panel read from L3 is a
// demand miss: 256->64@56 at batch 8 (input in L3) 1.08-1.12x, 64->64@56
// 1.08x, 64->256 and 256->128 1.03x; no change at batch 1 (input in L2).
constexpr size_t kPrefetchPanels = 2;

void pack_pointwise(const ConvGeom& g, const float* x, size_t k0, size_t kl, size_t n0,
                    size_t ncols, float* dst) {
  const size_t hw = size_t(g.h * g.w);
  for (size_t q0 = 0; q0 < ncols; q0 += NR) {
    const size_t cols = std::min(NR, ncols - q0);
    const float* src = x + k0 * hw + n0 + q0;
    if (cols == NR) {
      const bool fetch = n0 + q0 + (kPrefetchPanels + 1) * NR <= hw;
      for (size_t kk = 0; kk < kl; ++kk) {
        const float* s = src + kk * hw;
        _mm512_storeu_ps(dst + kk * NR, _mm512_loadu_ps(s));
        _mm512_storeu_ps(dst + kk * NR + 16, _mm512_loadu_ps(s + 16));
        if (fetch) {
          _mm_prefetch(reinterpret_cast<const char*>(s + kPrefetchPanels * NR), _MM_HINT_T1);
          _mm_prefetch(reinterpret_cast<const char*>(s + kPrefetchPanels * NR + 16), _MM_HINT_T1);
        }
      }
    } else {
      const uint64_t m = lane_range64(0, int64_t(cols));
      for (size_t kk = 0; kk < kl; ++kk) {
        const float* s = src + kk * hw;
        _mm512_storeu_ps(dst + kk * NR, _mm512_maskz_loadu_ps(__mmask16(m), s));
        _mm512_storeu_ps(dst + kk * NR + 16, _mm512_maskz_loadu_ps(__mmask16(m >> 16), s + 16));
      }
    }
    dst += kl * NR;
  }
}

}  // namespace

void im2col_pack__avx512f(const ConvGeom& g, const float* x, size_t k0, size_t kl, size_t n0,
                          size_t ncols, size_t nr, float* dst) {
  RN_CHECK(nr == NR);
  if (g.pointwise()) return pack_pointwise(g, x, k0, kl, n0, ncols, dst);
  // Lane positions must fit int32 for the gather path; absurd shapes take the
  // portable path.
  const int64_t lim = int64_t(1) << 28;
  if (g.w > lim || g.sw > (1 << 16) || g.pl > lim || g.dw * g.kw > lim || g.ow * g.sw > lim)
    return im2col_pack(g, x, k0, kl, n0, ncols, nr, dst);

  const int64_t ksz = g.kh * g.kw;
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i vstride = _mm512_set1_epi32(int32_t(g.sw));
  const __m512i idx0 = _mm512_mullo_epi32(lane, vstride);
  const __m512i idx1 = _mm512_add_epi32(idx0, _mm512_set1_epi32(int32_t(16 * g.sw)));

  // Per panel, the source offset and lane masks of every (kernel tap, run)
  // pair are computed once and reused for every input channel.
  struct Tap {
    int64_t off;      // offset of lane 0 in the input plane
    uint64_t in;      // input lanes to load (stride 1/2) or 0 for an all-padding row
    uint32_t out;     // output lanes of the run (relative to j0)
    uint32_t j0;
  };
  thread_local std::vector<Tap> taps;
  taps.resize(size_t(ksz) * NR);

  for (size_t q0 = 0; q0 < ncols; q0 += NR) {
    const size_t cols = std::min(NR, ncols - q0);
    Run runs[NR];
    size_t nruns = 0;
    for (size_t j = 0; j < cols;) {
      const size_t p = n0 + q0 + j;
      const int64_t oy = int64_t(p) / g.ow, ox = int64_t(p) % g.ow;
      const size_t len = std::min(cols - j, size_t(g.ow - ox));
      runs[nruns++] = Run{oy, ox, j, len};
      j += len;
    }
    for (int64_t r = 0; r < ksz; ++r) {
      const int64_t ky = r / g.kw, kx = r % g.kw;
      for (size_t ri = 0; ri < nruns; ++ri) {
        const Run& run = runs[ri];
        const int64_t len = int64_t(run.len);
        const int64_t iy = run.oy * g.sh - g.pt + ky * g.dh;
        const int64_t ix0 = run.ox0 * g.sw - g.pl + kx * g.dw;
        Tap& t = taps[size_t(r) * NR + ri];
        t.j0 = uint32_t(run.j0);
        t.out = uint32_t(lane_range64(0, len));
        t.off = iy * g.w + ix0;
        if (iy < 0 || iy >= g.h) {
          t.in = 0;
        } else if (g.sw == 1) {
          t.in = lane_range64(-ix0, std::min(len, g.w - ix0));
        } else if (g.sw == 2) {
          t.in = lane_range64(-ix0, std::min(2 * len, g.w - ix0));
        } else {
          // gather: lane t is valid when 0 <= ix0 + t * sw < w
          t.in = 0;
          for (int64_t l = 0; l < len; ++l) {
            const int64_t ix = ix0 + l * g.sw;
            if (ix >= 0 && ix < g.w) t.in |= 1ull << l;
          }
        }
      }
    }
    const uint64_t tail = ~lane_range64(0, int64_t(cols));
    const bool single_full = nruns == 1 && cols == NR;
    int64_t ci = int64_t(k0) / ksz, r = int64_t(k0) % ksz;
    for (size_t kk = 0; kk < kl; ++kk) {
      float* d = dst + kk * NR;
      const float* plane = x + ci * g.h * g.w;
      const Tap* tr = &taps[size_t(r) * NR];
      if (single_full && g.sw == 1) {
        // The common case: one run covering the whole panel.
        const uint64_t m = tr->in;
        const float* base = offset(plane, tr->off);
        _mm512_storeu_ps(d, _mm512_maskz_loadu_ps(__mmask16(m), base));
        _mm512_storeu_ps(d + 16, _mm512_maskz_loadu_ps(__mmask16(m >> 16), offset(base, 16)));
      } else {
        if (tail) {
          _mm512_mask_storeu_ps(d, __mmask16(tail), _mm512_setzero_ps());
          _mm512_mask_storeu_ps(d + 16, __mmask16(tail >> 16), _mm512_setzero_ps());
        }
        for (size_t ri = 0; ri < nruns; ++ri) {
          const Tap& t = tr[ri];
          float* dr = d + t.j0;
          const __mmask16 o0 = __mmask16(t.out), o1 = __mmask16(t.out >> 16);
          const uint64_t m = t.in;
          const float* base = offset(plane, t.off);
          __m512 v0, v1;
          if (m == 0) {
            v0 = v1 = _mm512_setzero_ps();
          } else if (g.sw == 1) {
            v0 = _mm512_maskz_loadu_ps(__mmask16(m), base);
            v1 = _mm512_maskz_loadu_ps(__mmask16(m >> 16), offset(base, 16));
          } else if (g.sw == 2) {
            const __m512 a0 = _mm512_maskz_loadu_ps(__mmask16(m), base);
            const __m512 a1 = _mm512_maskz_loadu_ps(__mmask16(m >> 16), offset(base, 16));
            v0 = _mm512_permutex2var_ps(a0, even, a1);
            if (o1) {
              const __m512 a2 = _mm512_maskz_loadu_ps(__mmask16(m >> 32), offset(base, 32));
              const __m512 a3 = _mm512_maskz_loadu_ps(__mmask16(m >> 48), offset(base, 48));
              v1 = _mm512_permutex2var_ps(a2, even, a3);
            } else {
              v1 = _mm512_setzero_ps();
            }
          } else {
            v0 = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), __mmask16(m), idx0, base, 4);
            v1 = o1 ? _mm512_mask_i32gather_ps(_mm512_setzero_ps(), __mmask16(m >> 16), idx1, base, 4)
                    : _mm512_setzero_ps();
          }
          _mm512_mask_storeu_ps(dr, o0, v0);
          if (o1) _mm512_mask_storeu_ps(dr + 16, o1, v1);
        }
      }
      if (++r == ksz) {
        r = 0;
        ++ci;
      }
    }
    dst += kl * NR;
  }
}

}  // namespace resnode::cpu
