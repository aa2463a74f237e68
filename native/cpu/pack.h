// Weight packing, done once at model load. The packed handles remember the
// GemmConfig (micro-kernel, mr, nr) they were packed for.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "common.h"
#include "config.h"
#include "ops.h"
#include "winograd/winograd.h"

namespace resnode::cpu {

// Packs rows [0, rows) x cols [0, k) of a row-major matrix (row stride ld)
// into ceil(rows / width) panels, k-major, zero-padding rows past the end,
// one K block of k_block columns after another (see packed_panel()): all
// panels' slices of a block are contiguous, so a block streams from memory in
// one sequence. A GEMM's A (the weights, width mr) and a fully connected
// layer's B = W^T (W row-major [n, k], width nr) are both packed this way.
void pack_panels(const float* src, size_t ld, size_t rows, size_t k, size_t width,
                 size_t k_block, float* dst);

class PackedConv {
 public:
  const GemmConfig* cfg = nullptr;
  int64_t c_out = 0, c_in_per_group = 0, kh = 0, kw = 0, groups = 0;
  int64_t m_per_group = 0;  // c_out / groups
  int64_t k_per_group = 0;  // c_in_per_group * kh * kw
  // GEMM path: per group, ceil(m_per_group / mr) A panels of k_per_group x mr.
  // Direct path (depthwise and other tiny groups): the raw [c_out, cin/g, kh, kw] weights.
  bool direct = false;
  // Ungrouped kernels bigger than 1x1 on AVX-512: kDconvPanel-channel panels
  // for the direct-convolution kernel (conv_dconv.h) instead of GEMM panels.
  static constexpr size_t kDconvPanel = 32;
  bool dconv = false;
  size_t group_stride = 0;  // floats between groups in `weights`
  // K block of the GEMM panels (config.h's packed_panel); the whole K for the
  // direct kernel's panels.
  size_t k_block = 0;
  AlignedBuffer weights;
  std::vector<float> bias;  // c_out entries, or empty
  // The mode packed for; with fast (and 3x3, groups 1, not direct) Winograd
  // F(4x4,3x3) or F(2x2,3x3) may be used: winograd_enabled.
  Precision precision = Precision::exact;
  bool winograd_enabled = false;
  // The ISA packed for (cfg->isa): every kernel of these weights runs for it.
  Isa isa() const { return cfg->isa; }
  // The bf16 mode (bf16.h): the panels hold bf16 pairs along K, one per word.
  bool bf16 = false;
  // The GEMM's K: k_per_group, or its pairs in the bf16 mode.
  size_t gemm_k() const { return bf16 ? div_up(size_t(k_per_group), 2) : size_t(k_per_group); }

  size_t panel_rows() const { return dconv ? kDconvPanel : cfg->mr; }  // rows per weight panel
  const float* group_panels(int64_t g) const { return weights.get() + size_t(g) * group_stride; }
  // The Winograd weights for output tiles of `tile` (4 or 2), transformed from
  // the GEMM panels on first use (safe to call from several threads at once).
  // Lazily, because they are 4x (1.8x) the raw weights and some shapes never
  // use them (512@7x7 at batch 1 is not profitable): a fast-mode model holds
  // only the ones its inputs need.
  const PackedWinograd& winograd(int64_t tile) const;
  // The same weights in GEMM panels, made on first use (thread-safe), for
  // shapes the direct kernel does not take (see conv2d_dconv).
  const PackedConv& gemm_fallback() const;
  // The [c_out, c_in/groups, kh, kw] weights, recovered from the panels.
  std::vector<float> raw_weights() const;
  size_t bytes() const;
  const float* bias_or_null() const { return bias.empty() ? nullptr : bias.data(); }

 private:
  // [0]: F(4x4,3x3), [1]: F(2x2,3x3)
  mutable std::once_flag winograd_once_[2];
  mutable std::shared_ptr<PackedWinograd> winograd_[2];
  mutable std::atomic<bool> winograd_ready_[2] = {false, false};
  mutable std::once_flag fallback_once_;
  mutable std::shared_ptr<PackedConv> fallback_;
  mutable std::atomic<bool> fallback_ready_{false};
};

// Groups with at most this many output channels (and groups > 1) run the
// direct loop instead of a GEMM whose MR-row tiles would be mostly padding.
constexpr int64_t kDirectMaxM = 2;
inline bool conv_is_direct(int64_t m_per_group, int64_t groups) {
  return m_per_group <= kDirectMaxM && groups > 1;
}

// A PackedConv with its shape, config and bias set and no weights yet.
std::shared_ptr<PackedConv> new_packed_conv(const GemmConfig* cfg, const float* bias,
                                            int64_t c_out, int64_t c_in_per_group, int64_t kh,
                                            int64_t kw, int64_t groups);

// pack_conv2d (ops.h) for a given ISA, with the direct kernel's panels allowed or not.
std::shared_ptr<PackedConv> pack_conv2d_panels(const float* weight, const float* bias,
                                               int64_t c_out, int64_t c_in_per_group, int64_t kh,
                                               int64_t kw, int64_t groups, Precision precision,
                                               Isa isa, bool allow_dconv);

class PackedGemm {
 public:
  const GemmConfig* cfg = nullptr;
  int64_t n_out = 0, k = 0;
  AlignedBuffer weights;  // W^T as ceil(n_out / nr) B panels of k x nr, in K blocks of k_block
  size_t k_block = 0;
  std::vector<float> bias;
  const float* bias_or_null() const { return bias.empty() ? nullptr : bias.data(); }
  size_t bytes() const {
    return (round_up(size_t(n_out), cfg->nr) * size_t(k) + bias.size()) * sizeof(float);
  }
};

}  // namespace resnode::cpu
