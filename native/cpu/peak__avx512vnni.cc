// The register-only vpdpbusd loop for the int8 (VNNI) peak. Compiled with
// -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni (by file name).
#include <immintrin.h>

#include "peak.h"

namespace resnode::cpu {

double dpbusd_loop__avx512vnni(int64_t iters) {
  __m512i acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_epi32(i);
  const __m512i a = _mm512_set1_epi8(3);   // u8
  const __m512i b = _mm512_set1_epi8(-1);  // s8: the sums fall by 12 per step, no overflow in any realistic run
  for (int64_t it = 0; it < iters; ++it)
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
  __m512i sum = acc[0];
  for (int i = 1; i < 12; ++i) sum = _mm512_add_epi32(sum, acc[i]);
  return double(_mm512_reduce_add_epi32(sum));
}

}  // namespace resnode::cpu
