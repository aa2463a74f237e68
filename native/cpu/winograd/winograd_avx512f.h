// Helpers shared by the AVX-512 Winograd kernels (include only from
// *__avx512f.cc files, which are compiled with AVX-512 flags).
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "winograd_kernels.h"

// GCC 12 flags _mm512_*'s internal _mm512_undefined_ps() as uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define RN_INLINE inline __attribute__((always_inline))

namespace resnode::cpu {

inline __mmask16 lane_mask(int64_t lo, int64_t hi) {  // lanes l with lo <= l < hi, clipped to [0,16)
  lo = std::max<int64_t>(lo, 0);
  hi = std::min<int64_t>(hi, 16);
  if (hi <= lo) return 0;
  return __mmask16(((1u << (hi - lo)) - 1u) << lo);
}

// Lane indices for _mm512_permutex2var_ps over two vectors (lanes 16+ index
// the second): the even / odd elements; all but lane 0 of the first, then lane
// 0 (sh0) or lane 1 (sh1) of the second.
struct Deinterleave {
  __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  __m512i sh0 = _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
  __m512i sh1 = _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17);
};

// Where output tile g (a global index over the batch) of side `tile` lies, and
// how many of its rows and columns are inside the image.
struct OutTile {
  int64_t n, oy0, ox0, rows, cols;
};
inline OutTile out_tile(const WinoOutputArgs& a, int64_t g, int64_t tile) {
  const int64_t per_img = a.tiles_h * a.tiles_w, r = g % per_img;
  const int64_t oy0 = (r / a.tiles_w) * tile, ox0 = (r % a.tiles_w) * tile;
  return {g / per_img, oy0, ox0, std::min(tile, a.out_h - oy0), std::min(tile, a.out_w - ox0)};
}

}  // namespace resnode::cpu
