// The register-only vdpbf16ps loop for the bf16 peak. Compiled with
// -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512bf16 (by file name).
#include <immintrin.h>

#include "peak.h"

namespace resnode::cpu {

double dpbf16_loop__avx512bf16(int64_t iters) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(float(i) * 1e-3f);
  const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0.5f), _mm512_set1_ps(0.25f));
  const __m512bh b = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-7f), _mm512_set1_ps(2e-7f));
  for (int64_t it = 0; it < iters; ++it)
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
  __m512 sum = acc[0];
  for (int i = 1; i < 12; ++i) sum = _mm512_add_ps(sum, acc[i]);
  return double(_mm512_reduce_add_ps(sum));
}

// 8.0f where vcvtne2ps2bf16 and vdpbf16ps execute (2 * 2 + 2 * 2); raises
// SIGILL where they do not (isa.cc's probe catches it).
float bf16_probe__avx512bf16() {
  const __m512bh x = _mm512_cvtne2ps_pbh(_mm512_set1_ps(2.0f), _mm512_set1_ps(2.0f));
  return _mm512_cvtss_f32(_mm512_dpbf16_ps(_mm512_setzero_ps(), x, x));
}

}  // namespace resnode::cpu
