// qu8s8 micro-kernel on AVX2: up to 2 rows x 16 channels. vpmaddubsw would saturate its int16
// pair sums (255 * 127 * 2 > 32767), so both operands are widened to int16 and multiplied with
// vpmaddwd (exact int32 pair sums); the two pair sums of each channel are added at the end.
// Compiled with -mavx2 -mfma.
#include <immintrin.h>

#include <cstring>

#include "qu8s8_gemm.h"

namespace resnode::cpu {

namespace {
constexpr int kMr = 2;

// a[k..k+3] widened to int16 and repeated over the 4 channels of a quad: [a0 a1 a2 a3] x 4.
inline __m256i broadcast_group(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  const __m128i w16 = _mm_cvtepu8_epi16(_mm_cvtsi32_si128(v));  // a0..a3 as int16, then zeros
  return _mm256_broadcastq_epi64(w16);
}

// Channels j..j+7 of a row from the pair sums of quads q (channels j..j+3) and q + 1 (j+4..j+7).
inline __m256i channel_sums(__m256i q0, __m256i q1) {
  // hadd within 128-bit lanes: [c0 c1 c4 c5 | c2 c3 c6 c7]
  return _mm256_permutevar8x32_epi32(_mm256_hadd_epi32(q0, q1), _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7));
}
}  // namespace

void qu8s8_gemm_2x16c4__avx2(int64_t mr, int64_t nc, int64_t kc, const uint8_t* a,
                             const int8_t* w, const int32_t* bias, const float* multipliers,
                             uint8_t* c, int64_t c_stride, const Qu8Requant& r) {
  // acc[i][q]: row i, quad q of 4 channels, two int32 pair sums per channel.
  __m256i acc[kMr][4];
  for (auto& row : acc)
    for (auto& q : row) q = _mm256_setzero_si256();
  for (int64_t k = 0; k < kc; k += 4) {
    const int8_t* g = w + (k / 4) * kQu8s8Nr * 4;
    __m256i wq[4];
    for (int q = 0; q < 4; ++q) wq[q] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g + q * 16)));
    for (int i = 0; i < kMr; ++i) {
      const __m256i av = broadcast_group(a + ((k / 4) * kMr + i) * 4);  // the panel: [group][row][4]
      for (int q = 0; q < 4; ++q) acc[i][q] = _mm256_add_epi32(acc[i][q], _mm256_madd_epi16(av, wq[q]));
    }
  }
  const __m256 lo = _mm256_set1_ps(float(r.qmin - r.zero_point)), hi = _mm256_set1_ps(float(r.qmax - r.zero_point));
  const __m256i zp = _mm256_set1_epi32(r.zero_point);
  for (int i = 0; i < kMr && i < mr; ++i) {
    alignas(32) int32_t out[kQu8s8Nr];
    for (int h = 0; h < 2; ++h) {
      const __m256i sums = _mm256_add_epi32(channel_sums(acc[i][2 * h], acc[i][2 * h + 1]),
                                            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias + 8 * h)));
      // As the AVX-512 kernel: clamp as floats, round half to even, add the zero point.
      const __m256 v = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(sums), _mm256_loadu_ps(multipliers + 8 * h)), lo), hi);
      _mm256_store_si256(reinterpret_cast<__m256i*>(out + 8 * h), _mm256_add_epi32(_mm256_cvtps_epi32(v), zp));
    }
    for (int64_t j = 0; j < nc; ++j) c[i * c_stride + j] = uint8_t(out[j]);
  }
}

}  // namespace resnode::cpu
