// Activations to bf16 pairs as each GEMM B panel is packed. Compiled with
// -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512bf16 (by file name).
//
// The fp32 im2col packer writes a few k rows of the panel into L1-resident
// scratch; vcvtne2ps2bf16 rounds rows 2p and 2p + 1 (nearest even) and one
// word permute interleaves them into the pair layout the kernel reads.
#include <immintrin.h>

#include <algorithm>

#include "bf16.h"
#include "common.h"

namespace resnode::cpu {
namespace {

// fp32 im2col rows converted per step: 32 rows x 32 columns = 4 KB of scratch.
constexpr size_t kRowsPerStep = 32;

// Word w of the result: lo[w / 2] for even w, hi[w / 2] for odd w, where
// vcvtne2ps2bf16(hi, lo) holds lo in words 0-15 and hi in words 16-31.
inline __m512i interleave_index() {
  alignas(64) uint16_t idx[32];
  for (int j = 0; j < 16; ++j) {
    idx[2 * j] = uint16_t(j);
    idx[2 * j + 1] = uint16_t(16 + j);
  }
  return _mm512_load_si512(idx);
}

}  // namespace

void im2col_pack_bf16__avx512bf16(const ConvGeom& g, const float* x, size_t k0, size_t kl,
                                  size_t n0, size_t ncols, size_t nr, float* dst) {
  RN_CHECK(nr % 16 == 0 && ncols <= nr);
  const size_t k_rows = size_t(g.c * g.kh * g.kw);
  const size_t r0 = 2 * k0;
  RN_CHECK(r0 < k_rows || kl == 0);
  const size_t rows = std::min(2 * kl, k_rows - std::min(r0, k_rows));
  float* tmp = thread_scratch(2, kRowsPerStep * nr);
  const __m512i idx = interleave_index();
  uint32_t* out = reinterpret_cast<uint32_t*>(dst);
  for (size_t s = 0; s < 2 * kl; s += kRowsPerStep) {
    const size_t have = s < rows ? std::min(kRowsPerStep, rows - s) : 0;
    if (have) im2col_pack__avx512f(g, x, r0 + s, have, n0, ncols, nr, tmp);
    for (size_t r = 0; r < kRowsPerStep && s + r < 2 * kl; r += 2) {
      for (size_t v = 0; v < nr; v += 16) {
        const __m512 lo = r < have ? _mm512_loadu_ps(tmp + r * nr + v) : _mm512_setzero_ps();
        const __m512 hi = r + 1 < have ? _mm512_loadu_ps(tmp + (r + 1) * nr + v) : _mm512_setzero_ps();
        const __m512i words = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
        _mm512_storeu_si512(out + v, _mm512_permutexvar_epi16(idx, words));
      }
      out += nr;
    }
  }
}

}  // namespace resnode::cpu
