// Winograd F(4x4,3x3) / F(2x2,3x3) driver: weight transforms, the choice of
// variant, work split, scalar fallback.
// ISA-independent (compiled with no ISA flags); the AVX-512 kernels are picked
// from the ISA the weights were packed for (PackedWinograd::isa).
#include "winograd.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "../arch.h"
#include "../threadpool.h"
#include "winograd_kernels.h"

namespace resnode::cpu {
namespace {

// The transform matrices of F(T x T, 3x3), A = T + 2 (Lavin & Gray): for
// T = 4 the interpolation points 0, +-1, +-2, inf; for T = 2 0, +-1, inf.
template <int T>
struct WinoMath;
template <>
struct WinoMath<4> {
  static constexpr int A = 6;
  static constexpr double G[6][3] = {{1.0 / 4, 0, 0},
                                     {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                     {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                     {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                     {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                     {0, 0, 1}};
  static constexpr float BT[6][6] = {{4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
                                     {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
  static constexpr float AT[4][6] = {
      {1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};
};
template <>
struct WinoMath<2> {
  static constexpr int A = 4;
  static constexpr double G[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  static constexpr float BT[4][4] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
  static constexpr float AT[2][4] = {{1, 1, 1, 0}, {0, 1, -1, -1}};
};

constexpr int64_t kP = PackedWinograd::kPanel;

// Per-thread scratch owned by this file (conv2d uses thread_scratch's slots).
float* wino_scratch(int slot, size_t count) {
  struct Slot {
    AlignedBuffer buf;
    size_t cap = 0;
  };
  thread_local Slot slots[2];
  Slot& s = slots[slot];
  if (s.cap < count) {
    s.buf.reset();
    s.cap = 0;
    s.buf = aligned_floats(count);
    s.cap = count;
  }
  return s.buf.get();
}

const WinoKernels& kernels_for(Isa isa, int64_t tile) {
  static const WinoKernels scalar4{f32_winograd_input_4x4_3x3__scalar, f32_winograd_gemm_32__scalar,
                                   f32_winograd_output_4x4_3x3__scalar, "f32_winograd_4x4_3x3__scalar"};
  static const WinoKernels scalar2{f32_winograd_input_2x2_3x3__scalar, f32_winograd_gemm_32__scalar,
                                   f32_winograd_output_2x2_3x3__scalar, "f32_winograd_2x2_3x3__scalar"};
  RN_CHECK(tile == 4 || tile == 2);
#if RN_ARCH_X86_64
  static const WinoKernels avx512_4{f32_winograd_input_4x4_3x3__avx512f, f32_winograd_gemm_14x32__avx512f,
                                    f32_winograd_output_4x4_3x3__avx512f, "f32_winograd_4x4_3x3__avx512f"};
  static const WinoKernels avx512_2{f32_winograd_input_2x2_3x3__avx512f, f32_winograd_gemm_14x32__avx512f,
                                    f32_winograd_output_2x2_3x3__avx512f, "f32_winograd_2x2_3x3__avx512f"};
  if (isa == Isa::avx512) return tile == 4 ? avx512_4 : avx512_2;
#endif
  return tile == 4 ? scalar4 : scalar2;
}

// Tuning (floats). A per-thread V block stays in L2 (2 MB here) next to the
// M buffer and a U panel; a shared V (all tiles) is used when it is this small
// or when there are too few tile rows to give every thread its own blocks.
constexpr size_t kBlockFloats = size_t(256) << 10;  // 1 MB
constexpr size_t kSharedFloats = size_t(256) << 10; // 1 MB
constexpr int64_t kChunkTiles = 56;                  // tiles per GEMM call (4 x 14)
constexpr size_t kL2Floats = size_t(384) << 10;      // half of a 2 MB L2, for the model below

std::atomic<int> g_strategy{0};  // tests only: 0 auto, 1 shared, 2 blocked

// The fewest tiles for which F(2x2) beats the direct kernel (see winograd_tile):
// 512@7 at batch 2 (32 tiles) lost to it, 256@14 at batch 1 (49) won.
constexpr int64_t kMinTiles2 = 48;


}  // namespace

// ---- scalar fallback kernels ------------------------------------------------

namespace {

template <int T>
void input_scalar(const WinoInputArgs& a) {
  using W = WinoMath<T>;
  constexpr int A = W::A;
  const int64_t y0 = a.ty * T - a.pad_top;
  for (int64_t c = a.c0; c < a.c1; ++c) {
    const float* plane = a.x + c * a.h * a.w;
    for (int64_t l = 0; l < a.nt; ++l) {
      const int64_t x0 = (a.tx0 + l) * T - a.pad_left;
      float d[A][A], t[A][A];
      for (int i = 0; i < A; ++i)
        for (int j = 0; j < A; ++j) {
          const int64_t iy = y0 + i, ix = x0 + j;
          d[i][j] = (iy >= 0 && iy < a.h && ix >= 0 && ix < a.w) ? plane[iy * a.w + ix] : 0.0f;
        }
      for (int i = 0; i < A; ++i)
        for (int j = 0; j < A; ++j) {
          float s = 0;
          for (int k = 0; k < A; ++k) s += W::BT[i][k] * d[k][j];
          t[i][j] = s;
        }
      for (int i = 0; i < A; ++i)
        for (int j = 0; j < A; ++j) {
          float s = 0;
          for (int k = 0; k < A; ++k) s += t[i][k] * W::BT[j][k];
          a.v[size_t(i * A + j) * a.ld_e + size_t(c) * a.ld_c + size_t(l)] = s;
        }
    }
  }
}

template <int T>
void output_scalar(const WinoOutputArgs& a) {
  using W = WinoMath<T>;
  constexpr int A = W::A;
  const int64_t nco = std::min<int64_t>(kP, a.c_out - a.co0);
  for (int64_t t = 0; t < a.ntiles; ++t) {
    const int64_t g = a.tile0 + t;
    const int64_t n = g / (a.tiles_h * a.tiles_w), r = g % (a.tiles_h * a.tiles_w);
    const int64_t oy0 = (r / a.tiles_w) * T, ox0 = (r % a.tiles_w) * T;
    const int64_t rows = std::min<int64_t>(T, a.out_h - oy0), cols = std::min<int64_t>(T, a.out_w - ox0);
    for (int64_t o = 0; o < nco; ++o) {
      float mm[A][A], t1[T][A];
      for (int e = 0; e < A * A; ++e) mm[e / A][e % A] = a.m[size_t(e) * a.ldm_e + size_t(t) * 32 + size_t(o)];
      for (int i = 0; i < T; ++i)
        for (int j = 0; j < A; ++j) {
          float s = 0;
          for (int k = 0; k < A; ++k) s += W::AT[i][k] * mm[k][j];
          t1[i][j] = s;
        }
      const int64_t plane = (n * a.c_out + a.co0 + o) * a.out_h * a.out_w;
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < cols; ++j) {
          float s = 0;
          for (int k = 0; k < A; ++k) s += t1[i][k] * W::AT[j][k];
          s += a.bias[o];
          const int64_t idx = plane + (oy0 + i) * a.out_w + ox0 + j;
          if (a.residual) s += a.residual[idx];
          if (a.relu && s < 0.0f) s = 0.0f;
          a.y[idx] = s;
        }
    }
  }
}

template <int T>
void pack_u(const float* weight, int64_t c_out, int64_t c_in, PackedWinograd& p) {
  using W = WinoMath<T>;
  constexpr int A = W::A;
  for (int64_t co = 0; co < c_out; ++co) {
    float* up = p.u.get() + size_t(co / kP) * p.panel_stride() + size_t(co % kP);
    for (int64_t ci = 0; ci < c_in; ++ci) {
      const float* g = weight + (co * c_in + ci) * 9;
      double t[A][3];  // G g
      for (int i = 0; i < A; ++i)
        for (int j = 0; j < 3; ++j)
          t[i][j] = W::G[i][0] * g[0 * 3 + j] + W::G[i][1] * g[1 * 3 + j] + W::G[i][2] * g[2 * 3 + j];
      for (int i = 0; i < A; ++i)
        for (int j = 0; j < A; ++j) {
          const double v = t[i][0] * W::G[j][0] + t[i][1] * W::G[j][1] + t[i][2] * W::G[j][2];
          up[size_t(i * A + j) * p.e_stride() + size_t(ci) * kP] = float(v);
        }
    }
  }
}

}  // namespace

void f32_winograd_input_4x4_3x3__scalar(const WinoInputArgs& a) { input_scalar<4>(a); }
void f32_winograd_input_2x2_3x3__scalar(const WinoInputArgs& a) { input_scalar<2>(a); }
void f32_winograd_output_4x4_3x3__scalar(const WinoOutputArgs& a) { output_scalar<4>(a); }
void f32_winograd_output_2x2_3x3__scalar(const WinoOutputArgs& a) { output_scalar<2>(a); }

void f32_winograd_gemm_32__scalar(size_t elems, size_t k, size_t nq, const uint8_t* mr,
                                  const float* v, size_t ld_e, size_t ld_q, const float* u,
                                  size_t ldu_e, float* m, size_t ldm_e) {
  for (size_t e = 0; e < elems; ++e) {
    const float* ue = u + e * ldu_e;
    float* me = m + e * ldm_e;
    for (size_t q = 0; q < nq; ++q) {
      const float* vq = v + e * ld_e + q * ld_q;
      for (size_t t = 0; t < mr[q]; ++t) {
        float acc[32] = {};
        for (size_t c = 0; c < k; ++c) {
          const float vv = vq[c * size_t(kGroupLd) + t];
          const float* uc = ue + c * 32;
          for (int o = 0; o < 32; ++o) acc[o] += vv * uc[o];
        }
        std::memcpy(me, acc, sizeof(acc));
        me += 32;
      }
    }
  }
}

// ---- packing ------------------------------------------------------------------

std::shared_ptr<PackedWinograd> pack_winograd3x3(const float* weight, const float* bias,
                                                 int64_t c_out, int64_t c_in, int64_t tile,
                                                 Isa isa) {
  RN_CHECK(weight && c_out > 0 && c_in > 0 && (tile == 4 || tile == 2));
  auto p = std::make_shared<PackedWinograd>();
  p->tile = tile;
  p->isa = isa;
  p->c_out = c_out;
  p->c_in = c_in;
  p->panels = int64_t(div_up(size_t(c_out), size_t(kP)));
  const size_t total = size_t(p->panels) * p->panel_stride();
  p->u = aligned_floats(total);
  std::memset(p->u.get(), 0, total * sizeof(float));
  if (tile == 4)
    pack_u<4>(weight, c_out, c_in, *p);
  else
    pack_u<2>(weight, c_out, c_in, *p);
  p->bias.assign(size_t(p->panels * kP), 0.0f);
  if (bias) {
    p->has_bias = true;
    std::copy(bias, bias + c_out, p->bias.begin());
  }
  return p;
}

const char* winograd3x3_kernel(int64_t tile, Isa isa) { return kernels_for(isa, tile).name; }

void winograd_force_strategy_for_tests(int strategy) { g_strategy.store(strategy); }

bool winograd_applicable(const Conv2dShape& s) {
  return s.kh == 3 && s.kw == 3 && s.stride_h == 1 && s.stride_w == 1 && s.dil_h == 1 &&
         s.dil_w == 1 && s.groups == 1;
}

int64_t winograd_tile(const Conv2dShape& s, Isa isa) {
  if (!winograd_applicable(s) || isa != Isa::avx512) return 0;
  auto tiles = [&](int64_t t) {
    return s.n * int64_t(div_up(size_t(s.out_h), size_t(t))) * int64_t(div_up(size_t(s.out_w), size_t(t)));
  };
  const double u4_bytes = 36.0 * 4.0 * double(s.c_in) * double(round_up(size_t(s.c_out), size_t(kP)));
  // U is 4x the raw weights and each of its bytes serves tiles / 2 FLOPs, so
  // with few tiles the call streams U from memory: in a model (U not in cache)
  // 256@14 at batch 1 (16 tiles, 9.4 MB of U) measured 0.89-0.93x of the
  // direct kernel, though 1.5x with U warm in the kernel harness; 128@28 (49
  // tiles) 1.5-1.7x and 64@56 (196) 2.3-2.5x.
  const bool f4 = tiles(4) >= 32 || u4_bytes <= double(2 << 20);
  // F(2x2) streams 16/36 of that U for more tiles: with U from L3 (8 rotating
  // copies), 256@14 at batch 1 took 0.69-0.76 ms against the direct kernel's
  // 0.80-0.93 and F(4x4)'s 0.98; 512@7 at batch 4 3.7 against 4.1 and 4.2.
  const bool f2 = tiles(2) >= kMinTiles2;
  // Where F(4x4) pads its tiles far more (14x14 is 3.5 tiles of 4 a side, 7
  // of 2), F(2x2) does at most 1.5x its multiplies and wins while U is big:
  // 256@14 at batch 2/4/8 1.15/1.21/1.08x F(4x4). Where both pad alike
  // (28x28, 7x7) F(4x4) does 1.78x fewer and wins: 512@7 at batch 8 1.22x,
  // 128@28 1.13-1.46x.
  const double work2 = 16.0 * double(tiles(2)), work4 = 36.0 * double(tiles(4));
  if (f2 && u4_bytes > double(2 << 20) && work2 <= 1.5 * work4) return 2;
  if (f4) return 4;
  return f2 ? 2 : 0;
}

// ---- driver ---------------------------------------------------------------------

void winograd3x3(const Conv2dShape& s, const PackedWinograd& w, const float* x,
                 const float* residual, bool relu, float* y, int threads) {
  RN_CHECK(x && y && w.u);
  RN_CHECK(winograd_applicable(s));
  RN_CHECK(s.c_in == w.c_in && s.c_out == w.c_out);
  RN_CHECK(s.n > 0 && s.h > 0 && s.w > 0 && s.out_h > 0 && s.out_w > 0);
  RN_CHECK(s.pad_top >= 0 && s.pad_left >= 0 && s.pad_bottom >= 0 && s.pad_right >= 0);
  RN_CHECK(s.out_h == s.h + s.pad_top + s.pad_bottom - 2 && s.out_w == s.w + s.pad_left + s.pad_right - 2);
  if (threads <= 0) threads = global_threads();

  const WinoKernels& k = kernels_for(w.isa, w.tile);
  const size_t E = w.elems();
  const int64_t th = int64_t(div_up(size_t(s.out_h), size_t(w.tile)));
  const int64_t tw = int64_t(div_up(size_t(s.out_w), size_t(w.tile)));
  const int64_t R = s.n * th, T = R * tw;  // tile rows and tiles over the batch
  const size_t per_tile = E * size_t(s.c_in);
  const double flops = 2.0 * double(s.n * s.c_out * s.out_h * s.out_w) * double(s.c_in * 9);
  const int t = threads_for_work(flops, threads);
  const size_t img = size_t(s.c_in * s.h * s.w);
  const float* bias = w.bias.data();

  // Tile groups (one V panel [c][14] each): whole tile rows when tw <= 14
  // (rpg rows per group), else 14-tile pieces of a row (cpr per row). Groups
  // in order cover consecutive tiles.
  const int64_t rpg = tw <= kGroup ? kGroup / tw : 1;
  const int64_t cpr = tw <= kGroup ? 1 : int64_t(div_up(size_t(tw), size_t(kGroup)));
  auto ngroups = [&](int64_t rows) { return tw <= kGroup ? int64_t(div_up(size_t(rows), size_t(rpg))) : rows * cpr; };
  // First tile (block-relative) and size of group q of a block of `rows` rows.
  auto group = [&](int64_t q, int64_t rows, int64_t* t0, int64_t* nt) {
    if (tw <= kGroup) {
      *t0 = q * rpg * tw;
      *nt = std::min(rpg, rows - q * rpg) * tw;
    } else {
      *t0 = (q / cpr) * tw + (q % cpr) * kGroup;
      *nt = std::min(kGroup, tw - (q % cpr) * kGroup);
    }
  };
  const size_t ld_q = size_t(s.c_in * kGroupLd);
  auto ld_e_for = [&](int64_t rows) { return size_t(ngroups(rows)) * ld_q + 16; };  // +16: no 4K aliasing

  // Input transform of block-relative tile row lr (global row rr), channels [c0, c1).
  auto input_row = [&](float* v, size_t ld_e, int64_t rr, int64_t lr, int64_t c0, int64_t c1) {
    WinoInputArgs a{x + size_t(rr / th) * img, s.h, s.w, s.pad_top, s.pad_left, rr % th, 0, tw,
                    c0, c1, nullptr, ld_e, size_t(kGroupLd)};
    if (tw <= kGroup) {
      a.v = v + size_t(lr / rpg) * ld_q + size_t((lr % rpg) * tw);
      k.input(a);
    } else {
      for (int64_t ch = 0; ch < cpr; ++ch) {
        a.tx0 = ch * kGroup;
        a.nt = std::min(kGroup, tw - a.tx0);
        a.v = v + size_t(lr * cpr + ch) * ld_q;
        k.input(a);
      }
    }
  };
  // GEMM + output transform for panel p, groups [q0, q1) of a V block of
  // `rows` rows whose first tile is global tile g0.
  auto compute = [&](const float* v, size_t ld_e, int64_t rows, int64_t g0, int64_t p, int64_t q0,
                     int64_t q1) {
    uint8_t mr[64];
    int64_t t0 = 0, nt = 0, tq, nq;
    group(q0, rows, &t0, &nq);
    for (int64_t q = q0; q < q1; ++q) {
      group(q, rows, &tq, &nq);
      mr[q - q0] = uint8_t(nq);
      nt += nq;
    }
    float* m = wino_scratch(1, E * size_t(nt * kP));
    k.gemm(E, size_t(s.c_in), size_t(q1 - q0), mr, v + size_t(q0) * ld_q, ld_e, ld_q, w.panel(p),
           w.e_stride(), m, size_t(nt * kP));
    WinoOutputArgs o{m, size_t(nt * kP), g0 + t0, nt, th, tw, s.c_out, s.out_h, s.out_w,
                     p * kP, bias + p * kP, residual, relu, y};
    k.output(o);
  };
  constexpr int64_t kGroupsPerCall = kChunkTiles / kGroup;  // <= 64 (mr[] above)

  const int forced = g_strategy.load(std::memory_order_relaxed);
  // Traffic model (floats through L3): per-thread blocks re-read U once per block
  // unless U fits in L2; a shared V is re-read once per panel unless it fits.
  const int64_t rows_b = std::max<int64_t>(1, int64_t(kBlockFloats / (size_t(tw) * per_tile)));
  int64_t nb = int64_t(div_up(size_t(R), size_t(rows_b)));
  nb = std::min<int64_t>(R, int64_t(round_up(size_t(nb), size_t(t))));
  const double u_fl = double(w.panels) * double(w.panel_stride()), v_fl = double(T) * double(per_tile);
  const double blocked_cost = (u_fl > double(kL2Floats) ? double(nb) : 1.0) * u_fl + v_fl;
  const double shared_cost = (v_fl > double(kL2Floats) ? double(w.panels) : 1.0) * v_fl + u_fl;
  const bool shared = forced ? forced == 1
                             : (v_fl <= double(kSharedFloats) || R < 2 * t || shared_cost < blocked_cost);
  if (shared) {
    // Phase 1: transform every tile into one V (rows x channel chunks in parallel).
    const int64_t nq = ngroups(R);
    const size_t ld_e = ld_e_for(R);
    float* v = wino_scratch(0, E * ld_e);
    const int64_t cchunks = std::min<int64_t>(s.c_in, std::max<int64_t>(1, div_up(size_t(4 * t), size_t(R))));
    parallel_for(size_t(R * cchunks), t, [&](size_t task) {
      const int64_t rr = int64_t(task) / cchunks, ci = int64_t(task) % cchunks;
      input_row(v, ld_e, rr, rr, ci * s.c_in / cchunks, (ci + 1) * s.c_in / cchunks);
    });
    // Phase 2: (panel, group chunk) tasks.
    const int64_t want = int64_t(div_up(size_t(2 * t), size_t(w.panels)));
    const int64_t gpc = std::max<int64_t>(1, std::min<int64_t>(kGroupsPerCall, int64_t(div_up(size_t(nq), size_t(want)))));
    const int64_t nch = int64_t(div_up(size_t(nq), size_t(gpc)));
    parallel_for(size_t(w.panels * nch), t, [&](size_t task) {
      const int64_t p = int64_t(task) / nch, c = int64_t(task) % nch;
      compute(v, ld_e, R, 0, p, c * gpc, std::min(nq, (c + 1) * gpc));
    });
    return;
  }
  // Blocked: each task transforms a block of tile rows into its own V (kept in
  // L2) and runs every panel over it.
  parallel_for(size_t(nb), t, [&](size_t b) {
    const int64_t r0 = int64_t(b) * R / nb, r1 = (int64_t(b) + 1) * R / nb, rows = r1 - r0;
    const int64_t nq = ngroups(rows);
    const size_t ld_e = ld_e_for(rows);
    float* v = wino_scratch(0, E * ld_e);
    for (int64_t rr = r0; rr < r1; ++rr) input_row(v, ld_e, rr, rr - r0, 0, s.c_in);
    for (int64_t p = 0; p < w.panels; ++p)
      for (int64_t q0 = 0; q0 < nq; q0 += kGroupsPerCall)
        compute(v, ld_e, rows, r0 * tw, p, q0, std::min(nq, q0 + kGroupsPerCall));
  });
}

}  // namespace resnode::cpu
