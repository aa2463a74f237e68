// Tiling and index math for the implicit-GEMM convolution, shared by the
// kernels (device) and the host tests. Nothing here touches CUDA APIs.
//
// The convolution as a GEMM, per group g:
//   C[m, n] = sum_k A[m, k] * B[k, n]
//   m = output channel within the group (M = c_out / groups)
//   n = (image b, output pixel p) folded (N = batch * out_h * out_w)
//   k = (input channel ci within the group, kernel row r, kernel col s)
//       (K = c_in_per_group * kh * kw), the same order as the weight tensor.
//   A = weights [M, K] (row-major in the ONNX weight), packed once as A^T
//       [Kpad][Mpad] (m contiguous) so tile loads are aligned float4s.
//   B = the implicit im2col of x: B[k, n] = x[b, g*cin_g + ci, ih, iw] with
//       ih = oh*sh - pad_top + r*dh, iw = ow*sw - pad_left + s*dw (0 outside).
// 1x1 stride-1 unpadded convolutions read B directly: B[k, n] = x[b, k, p].
#pragma once
#include "common.cuh"

namespace resnode::cuda {

constexpr int kPackMAlign = 128;  // Mpad multiple (largest BM)
constexpr int kPackKAlign = 16;   // Kpad multiple (BK)

// One k entry of the per-weight k table, computed at pack time:
// ci = input channel within the group, rs = r << 16 | s (kernel row and col).
struct KEntry {
  int32_t ci;
  int32_t rs;
};

RN_HD KEntry make_kentry(int64_t k, int64_t kh, int64_t kw) {
  const int64_t khw = kh * kw;
  const int64_t ci = k / khw;
  const int64_t rem = k - ci * khw;
  const int64_t r = rem / kw;
  const int64_t s = rem - r * kw;
  return KEntry{static_cast<int32_t>(ci), static_cast<int32_t>((r << 16) | s)};
}

// The geometry every conv kernel receives (by value, as a kernel argument).
struct ConvGeom {
  int32_t M, N, K;         // GEMM sizes per group
  int32_t Kpad, Mpad;      // packed weight strides
  int32_t groups;
  int32_t c_in, h, w;      // input (c_in over all groups)
  int32_t c_out, oh, ow;   // output (c_out over all groups)
  int32_t ohw, hw;
  int32_t cin_g;
  int32_t sh, sw, pad_t, pad_l;
  int32_t dh, dw;
};

// Per-column (n) state of the B gather: the image base offset and the top-left
// input coordinate of output pixel n. valid=false when n >= N.
struct BColumn {
  int64_t base;  // offset of x[b, g*cin_g, 0, 0]
  int32_t ih0, iw0, p;
  bool valid;
};

RN_HD BColumn b_column(const ConvGeom& g, int group, int64_t n) {
  BColumn c{0, 0, 0, 0, false};
  if (n >= g.N) return c;
  const int32_t n32 = static_cast<int32_t>(n);
  const int32_t b = n32 / g.ohw;
  const int32_t p = n32 - b * g.ohw;
  const int32_t oh = p / g.ow;
  const int32_t ow = p - oh * g.ow;
  c.base = (static_cast<int64_t>(b) * g.c_in + static_cast<int64_t>(group) * g.cin_g) * g.hw;
  c.ih0 = oh * g.sh - g.pad_t;
  c.iw0 = ow * g.sw - g.pad_l;
  c.p = p;
  c.valid = true;
  return c;
}

// Offset into x of B[k, n] for the general path, or -1 when the tap falls in
// the padding (the value is then 0).
RN_HD int64_t b_offset(const ConvGeom& g, const BColumn& c, KEntry e) {
  const int32_t ih = c.ih0 + (e.rs >> 16) * g.dh;
  const int32_t iw = c.iw0 + (e.rs & 0xffff) * g.dw;
  if (ih < 0 || ih >= g.h || iw < 0 || iw >= g.w) return -1;
  return c.base + static_cast<int64_t>(e.ci) * g.hw + ih * g.w + iw;
}

// Offset of B[k, n] for 1x1, stride 1, no padding (x read directly as a GEMM).
RN_HD int64_t b_offset_1x1(const ConvGeom& g, const BColumn& c, int32_t k) {
  return c.base + static_cast<int64_t>(k) * g.hw + c.p;
}

// ---- Block tile configuration -------------------------------------------------
// BM x BN outputs per block, BK deep k slices, double-buffered in shared memory.
// Shared tiles are k-major: As[BK][BM + kSmemPad], Bs[BK][BN + kSmemPad]; the
// pad makes the row stride = 8 (mod 32) words so mma fragment reads hit 32
// distinct banks.
constexpr int kSmemPad = 8;

template <int BM_, int BN_, int BK_, int THREADS_>
struct TileLoad {
  static constexpr int BM = BM_, BN = BN_, BK = BK_, THREADS = THREADS_;
  static constexpr int AS = BM + kSmemPad;  // As row stride (floats)
  static constexpr int BS = BN + kSmemPad;  // Bs row stride
  // A: float4 along m. Thread t loads A_VEC float4s.
  static constexpr int A_VEC = BK * BM / 4 / THREADS;
  static_assert(A_VEC * THREADS * 4 == BK * BM, "A tile must split evenly");
  static_assert(THREADS % (BM / 4) == 0, "threads must cover whole A rows");
  // B: scalars along n. Thread t loads B_ELEMS scalars, all in column n = t % BN.
  static constexpr int B_ELEMS = BK * BN / THREADS;
  static_assert(B_ELEMS * THREADS == BK * BN, "B tile must split evenly");
  static_assert(THREADS % BN == 0, "threads must cover whole B rows");

  // i-th float4 of thread t: (k row, first m) in the tile.
  RN_HD static int a_k(int t, int i) { return t / (BM / 4) + i * (THREADS / (BM / 4)); }
  RN_HD static int a_m(int t) { return (t % (BM / 4)) * 4; }
  // i-th scalar of thread t: (k row, n) in the tile.
  RN_HD static int b_k(int t, int i) { return t / BN + i * (THREADS / BN); }
  RN_HD static int b_n(int t) { return t % BN; }
};

// ---- Tensor-core (mma.sync.m16n8k8 TF32) warp tiling ------------------------
// Fragment coordinates, from the PTX ISA for m16n8k8 .tf32 (row.col):
//   gid = lane >> 2, tig = lane & 3
//   A (16x8):  a[r] = A[gid + 8*(r&1)][tig + 4*(r>>1)], r = 0..3
//   B (8x8):   b[r] = B[tig + 4*r][gid],                 r = 0..1
//   C (16x8):  c[r] = C[gid + 8*(r>>1)][2*tig + (r&1)],   r = 0..3
RN_HD int mma_a_row(int lane, int r) { return (lane >> 2) + 8 * (r & 1); }
RN_HD int mma_a_col(int lane, int r) { return (lane & 3) + 4 * (r >> 1); }
RN_HD int mma_b_row(int lane, int r) { return (lane & 3) + 4 * r; }
RN_HD int mma_b_col(int lane, int /*r*/) { return lane >> 2; }
RN_HD int mma_c_row(int lane, int r) { return (lane >> 2) + 8 * (r >> 1); }
RN_HD int mma_c_col(int lane, int r) { return 2 * (lane & 3) + (r & 1); }

template <int BM_, int BN_, int WARPS_M_, int WARPS_N_>
struct MmaTiling {
  static constexpr int BM = BM_, BN = BN_, WARPS_M = WARPS_M_, WARPS_N = WARPS_N_;
  static constexpr int THREADS = 32 * WARPS_M * WARPS_N;
  static constexpr int WTM = BM / WARPS_M;  // warp tile rows
  static constexpr int WTN = BN / WARPS_N;  // warp tile cols
  static constexpr int MI = WTM / 16;       // m16 tiles per warp
  static constexpr int NI = WTN / 8;        // n8 tiles per warp
  static_assert(MI * 16 == WTM && NI * 8 == WTN, "warp tile must be a multiple of 16x8");
  RN_HD static int warp_m0(int warp) { return (warp / WARPS_N) * WTM; }
  RN_HD static int warp_n0(int warp) { return (warp % WARPS_N) * WTN; }
  // Block-tile coordinates of accumulator acc[mi][ni][r] of thread t.
  RN_HD static int acc_m(int t, int mi, int r) {
    return warp_m0(t >> 5) + mi * 16 + mma_c_row(t & 31, r);
  }
  RN_HD static int acc_n(int t, int ni, int r) {
    return warp_n0(t >> 5) + ni * 8 + mma_c_col(t & 31, r);
  }
};

// ---- Exact FP32 (SIMT) thread tiling ----------------------------------------
// Each thread owns TM x TN outputs, as TM/4 x TN/4 float4 chunks spread BM/(TM/4)
// apart so shared reads are float4 broadcasts.
template <int BM_, int BN_, int TM_, int TN_>
struct SimtTiling {
  static constexpr int BM = BM_, BN = BN_, TM = TM_, TN = TN_;
  static constexpr int TX = BN / TN, TY = BM / TM;
  static constexpr int THREADS = TX * TY;
  static constexpr int CM = TM / 4, CN = TN / 4;
  static_assert(TM % 4 == 0 && TN % 4 == 0, "micro-tile must be float4 chunks");
  RN_HD static int row(int t, int i) {  // i in [0, TM)
    return (t / TX) * 4 + (i & 3) + (i >> 2) * (BM / CM);
  }
  RN_HD static int col(int t, int j) {  // j in [0, TN)
    return (t % TX) * 4 + (j & 3) + (j >> 2) * (BN / CN);
  }
};

// ---- Pooling windows ---------------------------------------------------------
struct PoolGeom {
  int32_t n, c, h, w;
  int32_t kh, kw, sh, sw, dh, dw;
  int32_t pad_t, pad_l, pad_b, pad_r;
  int32_t oh, ow;
};

// Number of taps of a pooling window along one axis whose coordinate
// start + i*d lies in [lo, hi).
RN_HD int pool_taps(int start, int k, int d, int lo, int hi) {
  int n = 0;
  for (int i = 0; i < k; ++i) {
    const int x = start + i * d;
    n += (x >= lo && x < hi) ? 1 : 0;
  }
  return n;
}

// AveragePool divisor for output (oh, ow): taps inside the image, or with
// count_include_pad the taps inside the padded extent [-pad, size + pad_end).
RN_HD int avg_pool_divisor(const PoolGeom& g, int oh, int ow, bool count_include_pad) {
  const int h0 = oh * g.sh - g.pad_t, w0 = ow * g.sw - g.pad_l;
  if (count_include_pad) {
    return pool_taps(h0, g.kh, g.dh, -g.pad_t, g.h + g.pad_b) *
           pool_taps(w0, g.kw, g.dw, -g.pad_l, g.w + g.pad_r);
  }
  return pool_taps(h0, g.kh, g.dh, 0, g.h) * pool_taps(w0, g.kw, g.dw, 0, g.w);
}

// Round-to-nearest (ties away from zero) to TF32, as cvt.rna.tf32.f32 does.
RN_HD float round_tf32_host(float x) {
  union {
    float f;
    uint32_t u;
  } v{x};
  if ((v.u & 0x7f800000u) != 0x7f800000u) {  // finite
    v.u += 0x1000u;
    v.u &= 0xffffe000u;
  }
  return v.f;
}

}  // namespace resnode::cuda
