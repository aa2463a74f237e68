// Weight packing for the bf16 mode: each row of W is rounded to bf16 pairs
// along K (nearest even), then laid out in the same mr-row panels and K blocks
// as the f32 packing, a pair per word (bf16.h).
#include <vector>

#include "bf16.h"
#include "common.h"
#include "pack.h"

namespace resnode::cpu {

// Convolutions with fewer input channels per group than this (an image stem:
// 3 channels, 7x7) keep the fp32 packing: there the fp32 direct kernel runs at
// the FMA peak while the bf16 im2col GEMM ran 0.21x as fast on ResNet-50's
// 7x7/2 3->64 @224 (2 threads, alternating in one process), and the stem reads
// the raw image, where rounding costs the most accuracy.
constexpr int64_t kBf16MinChannels = 8;

std::shared_ptr<PackedConv> pack_conv2d_bf16(const float* weight, const float* bias,
                                             int64_t c_out, int64_t c_in_per_group, int64_t kh,
                                             int64_t kw, int64_t groups) {
  RN_CHECK(weight && c_out > 0 && c_in_per_group > 0 && kh > 0 && kw > 0 && groups > 0);
  RN_CHECK(c_out % groups == 0 && bf16_available());
  if (conv_is_direct(c_out / groups, groups) || c_in_per_group < kBf16MinChannels)
    return pack_conv2d_panels(weight, bias, c_out, c_in_per_group, kh, kw, groups,
                              Precision::exact, active_isa(), /*allow_dconv=*/true);
  auto p = new_packed_conv(&gemm_config_bf16(size_t(c_out / groups)), bias, c_out,
                           c_in_per_group, kh, kw, groups);
  p->bf16 = true;
  p->precision = Precision::bf16;
  const size_t m = size_t(p->m_per_group), k = size_t(p->k_per_group), pairs = p->gemm_k();
  const size_t mr = p->cfg->mr;
  p->k_block = gemm_k_block(*p->cfg, pairs);
  p->group_stride = round_up(m, mr) * pairs;
  p->weights = aligned_floats(p->group_stride * size_t(groups));
  std::vector<uint32_t> words(m * pairs);
  for (int64_t g = 0; g < groups; ++g) {
    for (size_t r = 0; r < m; ++r) {
      const float* row = weight + (size_t(g) * m + r) * k;
      for (size_t q = 0; q < pairs; ++q)
        words[r * pairs + q] = bf16_pair(row[2 * q], 2 * q + 1 < k ? row[2 * q + 1] : 0.0f);
    }
    // pack_panels only moves 32-bit values, so it lays out pair words as it does floats.
    pack_panels(reinterpret_cast<const float*>(words.data()), pairs, m, pairs, mr, p->k_block,
                p->weights.get() + size_t(g) * p->group_stride);
  }
  return p;
}

}  // namespace resnode::cpu
