// The register-only vpdpbusd loop for the int8 (VNNI) peak. Compiled with
// -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni (by file name).
// Inline asm: through the intrinsic, GCC copies every accumulator twice per
// iteration (vpdpbusd overwrites its accumulator), which halved the rate and
// let the GEMM kernels measure above "peak".
#include <immintrin.h>

#include "peak.h"

namespace resnode::cpu {

#define RN_DPBUSD(acc) asm volatile("vpdpbusd %[b], %[a], %[x]" : [x] "+v"(acc) : [a] "v"(a), [b] "v"(b))

double dpbusd_loop__avx512vnni(int64_t iters) {
  __m512i c0 = _mm512_set1_epi32(0), c1 = _mm512_set1_epi32(1), c2 = _mm512_set1_epi32(2), c3 = _mm512_set1_epi32(3);
  __m512i c4 = _mm512_set1_epi32(4), c5 = _mm512_set1_epi32(5), c6 = _mm512_set1_epi32(6), c7 = _mm512_set1_epi32(7);
  __m512i c8 = _mm512_set1_epi32(8), c9 = _mm512_set1_epi32(9), c10 = _mm512_set1_epi32(10), c11 = _mm512_set1_epi32(11);
  const __m512i a = _mm512_set1_epi8(3);   // u8
  const __m512i b = _mm512_set1_epi8(-1);  // s8: the sums fall by 12 per step, no overflow in any realistic run
  for (int64_t it = 0; it < iters; ++it) {
    RN_DPBUSD(c0); RN_DPBUSD(c1); RN_DPBUSD(c2); RN_DPBUSD(c3); RN_DPBUSD(c4); RN_DPBUSD(c5);
    RN_DPBUSD(c6); RN_DPBUSD(c7); RN_DPBUSD(c8); RN_DPBUSD(c9); RN_DPBUSD(c10); RN_DPBUSD(c11);
  }
  const __m512i s = _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(c0, c1), _mm512_add_epi32(c2, c3)),
                                     _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(c4, c5), _mm512_add_epi32(c6, c7)),
                                                      _mm512_add_epi32(_mm512_add_epi32(c8, c9), _mm512_add_epi32(c10, c11))));
  return double(_mm512_reduce_add_epi32(s));
}

#undef RN_DPBUSD

}  // namespace resnode::cpu
