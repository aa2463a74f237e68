// Packing of int8 weights for the qu8s8 micro-kernels (layout in qu8s8_gemm.h), the
// per-ISA kernel table, and the driver that tiles a GEMM over them.
#include <algorithm>
#include <cstring>

#include "../arch.h"
#include "../common.h"
#include "qu8s8_gemm.h"
#include "qu8s8_gemm_tiles.h"

namespace resnode::cpu {

Qu8s8GemmConfig qu8s8_gemm_config(Isa isa, bool vnni) {
#if RN_ARCH_X86_64
  if (isa == Isa::avx512 && vnni) return {qu8s8_gemm_12x32c4__avx512vnni, 12, 32, "qu8s8_gemm_12x32c4__avx512vnni",
                                            qu8s8_igemm_12x32c4__avx512vnni, "qu8s8_igemm_12x32c4__avx512vnni"};
  if (isa == Isa::avx512 || isa == Isa::avx2) return {qu8s8_gemm_2x16c4__avx2, 2, 16, "qu8s8_gemm_2x16c4__avx2"};
#endif
  (void)isa;
  (void)vnni;
  return {qu8s8_gemm_4x16c4__scalar, 4, 16, "qu8s8_gemm_4x16c4__scalar"};
}

Qu8s8Packed qu8s8_pack(const int8_t* w, const int32_t* bias, const float* multipliers, int64_t n,
                       int64_t k, int32_t a_zero_point, const Qu8Requant& requant,
                       const Qu8s8GemmConfig& config) {
  RN_CHECK(n > 0 && k > 0 && requant.qmin <= requant.zero_point && requant.zero_point <= requant.qmax);
  Qu8s8Packed p;
  p.n = n;
  p.k = k;
  p.requant = requant;
  p.config = config;
  const int64_t blocks = (n + config.nr - 1) / config.nr * (config.nr / kQu8s8Nr), groups = (k + 3) / 4;
  p.w.assign(size_t(blocks * groups * kQu8s8Nr * 4), 0);
  p.bias.assign(size_t(blocks * kQu8s8Nr), 0);
  p.multipliers.assign(size_t(blocks * kQu8s8Nr), 0.f);
  for (int64_t j = 0; j < n; ++j) {
    const int64_t b = j / kQu8s8Nr, lane = j % kQu8s8Nr;
    int64_t sum = 0;
    for (int64_t kk = 0; kk < k; ++kk) {
      const int8_t v = w[j * k + kk];
      sum += v;
      p.w[size_t(((b * groups + kk / 4) * kQu8s8Nr + lane) * 4 + kk % 4)] = v;
    }
    // |sum| <= 128 k and |z_a| <= 255: within int32 for any k a conv can have (< 2^16 here).
    const int64_t folded = (bias ? int64_t(bias[j]) : 0) - int64_t(a_zero_point) * sum;
    RN_CHECK(folded >= INT32_MIN && folded <= INT32_MAX);
    p.bias[size_t(j)] = int32_t(folded);
    p.multipliers[size_t(j)] = multipliers[j];
  }
  return p;
}

bool qu8s8_gemm_reads_in_place(const Qu8s8Packed& p) { return p.config.igemm && p.k % 4 == 0; }

void qu8s8_gemm(const Qu8s8Packed& p, int64_t m, const uint8_t* a, int64_t a_stride, uint8_t* c,
                int64_t c_stride, int threads, const Qu8TileAdd* add) {
  const int64_t mr = p.config.mr;
  if (qu8s8_gemm_reads_in_place(p)) {
    // One tap: the kernel reads each row of A in place (rows past the tile's end repeat its first).
    qu8s8_igemm_tiles(p, m, 1, [&](const uint8_t** ptrs, int64_t i, int64_t rows) {
      for (int64_t r = 0; r < mr; ++r) ptrs[r] = a + (i + (r < rows ? r : 0)) * a_stride;
    }, c, c_stride, threads, add);
    return;
  }
  qu8s8_gemm_tiles(p, m, [&](uint8_t* panel, int64_t i, int64_t rows) {
    for (int64_t r = 0; r < rows; ++r) qu8s8_panel_row(panel, mr, r, 0, a + (i + r) * a_stride, p.k);
  }, c, c_stride, threads, add);
}

}  // namespace resnode::cpu
