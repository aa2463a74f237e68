// The qu8s8 GEMM driver, shared by the plain GEMM (rows of A in memory) and the K x K conv (rows
// gathered from the input pixels): tiles of MR rows by up to kBlocksPerTask channel blocks on the
// thread pool. Each task's A operand is a scratch the caller fills once per tile and the
// micro-kernel then reads for every block: `fill(scratch, i, rows)` for rows [i, i + rows) of A
// (the driver has zeroed it), `compute(scratch, rows, j, out, out_stride)` for the channels from j
// of one call. qu8s8_gemm_tiles makes it a panel [ceil(k/4)][MR][4] (padding past k and past the
// rows reads 0); qu8s8_igemm_tiles an indirection buffer [ks][MR] of row pointers.
// With `add`, the micro-kernel stores each tile into thread-local bytes and the fused residual add
// (Qu8TileAdd) writes c from them.
#pragma once
#include <algorithm>
#include <cstring>
#include <vector>

#include "../common.h"
#include "../threadpool.h"
#include "qu8s8_gemm.h"

namespace resnode::cpu {

template <class Fill, class Compute>
void qu8s8_tiles(const Qu8s8Packed& p, int64_t m, size_t scratch_bytes, const Fill& fill, const Compute& compute, uint8_t* c,
                 int64_t c_stride, int threads, const Qu8TileAdd* add) {
  const int64_t mr = p.config.mr, nr = p.config.nr;
  const int64_t mtiles = (m + mr - 1) / mr, blocks = (p.n + nr - 1) / nr;
  // A task: one tile of rows by up to kBlocksPerTask channel blocks. Its panel is filled once and
  // reused across those blocks from L1; several chunks per tile keep both threads busy when m is
  // small (ResNet's last stage has 49 rows: 5 tiles).
  constexpr int64_t kBlocksPerTask = 4;
  const int64_t chunks = (blocks + kBlocksPerTask - 1) / kBlocksPerTask;
  const int t = threads_for_work(2.0 * double(m) * double(p.n) * double(p.k), threads);
  // Rows [i, i + rows) of the tile whose panel is filled, by the chunk of blocks from b0.
  auto run = [&](const uint8_t* scratch, int64_t i, int64_t rows, int64_t b0) {
    const int64_t b1 = std::min(blocks, b0 + kBlocksPerTask), j0 = b0 * nr, width = std::min(p.n, b1 * nr) - j0;
    thread_local std::vector<uint8_t> tile_buf;
    if (add) tile_buf.resize(size_t(mr * kBlocksPerTask * nr));
    const int64_t out_stride = add ? width : c_stride;
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t j = b * nr;
      uint8_t* out = add ? tile_buf.data() + (j - j0) : c + i * c_stride + j;
      compute(scratch, rows, j, out, out_stride);
    }
    if (!add) return;
    for (int64_t r = 0; r < rows; ++r) {
      const uint8_t* tb = tile_buf.data() + r * width;
      const uint8_t* res = add->r + (i + r) * add->r_stride + j0;
      add->kernel(add->conv_is_a ? tb : res, add->conv_is_a ? res : tb, width, add->p, c + (i + r) * c_stride + j0);
    }
  };
  // Few tiles and several chunks (ResNet's 7x7 stage: 5 tiles at batch 1, K up to 4608): fill every
  // tile's scratch once, then go chunk by chunk, so that each chunk's weights are streamed once and reused from
  // L2 by every tile, instead of streamed once per tile.
  constexpr int64_t kPrefillTiles = 16;
  if (mtiles <= kPrefillTiles && chunks > 1 && mtiles > 1) {
    std::vector<uint8_t> scratches(size_t(mtiles) * scratch_bytes, 0);
    parallel_for(size_t(mtiles), t, [&](size_t tile) {
      const int64_t i = int64_t(tile) * mr;
      fill(scratches.data() + tile * scratch_bytes, i, std::min(mr, m - i));
    });
    parallel_for(size_t(mtiles * chunks), t, [&](size_t task) {
      const int64_t tile = int64_t(task) % mtiles, i = tile * mr;
      run(scratches.data() + size_t(tile) * scratch_bytes, i, std::min(mr, m - i), int64_t(task) / mtiles * kBlocksPerTask);
    });
    return;
  }
  // A task takes `group` consecutive tiles (by one chunk) when one tile's work is small (a 1x1
  // conv with k = 64: about half a microsecond), so that handing out tasks does not cost as much
  // as the work (measured: such a conv ran no faster on 2 threads than on 1), while leaving at
  // least kTasksPerThread tasks per thread to balance.
  constexpr double kTaskMacs = 2e6;
  constexpr int64_t kTasksPerThread = 8;
  const double tile_macs = double(mr) * double(std::min(p.n, kBlocksPerTask * nr)) * double(p.k);
  const int64_t group = std::max<int64_t>(1, std::min<int64_t>(int64_t(kTaskMacs / tile_macs), mtiles / (kTasksPerThread * t)));
  const int64_t groups = (mtiles + group - 1) / group;
  parallel_for(size_t(groups * chunks), t, [&](size_t task) {
    const int64_t g = int64_t(task) / chunks, b0 = int64_t(task) % chunks * kBlocksPerTask;
    uint8_t* scratch = reinterpret_cast<uint8_t*>(thread_scratch(2, (scratch_bytes + 3) / 4));
    for (int64_t tile = g * group; tile < std::min(mtiles, (g + 1) * group); ++tile) {
      const int64_t i = tile * mr, rows = std::min(mr, m - i);
      std::memset(scratch, 0, scratch_bytes);
      fill(scratch, i, rows);
      run(scratch, i, rows, b0);
    }
  });
}

// The panel form: fill(panel, i, rows) writes rows [i, i + rows) into [ceil(k/4)][MR][4].
template <class FillPanel>
void qu8s8_gemm_tiles(const Qu8s8Packed& p, int64_t m, const FillPanel& fill, uint8_t* c, int64_t c_stride, int threads,
                      const Qu8TileAdd* add = nullptr) {
  const int64_t groups = (p.k + 3) / 4;
  qu8s8_tiles(p, m, size_t(groups * p.config.mr * 4), fill, [&](const uint8_t* panel, int64_t rows, int64_t j, uint8_t* out, int64_t out_stride) {
    p.config.ukernel(rows, std::min(p.config.nr, p.n - j), p.k, panel, p.w.data() + j * groups * 4, p.bias.data() + j,
                     p.multipliers.data() + j, out, out_stride, p.requant);
  }, c, c_stride, threads, add);
}

// The indirect form (p.config.igemm, k = ks * kc with kc a multiple of 4): fill(ptrs, i, rows)
// writes the tile's [ks][MR] row pointers, each to kc bytes, for rows [i, i + rows) and some
// readable row past them.
template <class FillPointers>
void qu8s8_igemm_tiles(const Qu8s8Packed& p, int64_t m, int64_t ks, const FillPointers& fill, uint8_t* c, int64_t c_stride,
                       int threads, const Qu8TileAdd* add = nullptr) {
  const int64_t kc = p.k / ks, groups = p.k / 4;
  RN_CHECK(p.config.igemm && ks * kc == p.k && kc % 4 == 0);
  using Rows = const uint8_t*;
  qu8s8_tiles(p, m, size_t(ks * p.config.mr) * sizeof(Rows), [&](uint8_t* scratch, int64_t i, int64_t rows) {
    fill(reinterpret_cast<Rows*>(scratch), i, rows);
  }, [&](const uint8_t* scratch, int64_t rows, int64_t j, uint8_t* out, int64_t out_stride) {
    p.config.igemm(rows, std::min(p.config.nr, p.n - j), kc, ks, reinterpret_cast<const Rows*>(scratch), p.w.data() + j * groups * 4,
                   p.bias.data() + j, p.multipliers.data() + j, out, out_stride, p.requant);
  }, c, c_stride, threads, add);
}

// Copies `bytes` bytes of one row of A, starting at k offset k0 (a multiple of 4), into row r
// of an mr-row panel: one 32-bit move per group of 4.
inline void qu8s8_panel_row(uint8_t* panel, int64_t mr, int64_t r, int64_t k0, const uint8_t* src, int64_t bytes) {
  const int64_t full = bytes / 4;
  uint8_t* dst = panel + ((k0 / 4) * mr + r) * 4;
  for (int64_t g = 0; g < full; ++g) std::memcpy(dst + g * mr * 4, src + g * 4, 4);
  if (bytes % 4) std::memcpy(dst + full * mr * 4, src + full * 4, size_t(bytes % 4));
}

}  // namespace resnode::cpu
