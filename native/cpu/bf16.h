// The bf16 mode on the CPU: weights packed as bf16 pairs along K, activations
// rounded to bf16 (nearest even) as each B panel is packed, products summed in
// fp32 by vdpbf16ps (AVX512_BF16), the epilogue in fp32, fp32 outputs.
//
// A bf16 pair (k = 2p in the low half, 2p + 1 in the high half) is one 32-bit
// word, the size of a float, so bf16 packings reuse the f32 GEMM driver, panel
// layout and K blocking with K counted in pairs (an odd K gets a zero high half
// in its last pair).
#pragma once
#include <cstdint>
#include <cstring>
#include <memory>

#include "config.h"
#include "im2col.h"
#include "ops.h"

namespace resnode::cpu {

// Null when this process can run the bf16 kernels; otherwise why not, naming
// the missing CPU feature (AVX512_BF16) or what capped it (RESNODE_ISA, setIsa).
const char* bf16_unavailable_reason();
inline bool bf16_available() { return bf16_unavailable_reason() == nullptr; }

// fp32 -> bf16, round to nearest even, denormals flushed to signed zero and
// NaN kept quiet: what vcvtne2ps2bf16 does, for packing on any CPU.
inline uint16_t bf16_from_f32(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  if ((u & 0x7F800000u) == 0x7F800000u && (u & 0x007FFFFFu))
    return uint16_t((u >> 16) | 0x0040u);  // quiet NaN
  if ((u & 0x7F800000u) == 0) return uint16_t((u >> 16) & 0x8000u);  // zero or denormal
  u += 0x7FFFu + ((u >> 16) & 1u);
  return uint16_t(u >> 16);
}
inline uint32_t bf16_pair(float lo, float hi) {
  return uint32_t(bf16_from_f32(lo)) | (uint32_t(bf16_from_f32(hi)) << 16);
}

// The bf16 micro-kernel for an M of m rows (fewest padded rows), the analogue
// of gemm_config(); its K fields (kc) count pairs.
const GemmConfig& gemm_config_bf16(size_t m = 0);

// pack_conv2d for the bf16 mode. Requires bf16_available(). Grouped
// convolutions with tiny groups (depthwise) keep the fp32 direct loop (it is
// not a GEMM, so bf16 would cost accuracy for no speed), and so do those with
// under 8 input channels per group (the stem; see pack_bf16.cc).
std::shared_ptr<PackedConv> pack_conv2d_bf16(const float* weight, const float* bias,
                                             int64_t c_out, int64_t c_in_per_group, int64_t kh,
                                             int64_t kw, int64_t groups);

// im2col_pack_fn for bf16 configs: k0 and kl count pairs of im2col rows.
// Writes one nr-wide panel (ncols <= nr) of kl pair-words per column.
void im2col_pack_bf16__avx512bf16(const ConvGeom& g, const float* x, size_t k0, size_t kl,
                                  size_t n0, size_t ncols, size_t nr, float* dst);

// The bf16 peak in GFLOP/s (2 FLOPs per multiply-add) of `threads` threads
// running a register-only vdpbf16ps loop, measured now. Requires bf16_available().
double measure_bf16_peak_gflops(int threads);

}  // namespace resnode::cpu
