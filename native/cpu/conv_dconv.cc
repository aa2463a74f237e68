// The direct-convolution driver: pad the input rows once per thread, then run
// micro-kernel tiles (14 pixels x 32 channels, or 7 x 64 for rows of at most
// 7 pixels) over (channel steps) x (pixel tiles). A padded block is some rows
// of one image or, for a batch of small images, several whole images.
#include "conv_dconv.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include "arch.h"
#include "common.h"
#include "gemm/dconv.h"
#include "gemm_driver.h"
#include "isa.h"
#include "threadpool.h"

namespace resnode::cpu {
namespace {

constexpr size_t kPanel = PackedConv::kDconvPanel;
constexpr int64_t kPixels = 14;  // pixels per tile of 32 channels
constexpr int64_t kNarrow = 7;   // pixels per tile of 64 channels (rows of at most 7)
constexpr size_t kBlockFloats = size_t(256) << 10;    // padded input kept in L2 per block (1 MB)

struct DconvKernel {
  f32_dconv_ukernel_fn fn;
  const char* name;
};
#if RN_ARCH_X86_64
#define RN_DCONV_KERNEL(k) DconvKernel{k, #k}
#else
// The direct-conv kernels are AVX-512 only and not built here; dconv_packable()
// is false off x86-64, so no packing ever selects one (the driver checks).
#define RN_DCONV_KERNEL(k) DconvKernel{nullptr, #k}
#endif

DconvKernel pick_two_row_kernel(int64_t stride_w) {
  return stride_w == 1 ? RN_DCONV_KERNEL(f32_dconv_2x7x32s1__avx512f)
         : stride_w == 2 ? RN_DCONV_KERNEL(f32_dconv_2x7x32s2__avx512f)
                         : RN_DCONV_KERNEL(f32_dconv_2x7x32__avx512f);
}

DconvKernel pick_kernel(bool narrow, int64_t stride_w) {
  if (narrow)
    return stride_w == 1 ? RN_DCONV_KERNEL(f32_dconv_7x64s1__avx512f)
           : stride_w == 2 ? RN_DCONV_KERNEL(f32_dconv_7x64s2__avx512f)
                           : RN_DCONV_KERNEL(f32_dconv_7x64__avx512f);
  return stride_w == 1 ? RN_DCONV_KERNEL(f32_dconv_14x32s1__avx512f)
         : stride_w == 2 ? RN_DCONV_KERNEL(f32_dconv_14x32s2__avx512f)
                         : RN_DCONV_KERNEL(f32_dconv_14x32__avx512f);
}

std::atomic<bool> g_dconv_enabled{true};  // tests and benchmarks only

// What a thread's weight steps and padded block may fill of its core's L2
// before a tile stops fetching the next step ahead (3/4; 2 MB if unknown).
double fetch_ahead_budget_bytes() {
  const size_t l2 = cpu_features().l2_bytes;
  return 0.75 * double(l2 ? l2 : size_t(2) << 20);
}

// Padded rows [r0, r0 + rows) of every channel of one image xb, channel after
// channel, wp floats per row, zeros where the rows and columns are padding.
void pad_rows(const Conv2dShape& s, const float* xb, int64_t r0, int64_t rows, size_t wp,
              float* dst) {
  for (int64_t c = 0; c < s.c_in; ++c) {
    for (int64_t r = 0; r < rows; ++r, dst += wp) {
      const int64_t iy = r0 + r - s.pad_top;
      if (iy < 0 || iy >= s.h) {
        std::memset(dst, 0, wp * sizeof(float));
        continue;
      }
      std::memset(dst, 0, size_t(s.pad_left) * sizeof(float));
      std::memcpy(dst + s.pad_left, xb + (c * s.h + iy) * s.w, size_t(s.w) * sizeof(float));
      std::memset(dst + s.pad_left + s.w, 0, size_t(s.pad_right) * sizeof(float));
    }
  }
}

// Tiling and padded-block sizes of one convolution (see conv2d_dconv).
struct DconvGeom {
  size_t hp, wp, out_plane;
  bool narrow;  // rows of at most 7 pixels: 7-pixel x 64-channel tiles
  // Output rows per tile row: 2 for rows of exactly 7 pixels, whose tiles
  // are two 2 x 7 x 32 kernel calls (or, for a last odd row, one 7 x 64).
  int64_t tile_rows;
  int64_t tile_pixels, tiles_x, tiles_y;
  size_t tiles_per_item;
  size_t slack;         // floats past a block's last channel that dropped pixels may read
  int64_t tyb;          // tile rows per block
  int64_t ipb;          // whole images per block (> 1 only for batches of small images)
  size_t block_floats;  // the largest padded block
  double max_offset;    // the largest tap offset, in floats
  bool fits;            // the direct kernel takes this shape

  explicit DconvGeom(const Conv2dShape& s) {
    hp = size_t(s.h + s.pad_top + s.pad_bottom);
    wp = size_t(s.w + s.pad_left + s.pad_right);
    out_plane = size_t(s.out_h * s.out_w);
    narrow = s.out_w <= kNarrow;
    tile_pixels = narrow ? kNarrow : kPixels;
    tile_rows = s.out_w == kNarrow && s.out_h > 1 ? 2 : 1;
    tiles_x = (s.out_w + tile_pixels - 1) / tile_pixels;
    tiles_y = (s.out_h + tile_rows - 1) / tile_rows;
    tiles_per_item = size_t(tiles_x * tiles_y);
    // Dropped pixels (a partial tile's tail) read up to this column: past the
    // end of a padded row, into the next one or, for the block's last row, the slack.
    const int64_t last_col = (tiles_x * tile_pixels - 1) * s.stride_w + (s.kw - 1) * s.dil_w;
    slack = round_up(size_t(std::max<int64_t>(0, last_col + 1 - int64_t(wp))) + 16, size_t(16));
    // Tile rows per block: about kBlockFloats of padded input.
    const double row_floats = double(s.c_in) * double(wp) * double(s.stride_h * tile_rows);
    tyb = std::max<int64_t>(1, int64_t(std::min(double(kBlockFloats) / row_floats, 1e9)));
    const int64_t max_rows = (tyb * tile_rows - 1) * s.stride_h + (s.kh - 1) * s.dil_h + 1;
    block_floats = size_t(s.c_in) * size_t(max_rows) * wp + slack;
    // Small images of a batch share a block, so that each step of weights
    // (one or two 32-channel panels) is reused over all of the block's images
    // before the next, instead of streaming every weight once per image
    // (3x3 512@7 at batch 2-8: 1.11-1.17x; a 4 MB block from L3 instead of
    // L2 was 0.74x on 3x3/2 256@28 at batch 8).
    const size_t image_floats = size_t(s.c_in) * hp * wp;
    ipb = 1;
    if (s.n > 1 && tyb >= tiles_y) {
      ipb = std::min<int64_t>(s.n, std::max<int64_t>(1, int64_t(kBlockFloats / image_floats)));
      if (ipb > 1) block_floats = std::max(block_floats, size_t(ipb) * image_floats + slack);
    }
    max_offset = double((s.kh - 1) * s.dil_h) * double(wp) + double((s.kw - 1) * s.dil_w) +
                 double(max_rows) * double(wp);
    // Offsets are int32, and a padded block should not dwarf the input (huge
    // pads with huge strides): such shapes run the GEMM panels instead.
    const double input = double(s.c_in) * double(s.h) * double(s.w);
    fits = max_offset < double(INT32_MAX) && double(block_floats) < double(INT32_MAX) &&
           double(block_floats) <= 4.0 * input + double(1 << 20);
  }
};

}  // namespace

void dconv_enable_for_tests(bool on) { g_dconv_enabled.store(on); }

bool dconv_packable(Isa isa, int64_t c_out, int64_t kh, int64_t kw, int64_t groups) {
  // Panels of 32 channels: at most a quarter of the lanes idle (c_out 32, 52+, 64, ...).
  const bool fills_panels = c_out >= 32 && round_up(size_t(c_out), kPanel) * 4 <= size_t(c_out) * 5;
  return g_dconv_enabled.load(std::memory_order_relaxed) && RN_ARCH_X86_64 && isa == Isa::avx512 && groups == 1 &&
         kh * kw > 1 && fills_panels;
}

bool dconv_fits(const Conv2dShape& s) { return DconvGeom(s).fits; }

const char* conv2d_dconv_kernel(const Conv2dShape& s, const PackedConv&) {
  const DconvGeom g(s);
  RN_CHECK(g.fits);
  return (g.tile_rows == 2 ? pick_two_row_kernel(s.stride_w) : pick_kernel(g.narrow, s.stride_w)).name;
}

void conv2d_dconv(const Conv2dShape& s, const PackedConv& w, const float* x,
                  const float* residual, Clamp act, float* y, int threads, bool y_nhwc) {
  RN_CHECK(w.dconv && s.groups == 1);
  const DconvGeom g(s);
  RN_CHECK(g.fits);
  const size_t hp = g.hp, wp = g.wp, out_plane = g.out_plane, tiles_per_item = g.tiles_per_item;
  const bool narrow = g.narrow;
  const size_t step = narrow ? 2 * kPanel : kPanel;  // output channels per tile
  const int64_t tiles_x = g.tiles_x, tiles_y = g.tiles_y, tyb = g.tyb, ipb = g.ipb;
  const size_t slack = g.slack, block_floats = g.block_floats;
  const size_t M = size_t(s.c_out), K = size_t(w.k_per_group), taps = size_t(s.kh * s.kw);

  int32_t tap_offset[64];
  std::vector<int32_t> tap_heap;
  int32_t* offs = tap_offset;
  if (taps > 64) {
    tap_heap.resize(taps);
    offs = tap_heap.data();
  }
  for (int64_t ky = 0; ky < s.kh; ++ky)
    for (int64_t kx = 0; kx < s.kw; ++kx)
      offs[ky * s.kw + kx] = int32_t(size_t(ky * s.dil_h) * wp + size_t(kx * s.dil_w));

  const double flops = 2.0 * double(s.n) * double(M) * double(K) * double(out_plane);
  const int t = threads_for_work(flops, threads);
  const size_t panels = div_up(M, kPanel), q_total = size_t(s.n) * tiles_per_item;
  const SplitPlan split = plan_split(1, panels, q_total, double(M) * double(K),
                                     double(size_t(s.n) * size_t(s.c_in) * hp * wp), flops, t);
  const float* bias = w.bias_or_null();
  const float* wts = w.group_panels(0);
  const f32_dconv_ukernel_fn uk = pick_kernel(narrow, s.stride_w).fn;
  const f32_dconv_ukernel_fn uk_two_row = pick_two_row_kernel(s.stride_w).fn;
  RN_CHECK(uk && uk_two_row);
  const int64_t tile_rows = g.tile_rows;
  // Each task pads the input rows of its own blocks into its thread's scratch:
  // a shared padded copy, written half by each core, was measured 15% slower
  // on stride-2 shapes (half of every read crossed cores).
  // A row split over one image in one block: a task per tile's channel step
  // (32 or 64), pulled by whichever thread is free, instead of one fixed chunk
  // per thread (on a shared machine a stalled core then costs one step, not
  // half the layer).
  // Each thread pads the block once per call and keeps it for its next tasks.
  const bool per_panel = split.mc > 1 && split.nc == 1 && s.n == 1 && tyb >= tiles_y;
  // Whether tiles fetch a later weight step ahead (see the loop below).
  const bool fetch_ahead =
      4.0 * (2.0 * double(K * step) + double(block_floats)) <= fetch_ahead_budget_bytes();
  static std::atomic<uint64_t> calls{0};
  const uint64_t call = calls.fetch_add(1, std::memory_order_relaxed) + 1;
  parallel_for(per_panel ? div_up(M, step) : split.mc * split.nc, t, [&](size_t task) {
    size_t m0, m1, q0 = 0, q1 = q_total;
    if (per_panel) {
      m0 = task * step;
      m1 = std::min(M, m0 + step);
    } else {
      chunk_range(task / split.nc, split.mc, panels, kPanel, M, &m0, &m1);
      chunk_range(task % split.nc, split.nc, q_total, 1, q_total, &q0, &q1);
    }
    thread_local uint64_t padded_call = 0;  // the call whose block this thread's scratch holds
    const bool have_block = per_panel && padded_call == call;
    padded_call = per_panel ? call : 0;
    float* xp = thread_scratch(0, block_floats);
    DconvTile tile;
    tile.stride_w = size_t(s.stride_w);
    tile.tap_offset = offs;
    tile.ld = y_nhwc ? M : out_plane;  // y's stride between channels (NCHW) or pixels (NHWC)
    tile.nhwc = y_nhwc;
    tile.act = act;
    for (size_t qs = q0; qs < q1;) {
      // The block holding tile qs: images [b, b + ipb) whole, or tile rows
      // [ty0, ty1) of image b.
      const size_t b = qs / tiles_per_item;
      size_t qe;
      int64_t r0, rows;
      if (ipb > 1) {
        qe = std::min(q1, std::min(b + size_t(ipb), size_t(s.n)) * tiles_per_item);
        r0 = 0;
        rows = int64_t(hp);
      } else {
        const int64_t ty_first = int64_t(qs % tiles_per_item) / tiles_x;
        const int64_t ty0 = ty_first / tyb * tyb, ty1 = std::min(tiles_y, ty0 + tyb);
        qe = std::min(q1, b * tiles_per_item + size_t(ty1 * tiles_x));
        const int64_t ty_last = int64_t((qe - 1) % tiles_per_item) / tiles_x;
        // Padded-input rows [r0, r0 + rows) cover tile rows [ty_first, ty_last].
        const int64_t oy_last = std::min(s.out_h - 1, ty_last * tile_rows + tile_rows - 1);
        r0 = ty_first * tile_rows * s.stride_h;
        rows = oy_last * s.stride_h + (s.kh - 1) * s.dil_h + 1 - r0;
      }
      const size_t cs = size_t(rows) * wp, per_image = size_t(s.c_in) * cs;
      const size_t b_last = (qe - 1) / tiles_per_item;
      if (!have_block)
        for (size_t j = b; j <= b_last; ++j)
          pad_rows(s, x + j * size_t(s.c_in * s.h * s.w), r0, rows, wp, xp + (j - b) * per_image);
      std::memset(xp + (b_last + 1 - b) * per_image, 0, slack * sizeof(float));
      tile.channel_stride = cs;
      tile.row_stride = size_t(s.stride_h) * wp;
      // Each tile fetches its share of a later weight step into this core's L2:
      // the task's next step or, with a task per step, the one t steps on, which
      // this thread most likely runs next as the tasks alternate between the
      // threads (fetching the very next step, which the other core usually
      // runs, measured 0.99-1.09x, mostly 1.02-1.03x, slower with weights from
      // memory: 3x3 512@7, 256@14 and 3x3/2 512@14 at batch 1). Only while
      // two steps and the block fit in L2 with room to spare (fetch_ahead):
      // otherwise the fetched step evicts the current one, which every tile re-reads
      // (3x3/2 512@14, 2.9 MB: 1.04-1.09x faster without; 512@7, 2.5 MB: even;
      // 256@14, 0.9 MB: 1.04-1.05x faster with).
      const size_t m_end = per_panel ? M : m1;
      const size_t ahead = per_panel ? size_t(t) : 1;
      const size_t ppc = round_up(div_up(taps * step, qe - qs), size_t(16));
      for (size_t m = m0; m < m1; m += step) {
        const float* wm = wts + (m / kPanel) * K * kPanel;
        tile.rows = int(std::min(step, m1 - m));
        tile.panel_stride = narrow && m + kPanel < m1 ? K * kPanel : 0;
        tile.bias = bias ? bias + m : nullptr;
        tile.prefetch_per_channel = ppc;
        for (size_t q = qs; q < qe; ++q) {
          const size_t pf = (q - qs) * size_t(s.c_in) * ppc;
          const bool fetch = fetch_ahead && m + ahead * step < m_end && pf < K * step;
          tile.prefetch = fetch ? wm + ahead * K * step + pf : nullptr;
          const size_t j = q / tiles_per_item;
          const int64_t r = int64_t(q % tiles_per_item), ty = r / tiles_x, tx = r % tiles_x;
          const int64_t oy = ty * tile_rows, ox = tx * g.tile_pixels;
          tile.pixels = int(std::min<int64_t>(g.tile_pixels, s.out_w - ox));
          tile.x = xp + (j - b) * per_image + size_t(oy * s.stride_h - r0) * wp +
                   size_t(ox * s.stride_w);
          const size_t pixel = size_t(oy * s.out_w + ox);
          const size_t out_off = y_nhwc ? (j * out_plane + pixel) * M + m : (j * M + m) * out_plane + pixel;
          tile.y = y + out_off;
          tile.residual = residual ? residual + out_off : nullptr;
          if (tile_rows == 1 || oy + 1 == s.out_h) {
            uk(size_t(s.c_in), taps, wm, tile);
            continue;
          }
          // Two rows of 7: each weight vector serves 14 pixels, not 7, so a
          // step's weights are read from L2 half as often.
          DconvTile half = tile;
          half.pixels = 2 * kNarrow;
          half.panel_stride = 0;
          for (size_t h = 0; h < step && m + h < m1; h += kPanel) {
            half.rows = int(std::min(kPanel, m1 - m - h));
            half.bias = tile.bias ? tile.bias + h : nullptr;
            const size_t channel_offset = y_nhwc ? h : h * out_plane;
            half.y = tile.y + channel_offset;
            half.residual = tile.residual ? tile.residual + channel_offset : nullptr;
            half.prefetch = h == 0 ? tile.prefetch : nullptr;
            uk_two_row(size_t(s.c_in), taps, wm + h * K, half);
          }
        }
      }
      qs = qe;
    }
  });
}

}  // namespace resnode::cpu
