// The plane sum of the global average pool (gavgpool.h), AVX-512: 16 floats
// a vector, four accumulators, the tail masked.
#include <immintrin.h>

#include "gavgpool.h"

namespace resnode::cpu {

float f32_gavgpool_cw__avx512f(const float* x, size_t n) {
  // Four accumulators hide the add latency on large planes (56x56); the masked tail needs no scalar loop.
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  size_t i = 0;
  for (; i + 64 <= n; i += 64)
    for (int k = 0; k < 4; ++k) acc[k] = _mm512_add_ps(acc[k], _mm512_loadu_ps(x + i + 16 * k));
  for (; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - i)) - 1);
    acc[0] = _mm512_add_ps(acc[0], _mm512_maskz_loadu_ps(m, x + i));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

}  // namespace resnode::cpu
