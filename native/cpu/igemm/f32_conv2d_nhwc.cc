// Packing, indirection and the threaded tile loop of the NHWC igemm conv (f32_conv2d_nhwc.h).
#include "f32_conv2d_nhwc.h"

#include <algorithm>

#include "../arch.h"
#include "../common.h"
#include "../lanes.h"
#include "../threadpool.h"
#include "../work_split.h"

namespace resnode::cpu {
namespace {

const IgemmConfig kScalar{Isa::scalar, 4, 8, f32_igemm_4x8__scalar, "f32_igemm_4x8__scalar"};
#if RN_ARCH_X86_64
const IgemmConfig kAvx2{Isa::avx2, 6, 16, f32_igemm_6x16__avx2, "f32_igemm_6x16__avx2"};
const IgemmConfig kAvx512Half{Isa::avx512, 7, 32, f32_igemm_7x32__avx512f, "f32_igemm_7x32__avx512f"};
const IgemmConfig kAvx512{Isa::avx512, 14, 32, f32_igemm_14x32__avx512f, "f32_igemm_14x32__avx512f", &kAvx512Half};
#endif

// A tile's cost in FMA-issue cycles: mr per step of the K loop (2*mr FMAs on two FMA ports),
// plus its set-up and store, about 20 steps of a 14-row tile (the igemm driver probe, 1x1
// 64->256 at 56x56 on one thread: 434 ns a tile, of which the 64 steps at the FMA peak are ~330).
double tile_cycles(const IgemmConfig& c, int64_t m, int64_t k) {
  const int64_t tiles = (m + int64_t(c.mr) - 1) / int64_t(c.mr);
  return double(tiles) * (double(c.mr) * double(k) + 20 * 14);
}

// The packing's kernel, or its half-rows kernel where that costs less for this layer's rows.
const IgemmConfig& kernel_for_rows(const IgemmConfig& packed, int64_t m, int64_t k) {
  const IgemmConfig* half = packed.half_rows;
  return half && tile_cycles(*half, m, k) < tile_cycles(packed, m, k) ? *half : packed;
}

}  // namespace

const IgemmConfig& igemm_config(Isa isa) {
#if RN_ARCH_X86_64
  if (isa == Isa::avx512) return kAvx512;
  if (isa == Isa::avx2) return kAvx2;
#endif
  return kScalar;
}

F32NhwcConvPacked f32_conv_nhwc_pack(Isa isa, const float* oihw, const float* bias, int64_t c_out, int64_t c_in,
                                     int64_t kh, int64_t kw) {
  F32NhwcConvPacked p;
  p.config = &igemm_config(isa);
  p.c_out = c_out;
  p.c_in = c_in;
  p.kh = kh;
  p.kw = kw;
  const int64_t nr = int64_t(p.config->nr), k = kh * kw * c_in, panels = (c_out + nr - 1) / nr;
  p.w.assign(size_t(panels * k * nr), 0.f);
  for (int64_t o = 0; o < c_out; ++o)
    for (int64_t c = 0; c < c_in; ++c)
      for (int64_t t = 0; t < kh * kw; ++t)
        p.w[size_t((o / nr * k + t * c_in + c) * nr + o % nr)] = oihw[(o * c_in + c) * kh * kw + t];
  p.bias.assign(size_t(c_out), 0.f);
  if (bias) std::copy(bias, bias + c_out, p.bias.begin());
  p.zero.assign(size_t(c_in), 0.f);
  return p;
}

F32NhwcIndirection f32_conv_nhwc_indirection(const F32NhwcConvPacked& p, const F32NhwcConvShape& s) {
  RN_CHECK(s.c == p.c_in && s.kh == p.kh && s.kw == p.kw && s.oh > 0 && s.ow > 0);
  const int64_t ks = s.kh * s.kw;
  F32NhwcIndirection ind;
  ind.m = s.n * s.oh * s.ow;
  ind.config = &kernel_for_rows(*p.config, ind.m, ks * s.c);
  const int64_t mr = int64_t(ind.config->mr);
  ind.m_tiles = (ind.m + mr - 1) / mr;
  // Offsets and the zero row's address must never coincide (the kernel tells them apart).
  RN_CHECK(reinterpret_cast<uintptr_t>(p.zero.data()) >= uintptr_t(s.n * s.h * s.w * s.c) * sizeof(float));
  ind.rows.resize(size_t(ind.m_tiles * mr * ks));
  for (int64_t tile = 0; tile < ind.m_tiles; ++tile)
    for (int64_t i = 0; i < mr; ++i) {
      const int64_t pixel = std::min(tile * mr + i, ind.m - 1);
      const int64_t b = pixel / (s.oh * s.ow), oy = pixel / s.ow % s.oh, ox = pixel % s.ow;
      for (int64_t ky = 0; ky < s.kh; ++ky)
        for (int64_t kx = 0; kx < s.kw; ++kx) {
          const int64_t iy = oy * s.sh - s.pad_top + ky * s.dh, ix = ox * s.sw - s.pad_left + kx * s.dw;
          const bool inside = iy >= 0 && iy < s.h && ix >= 0 && ix < s.w;
          const uintptr_t offset = uintptr_t(((b * s.h + iy) * s.w + ix) * s.c) * sizeof(float);
          ind.rows[size_t((tile * ks + ky * s.kw + kx) * mr + i)] =
              inside ? reinterpret_cast<const float*>(offset) : p.zero.data();
        }
    }
  return ind;
}

void f32_conv2d_nhwc(const F32NhwcConvPacked& p, const F32NhwcConvShape& s, const F32NhwcIndirection& ind,
                     const float* x, const float* residual, Clamp act, float* y, int threads) {
  RN_CHECK(ind.config && ind.config->isa == p.config->isa && ind.config->nr == p.config->nr);
  const IgemmConfig& cfg = *ind.config;
  const int64_t mr = int64_t(cfg.mr), nr = int64_t(cfg.nr), ks = s.kh * s.kw, k = ks * p.c_in;
  RN_CHECK(ind.m == s.n * s.oh * s.ow && int64_t(ind.rows.size()) == ind.m_tiles * mr * ks);
  const int64_t panels = (p.c_out + nr - 1) / nr;
  const double flops = 2.0 * double(ind.m) * double(p.c_out) * double(k);
  const int t = threads_for_work(flops, threads);
  // Every column chunk re-reads the activations, every row chunk the weights (work_split.h).
  const SplitPlan split = plan_split(1, size_t(ind.m_tiles), size_t(panels), double(ind.m) * double(k),
                                     double(k) * double(p.c_out), flops, t);
  const uintptr_t a_offset = reinterpret_cast<uintptr_t>(x);
  // The weights a chunk reads, against a quarter of a 2 MB L2 (ResNet-50's 1x1 convs of K <= 512
  // into 256 channels: at most 512 KB; its 3x3 512-channel convs: 9.4 MB).
  const bool weights_in_l2 = double(k) * double(p.c_out) * sizeof(float) / double(split.nc) <= double(512 << 10);
  // Tasks row chunk by row chunk, one contiguous lane of them per thread (lanes.h): each core
  // reads back the rows it wrote in the conv before (and the residual it wrote earlier) from its
  // own L2, and a lane whose thread lost its core is finished by the others.
  parallel_for_lanes(split.mc * split.nc, t, [&](size_t task) {
    size_t m0, m1, n0, n1;
    chunk_range(task / split.nc, split.mc, size_t(ind.m_tiles), 1, size_t(ind.m_tiles), &m0, &m1);
    chunk_range(task % split.nc, split.nc, size_t(panels), 1, size_t(panels), &n0, &n1);
    auto run = [&](size_t tile, size_t panel) {
      const int64_t row = int64_t(tile) * mr, col = int64_t(panel) * nr, nc = std::min(nr, p.c_out - col);
      GemmEpilogue ep;
      ep.bias_n = p.bias.data() + col;
      ep.residual = residual ? residual + row * p.c_out + col : nullptr;
      ep.ld_residual = size_t(p.c_out);
      ep.act = act;
      cfg.ukernel(size_t(std::min(mr, ind.m - row)), size_t(nc), size_t(p.c_in), size_t(ks),
                  ind.rows.data() + tile * size_t(mr * ks), p.w.data() + panel * size_t(k * nr), y + row * p.c_out + col,
                  size_t(p.c_out), a_offset, p.zero.data(), &ep);
    };
    if (weights_in_l2) {
      // The chunk's weights stay in L2 (a short K): tile after tile, every panel of one tile's
      // rows while they are in L1, and the next panel's y and residual lines fetched ahead by
      // the kernel.
      for (size_t tile = m0; tile < m1; ++tile)
        for (size_t panel = n0; panel < n1; ++panel) run(tile, panel);
    } else {
      // Panel after panel, so one panel of weights stays in L2 while the chunk's tiles stream by.
      for (size_t panel = n0; panel < n1; ++panel)
        for (size_t tile = m0; tile < m1; ++tile) run(tile, panel);
    }
  });
}

}  // namespace resnode::cpu
