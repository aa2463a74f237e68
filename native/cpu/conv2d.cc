// conv2d: im2col (or the input itself for pointwise convolutions) times the
// packed weights, with bias + residual + ReLU fused into the tile stores.
// Groups whose output-channel count is tiny (depthwise) use the depthwise
// row kernels (dwconv/dwconv.h) where one fits the shape, else a direct loop;
// ungrouped kernels bigger than 1x1 on AVX-512 use the channels-in-lanes
// direct kernel (conv_dconv.h), and 3x3 ones in the fast mode may use Winograd.
#include <algorithm>
#include <cmath>
#include <vector>

#include "common.h"
#include "conv_dconv.h"
#include "dwconv/dwconv.h"
#include "gemm_driver.h"
#include "im2col.h"
#include "ops.h"
#include "pack.h"
#include "reorder/f32_transpose.h"
#include "winograd/winograd.h"
#include "threadpool.h"

namespace resnode::cpu {
namespace {

struct Im2colCtx {
  ConvGeom geom;
  const float* x;       // batch item 0
  size_t item_stride;   // floats between the inputs of consecutive batch items
  size_t nr;
  im2col_pack_fn fn;
};

void pack_b_im2col(const void* ctx, size_t item, size_t k0, size_t kl, size_t n0, size_t ncols,
                   float* dst) {
  const auto* c = static_cast<const Im2colCtx*>(ctx);
  c->fn(c->geom, c->x + item * c->item_stride, k0, kl, n0, ncols, c->nr, dst);
}

// Direct convolution for groups with very few output channels. One task per
// (image, output channel) plane; the epilogue is applied per output value.
void conv_direct(const Conv2dShape& s, const PackedConv& w, const float* x,
                 const float* residual, Clamp act, float* y, int threads) {
  const int64_t m_g = w.m_per_group, cin_g = w.c_in_per_group;
  const int64_t ohw = s.out_h * s.out_w;
  const double flops = 2.0 * double(s.n * s.c_out * ohw) * double(cin_g * s.kh * s.kw);
  const int t = threads_for_work(flops, threads);
  const float* bias = w.bias_or_null();
  parallel_for(size_t(s.n * s.c_out), t, [&](size_t task) {
    const int64_t b = int64_t(task) / s.c_out, oc = int64_t(task) % s.c_out;
    const int64_t g = oc / m_g;
    const float* xg = x + (b * s.c_in + g * cin_g) * s.h * s.w;
    const float* wk = w.weights.get() + oc * cin_g * s.kh * s.kw;
    float* yp = y + (b * s.c_out + oc) * ohw;
    const float* rp = residual ? residual + (b * s.c_out + oc) * ohw : nullptr;
    const float bv = bias ? bias[oc] : 0.0f;
    for (int64_t oy = 0; oy < s.out_h; ++oy) {
      for (int64_t ox = 0; ox < s.out_w; ++ox) {
        float acc = 0.0f;
        for (int64_t ci = 0; ci < cin_g; ++ci) {
          const float* plane = xg + ci * s.h * s.w;
          const float* wc = wk + ci * s.kh * s.kw;
          for (int64_t ky = 0; ky < s.kh; ++ky) {
            const int64_t iy = oy * s.stride_h - s.pad_top + ky * s.dil_h;
            if (iy < 0 || iy >= s.h) continue;
            for (int64_t kx = 0; kx < s.kw; ++kx) {
              const int64_t ix = ox * s.stride_w - s.pad_left + kx * s.dil_w;
              if (ix < 0 || ix >= s.w) continue;
              acc += plane[iy * s.w + ix] * wc[ky * s.kw + kx];
            }
          }
        }
        const int64_t o = oy * s.out_w + ox;
        float v = acc + bv;
        if (rp) v += rp[o];
        yp[o] = act.apply(v);
      }
    }
  });
}

}  // namespace

const char* precision_name(Precision p) {
  return p == Precision::fast ? "fast" : p == Precision::bf16 ? "bf16" : "exact";
}

int64_t window_output_size(int64_t in, int64_t k, int64_t stride, int64_t dil, int64_t p0,
                           int64_t p1, bool ceil_mode) {
  const int64_t span = in + p0 + p1 - (dil * (k - 1) + 1);
  if (span < 0 || stride < 1) return 0;
  if (!ceil_mode) return span / stride + 1;
  int64_t out = (span + stride - 1) / stride + 1;
  if ((out - 1) * stride >= in + p0) --out;  // a last window may not start in the end padding
  return out;
}

// The only place a conv's kernel family is decided: from the shape and the
// packed weights (their precision and ISA), never from state read at run time.
ConvChoice choose_conv2d(const Conv2dShape& s, const PackedConv& w) {
  if (w.direct)
    return {dwconv_kernel(s, w).found() ? ConvPath::dwconv : ConvPath::direct, 0, nullptr};
  if (w.winograd_enabled)
    if (const int64_t tile = winograd_tile(s, w.isa())) return {ConvPath::winograd, tile, nullptr};
  if (w.dconv) {
    if (dconv_fits(s)) return {ConvPath::dconv, 0, nullptr};
    return {ConvPath::gemm, 0, &w.gemm_fallback()};  // shapes the direct kernel does not take
  }
  return {ConvPath::gemm, 0, &w};
}

const char* conv2d_kernel(const Conv2dShape& s, const PackedConv& w, const ConvChoice& c) {
  switch (c.path) {
    case ConvPath::direct: return "f32_conv_direct__scalar";
    case ConvPath::dwconv: return dwconv_kernel(s, w).name;
    case ConvPath::winograd: return winograd3x3_kernel(c.tile, w.isa());
    case ConvPath::dconv: return conv2d_dconv_kernel(s, w);
    case ConvPath::gemm: break;
  }
  return c.gemm->cfg->ukernel_name;
}

const char* conv2d_kernel(const Conv2dShape& s, const PackedConv& w) {
  return conv2d_kernel(s, w, choose_conv2d(s, w));
}

void conv2d(const Conv2dShape& s, const PackedConv& w, const float* x, const float* residual,
            bool relu, float* y, int threads) {
  conv2d(s, w, choose_conv2d(s, w), x, residual, Clamp::relu(relu), Activation{}, y, threads);
}

namespace {

// What a conv path did not fuse, over its finished output: the clamp (Winograd,
// fast mode only, fuses only ReLU; null: none) and then f.
void finish_in_place(float* y, size_t count, const Clamp* clamp, const Activation& f, int threads) {
  const size_t tasks = std::max<size_t>(1, std::min<size_t>(size_t(threads), count >> 14));
  parallel_for(tasks, threads, [&](size_t t) {
    const size_t i0 = t * count / tasks, i1 = (t + 1) * count / tasks;
    if (clamp)
      for (size_t i = i0; i < i1; ++i) y[i] = clamp->apply(y[i]);
    if (f.active()) f.apply(y + i0, int64_t(i1 - i0));
  });
}

}  // namespace

void conv2d(const Conv2dShape& s, const PackedConv& packed, const ConvChoice& c, const float* x,
            const float* residual, Clamp act, const Activation& f, float* y, int threads) {
  RN_CHECK(x && y && packed.weights);
  RN_CHECK(!(act.lo > act.hi));
  RN_CHECK(s.n > 0 && s.c_in > 0 && s.h > 0 && s.w > 0 && s.out_h > 0 && s.out_w > 0);
  RN_CHECK(s.c_out == packed.c_out && s.kh == packed.kh && s.kw == packed.kw && s.groups == packed.groups);
  RN_CHECK(s.c_in == packed.c_in_per_group * packed.groups);
  RN_CHECK(s.stride_h > 0 && s.stride_w > 0 && s.dil_h > 0 && s.dil_w > 0);
  RN_CHECK(s.pad_top >= 0 && s.pad_left >= 0 && s.pad_bottom >= 0 && s.pad_right >= 0);
  // The kernel fits the padded input, and the output dims are ONNX's (floor mode).
  RN_CHECK(s.out_h == window_output_size(s.h, s.kh, s.stride_h, s.dil_h, s.pad_top, s.pad_bottom));
  RN_CHECK(s.out_w == window_output_size(s.w, s.kw, s.stride_w, s.dil_w, s.pad_left, s.pad_right));
  if (threads <= 0) threads = global_threads();
  const size_t count = size_t(s.n * s.c_out * s.out_h * s.out_w);
  switch (c.path) {
    case ConvPath::direct:
      conv_direct(s, packed, x, residual, act, y, threads);
      if (f.active()) finish_in_place(y, count, nullptr, f, threads);
      return;
    case ConvPath::dwconv: return conv2d_dwconv(s, packed, x, residual, act, f, y, threads);
    case ConvPath::winograd: {
      const bool fused = !act.active() || act.is_relu();
      winograd3x3(s, packed.winograd(c.tile), x, residual, fused && act.is_relu(), y, threads);
      if (!fused || f.active()) finish_in_place(y, count, fused ? nullptr : &act, f, threads);
      return;
    }
    case ConvPath::dconv:
      conv2d_dconv(s, packed, x, residual, act, y, threads);
      if (f.active()) finish_in_place(y, count, nullptr, f, threads);
      return;
    case ConvPath::gemm: break;
  }
  RN_CHECK(c.gemm && !c.gemm->dconv && !c.gemm->direct);
  const PackedConv& w = *c.gemm;

  const GemmConfig& cfg = *w.cfg;
  const size_t M = size_t(w.m_per_group), K = w.gemm_k();
  const size_t N = size_t(s.out_h * s.out_w);
  // Ungrouped convolutions over a batch are one GEMM problem whose items (the
  // images) share A, so a K block of the weights is read once for the whole
  // batch; grouped ones are one problem per (image, group).
  const bool fold_batch = s.groups == 1 && s.n > 1;
  const size_t batch = fold_batch ? size_t(s.n) : 1;
  const size_t problems = size_t(s.n * s.groups) / batch;
  const double flops = 2.0 * double(s.n * s.groups) * double(M) * double(K) * double(N);
  const int t = threads_for_work(flops, threads);
  const size_t m_panels = div_up(M, cfg.mr), n_panels = batch * div_up(N, cfg.nr);
  const double b_floats = double(K) * double(n_panels * cfg.nr);  // one problem's packed B
  const SplitPlan split = plan_split(problems, m_panels, n_panels, double(M) * double(K), b_floats, flops, t);
  const float* bias = w.bias_or_null();
  const size_t in_plane = size_t(s.h * s.w);
  const size_t cin_g = size_t(w.c_in_per_group);

  // B panels are packed just before use: for pointwise (1x1, stride 1, no
  // padding) convolutions that is a plain copy of input rows (B is the input,
  // no im2col); otherwise im2col writes the panel. Reading B in place from the
  // input was measured slower on every ResNet-50 1x1 shape: its rows are
  // h*w floats apart and alias in L1, while a packed 32 KB panel stays in L1
  // for all the A panels that reuse it.

  // The GEMM of one problem: image b and group g, or the whole batch.
  auto setup = [&](size_t problem, Im2colCtx* ctx, GemmProblem* p) {
    const size_t b = fold_batch ? 0 : problem / size_t(s.groups);
    const size_t g = fold_batch ? 0 : problem % size_t(s.groups);
    ctx->geom = ConvGeom{int64_t(cin_g), s.h,        s.w,     s.kh,    s.kw,
                         s.stride_h,     s.stride_w, s.dil_h, s.dil_w, s.pad_top,
                         s.pad_left,     s.out_h,    s.out_w};
    ctx->x = x + (b * size_t(s.c_in) + g * cin_g) * in_plane;
    ctx->item_stride = size_t(s.c_in) * in_plane;
    ctx->nr = cfg.nr;
    ctx->fn = cfg.im2col;
    const size_t out_off = (b * size_t(s.c_out) + g * M) * N;
    p->cfg = &cfg;
    p->m = M;
    p->n = N;
    p->k = K;
    p->batch = batch;
    p->c_batch_stride = p->residual_batch_stride = size_t(s.c_out) * N;
    p->a = w.group_panels(int64_t(g));
    p->a_rows = round_up(M, cfg.mr);
    p->a_k_block = w.k_block;
    p->pack_b = pack_b_im2col;
    p->pack_b_ctx = ctx;
    p->c = y + out_off;
    p->ldc = N;
    p->bias_m = bias ? bias + g * M : nullptr;
    p->residual = residual ? residual + out_off : nullptr;
    p->ld_residual = N;
    p->act = act;
    p->f = f;
  };

  const size_t mc = split.mc, nc = split.nc;
  parallel_for(problems * mc * nc, t, [&](size_t task) {
    const size_t problem = task / (mc * nc), r = task % (mc * nc);
    const size_t mi = r / nc, ni = r % nc;
    Im2colCtx ctx;
    GemmProblem p;
    setup(problem, &ctx, &p);
    size_t m0, m1, q0, q1;
    chunk_range(mi, mc, m_panels, cfg.mr, M, &m0, &m1);
    chunk_range(ni, nc, n_panels, 1, n_panels, &q0, &q1);
    gemm_block(p, m0, m1, q0, q1);
  });
}

void conv2d_y_nhwc(const Conv2dShape& s, const PackedConv& w, const ConvChoice& choice, const float* x,
                   Clamp clamp, float* y, int threads) {
  if (choice.path == ConvPath::dconv) return conv2d_dconv(s, w, x, nullptr, clamp, y, threads, true);
  // The other paths store NCHW tiles: a copy, then the reorder (no plan picks this for ResNet's
  // stem, which is a direct conv; it keeps any shape correct).
  const int64_t plane = s.out_h * s.out_w;
  std::vector<float> nchw(size_t(s.n * s.c_out * plane));
  conv2d(s, w, choice, x, nullptr, clamp, Activation{}, nchw.data(), threads);
  f32_reorder(f32_transpose_kernel(w.isa()), nchw.data(), s.n, s.c_out, plane, true, y, threads);
}

}  // namespace resnode::cpu
