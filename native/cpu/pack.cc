#include "pack.h"

#include <algorithm>

#include "bf16.h"
#include "conv_dconv.h"

namespace resnode::cpu {

void pack_panels(const float* src, size_t ld, size_t rows, size_t k, size_t width,
                 size_t k_block, float* dst) {
  RN_CHECK(k_block > 0 || k == 0);
  for (size_t k0 = 0; k0 < k; k0 += k_block) {
    const size_t kl = std::min(k_block, k - k0);
    for (size_t p0 = 0; p0 < rows; p0 += width) {
      const size_t n = std::min(width, rows - p0);
      for (size_t kk = 0; kk < kl; ++kk) {
        size_t i = 0;
        for (; i < n; ++i) dst[kk * width + i] = src[(p0 + i) * ld + k0 + kk];
        for (; i < width; ++i) dst[kk * width + i] = 0.0f;
      }
      dst += kl * width;
    }
  }
}

std::shared_ptr<PackedConv> new_packed_conv(const GemmConfig* cfg, const float* bias,
                                            int64_t c_out, int64_t c_in_per_group, int64_t kh,
                                            int64_t kw, int64_t groups) {
  auto p = std::make_shared<PackedConv>();
  p->cfg = cfg;
  p->c_out = c_out;
  p->c_in_per_group = c_in_per_group;
  p->kh = kh;
  p->kw = kw;
  p->groups = groups;
  p->m_per_group = c_out / groups;
  p->k_per_group = c_in_per_group * kh * kw;
  if (bias) p->bias.assign(bias, bias + c_out);
  return p;
}

std::shared_ptr<PackedConv> pack_conv2d(const float* weight, const float* bias, int64_t c_out,
                                        int64_t c_in_per_group, int64_t kh, int64_t kw,
                                        int64_t groups, Precision precision) {
  if (precision == Precision::bf16)
    return pack_conv2d_bf16(weight, bias, c_out, c_in_per_group, kh, kw, groups);
  return pack_conv2d_panels(weight, bias, c_out, c_in_per_group, kh, kw, groups, precision,
                            active_isa(), true);
}

std::shared_ptr<PackedConv> pack_conv2d_panels(const float* weight, const float* bias,
                                               int64_t c_out, int64_t c_in_per_group, int64_t kh,
                                               int64_t kw, int64_t groups, Precision precision,
                                               Isa isa, bool allow_dconv) {
  RN_CHECK(weight && c_out > 0 && c_in_per_group > 0 && kh > 0 && kw > 0 && groups > 0);
  RN_CHECK(c_out % groups == 0);
  auto p = new_packed_conv(&gemm_config(isa, size_t(c_out / groups)), bias, c_out,
                           c_in_per_group, kh, kw, groups);
  const size_t m = size_t(p->m_per_group), k = size_t(p->k_per_group);
  p->direct = conv_is_direct(p->m_per_group, groups);
  if (p->direct) {
    p->group_stride = m * k;
    p->weights = aligned_floats(size_t(c_out) * k);
    std::memcpy(p->weights.get(), weight, size_t(c_out) * k * sizeof(float));
  } else {
    p->dconv = allow_dconv && dconv_packable(p->cfg->isa, c_out, kh, kw, groups);
    const size_t mr = p->panel_rows();
    p->k_block = p->dconv ? k : gemm_k_block(*p->cfg, k);
    p->group_stride = round_up(m, mr) * k;
    p->weights = aligned_floats(p->group_stride * size_t(groups));
    for (int64_t g = 0; g < groups; ++g)
      pack_panels(weight + size_t(g) * m * k, k, m, k, mr, p->k_block,
                  p->weights.get() + size_t(g) * p->group_stride);
  }
  p->precision = precision;
  p->winograd_enabled = precision == Precision::fast && kh == 3 && kw == 3 && groups == 1 && !p->direct;
  return p;
}

std::vector<float> PackedConv::raw_weights() const {
  RN_CHECK(!bf16);  // bf16 panels are rounded; nothing derives from them
  const size_t m = size_t(m_per_group), k = size_t(k_per_group);
  std::vector<float> raw(size_t(c_out) * k);
  if (direct) {
    std::copy(weights.get(), weights.get() + raw.size(), raw.begin());
    return raw;
  }
  // a[kk * mr + i] of group g's panel p (in K block k0) is row p * mr + i of the group.
  const size_t mr = panel_rows(), m_pad = round_up(m, mr);
  for (int64_t g = 0; g < groups; ++g) {
    const float* panels = group_panels(g);
    for (size_t r = 0; r < m; ++r) {
      float* dst = raw.data() + (size_t(g) * m + r) * k;
      for (size_t k0 = 0; k0 < k; k0 += k_block) {
        const float* a = packed_panel(panels, m_pad, k, mr, k_block, k0, r / mr) + r % mr;
        for (size_t kk = 0; kk < std::min(k_block, k - k0); ++kk) dst[k0 + kk] = a[kk * mr];
      }
    }
  }
  return raw;
}

const PackedWinograd& PackedConv::winograd(int64_t tile) const {
  RN_CHECK(winograd_enabled && (tile == 4 || tile == 2));
  const int i = tile == 4 ? 0 : 1;
  std::call_once(winograd_once_[i], [this, i, tile] {
    const std::vector<float> raw = raw_weights();
    winograd_[i] = pack_winograd3x3(raw.data(), bias_or_null(), c_out, c_in_per_group, tile, isa());
    winograd_ready_[i].store(true, std::memory_order_release);
  });
  return *winograd_[i];
}

const PackedConv& PackedConv::gemm_fallback() const {
  RN_CHECK(dconv);
  std::call_once(fallback_once_, [this] {
    const std::vector<float> raw = raw_weights();
    fallback_ = pack_conv2d_panels(raw.data(), bias_or_null(), c_out, c_in_per_group, kh, kw,
                                   groups, Precision::exact, isa(), /*allow_dconv=*/false);
    fallback_ready_.store(true, std::memory_order_release);
  });
  return *fallback_;
}

size_t PackedConv::bytes() const {
  size_t b = (group_stride * size_t(groups) + bias.size()) * sizeof(float);
  for (int i = 0; i < 2; ++i)
    if (winograd_ready_[i].load(std::memory_order_acquire))
      b += size_t(winograd_[i]->panels) * winograd_[i]->panel_stride() * sizeof(float);
  if (fallback_ready_.load(std::memory_order_acquire)) b += fallback_->bytes();
  return b;
}

std::shared_ptr<PackedGemm> pack_gemm(const float* weight, const float* bias, int64_t n_out,
                                      int64_t k) {
  RN_CHECK(weight && n_out > 0 && k > 0);
  auto p = std::make_shared<PackedGemm>();
  p->cfg = &gemm_config(active_isa());
  p->n_out = n_out;
  p->k = k;
  if (bias) p->bias.assign(bias, bias + n_out);
  const size_t nr = p->cfg->nr;
  p->weights = aligned_floats(round_up(size_t(n_out), nr) * size_t(k));
  p->k_block = gemm_k_block(*p->cfg, size_t(k));
  pack_panels(weight, size_t(k), size_t(n_out), size_t(k), nr, p->k_block, p->weights.get());
  return p;
}

}  // namespace resnode::cpu
