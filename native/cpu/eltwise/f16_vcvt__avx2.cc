// float16 ↔ float32 with F16C (vcvtph2ps / vcvtps2ph), 8 values at a time.
#include <immintrin.h>

#include "half_convert.h"

namespace resnode::cpu {

// F16C is a separate CPUID bit from AVX2, but every AVX2 CPU has it; the
// target attribute adds it to this file's -mavx2 -mfma.
__attribute__((target("avx2,f16c"))) void f16_f32_vcvt__avx2(const uint16_t* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))));
  if (i < n) f16_f32_vcvt__scalar(x + i, y + i, n - i);
}

__attribute__((target("avx2,f16c"))) void f32_f16_vcvt__avx2(const float* x, uint16_t* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
  if (i < n) f32_f16_vcvt__scalar(x + i, y + i, n - i);
}

}  // namespace resnode::cpu
