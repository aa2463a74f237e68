#include "config.h"

#include "arch.h"
#include "bf16.h"
#include "common.h"

namespace resnode::cpu {
namespace {

// Per ISA, the micro-kernels in order of preference; all of one ISA share nr
// (so B packings are interchangeable) and differ in mr.
// kc x nr B panels (~32 KB) stay in L1; kc x nc packed B stays in L2.
const GemmConfig kScalar[] = {
    {Isa::scalar, 4, 8, f32_gemm_4x8__scalar, nullptr, nullptr, im2col_pack,
     "f32_gemm_4x8__scalar", 256, 512},
};
#if RN_ARCH_X86_64
const GemmConfig kAvx2[] = {
    {Isa::avx2, 6, 16, f32_gemm_6x16__avx2, nullptr, nullptr, im2col_pack,
     "f32_gemm_6x16__avx2", 256, 768},
};
const GemmConfig kAvx512[] = {
    {Isa::avx512, 14, 32, f32_gemm_14x32__avx512f, f32_gemm_14x16__avx512f, f32_gemm_14x1__avx512f,
     im2col_pack__avx512f, "f32_gemm_14x32__avx512f", 256, 512},
    {Isa::avx512, 8, 32, f32_gemm_8x32__avx512f, f32_gemm_8x16__avx512f, f32_gemm_8x1__avx512f,
     im2col_pack__avx512f, "f32_gemm_8x32__avx512f", 256, 512},
    // A single row (a fully connected layer at batch 1) streams B, the
    // weights, through a 1-row tile instead of an 8-row one that is 7/8 zeros.
    {Isa::avx512, 1, 32, f32_gemm_1x32__avx512f, nullptr, nullptr,
     im2col_pack__avx512f, "f32_gemm_1x32__avx512f", 256, 512, /*max_m=*/1},
};
// The bf16 mode (bf16.h): K in pairs, so kc = 256 pairs keeps a B panel at
// 32 KB, as the f32 kernels' 256 floats do.
const GemmConfig kAvx512Bf16[] = {
    {Isa::avx512, 14, 32, bf16_gemm_14x32__avx512bf16, bf16_gemm_14x16__avx512bf16, nullptr,
     im2col_pack_bf16__avx512bf16, "bf16_gemm_14x32__avx512bf16", 256, 512},
    {Isa::avx512, 8, 32, bf16_gemm_8x32__avx512bf16, bf16_gemm_8x16__avx512bf16, nullptr,
     im2col_pack_bf16__avx512bf16, "bf16_gemm_8x32__avx512bf16", 256, 512},
};
#endif
#if RN_ARCH_ARM64
// 16 of the 32 q registers accumulate; B panels of 8 columns, like the scalar
// kernel's, so the portable im2col packer serves it.
const GemmConfig kNeon[] = {
    {Isa::neon, 8, 8, f32_gemm_8x8__neon, nullptr, nullptr, im2col_pack,
     "f32_gemm_8x8__neon", 256, 512},
};
#endif

template <size_t N>
const GemmConfig& pick(const GemmConfig (&table)[N], size_t m) {
  // Fewest padded rows; ties go to the earlier (larger mr) kernel.
  const GemmConfig* best = &table[0];
  for (const GemmConfig& c : table)
    if (m && (!c.max_m || m <= c.max_m) && round_up(m, c.mr) < round_up(m, best->mr)) best = &c;
  return *best;
}

}  // namespace

const GemmConfig& gemm_config(Isa isa, size_t m) {
  switch (isa) {
#if RN_ARCH_X86_64
    case Isa::avx512: return pick(kAvx512, m);
    case Isa::avx2: return pick(kAvx2, m);
#endif
#if RN_ARCH_ARM64
    case Isa::neon: return pick(kNeon, m);
#endif
    default: return pick(kScalar, m);
  }
}

const GemmConfig& gemm_config_bf16(size_t m) {
#if RN_ARCH_X86_64
  return pick(kAvx512Bf16, m);
#else
  RN_CHECK(false && "the bf16 kernels exist only on x86-64 (bf16_available() is false here)");
  return pick(kScalar, m);
#endif
}

}  // namespace resnode::cpu
