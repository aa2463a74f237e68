// u8 activations x s8 weights -> int32 sums -> requantised u8 (the int8 conv/gemm core), as
// ONNX Runtime's QLinearConv computes it: c = clamp(round_half_even(float(acc) * multiplier[n])
// + zero_point, qmin, qmax) with acc = bias[n] + sum_k a[m][k] * w[n][k] exact in int32 and the
// input zero point folded into the bias at pack time (bias - z_a * sum_k w[n][k]).
//
// Packed weights, fixed at pack time for one ISA (qu8s8_pack.cc): blocks of 16 output
// channels; in each, for every group of 4 k (zero-padded past k), 16 x 4 bytes (channel-major
// within the group: the 4 bytes one vpdpbusd lane takes). Where the ISA has an indirect kernel
// and k (or a conv's channel count) is a multiple of 4, the kernel reads A's rows in place through
// row pointers; otherwise the driver copies each tile of MR rows of A into a panel
// [ceil(k/4)][MR][4] (zero-padded past k and past the last row), read with one pointer, in order. Micro-kernels (one per file) compute
// mr <= MR rows by nc <= NR channels of NR / 16 consecutive blocks (the pack pads the block count
// to a multiple of NR / 16).
#pragma once
#include <cstdint>
#include <vector>

#include "../eltwise/elementwise.h"
#include "../ops.h"

namespace resnode::cpu {

constexpr int64_t kQu8s8Nr = 16;  // output channels per packed block

struct Qu8Requant {
  int32_t zero_point = 0, qmin = 0, qmax = 255;
};

// c[i][j] for i < mr, j < nc: requant(bias[j] + sum_{k < kc} a(i, k) * w(k, j)), with a the
// tile's panel, w the first block's packed groups, multipliers[j] the per-channel multipliers.
using Qu8s8GemmUkernel = void (*)(int64_t mr, int64_t nc, int64_t kc, const uint8_t* a,
                                  const int8_t* w, const int32_t* bias, const float* multipliers,
                                  uint8_t* c, int64_t c_stride, const Qu8Requant& r);

// The indirect form (igemm): c[i][j] for i < mr, j < nc: requant(bias[j] + sum over taps s < ks and
// channels q < kc of a[s * MR + i][q] * w(s * kc + q, j)), with a the tile's indirection buffer
// [ks][MR] of row pointers (rows past mr point anywhere readable: their sums are not stored) and
// kc a multiple of 4, so each tap is whole groups of the packed weights.
using Qu8s8IgemmUkernel = void (*)(int64_t mr, int64_t nc, int64_t kc, int64_t ks, const uint8_t* const* a,
                                   const int8_t* w, const int32_t* bias, const float* multipliers,
                                   uint8_t* c, int64_t c_stride, const Qu8Requant& r);

// The micro-kernels, one per file (same signature as Qu8s8GemmUkernel, Qu8s8IgemmUkernel).
#define RN_QU8S8_GEMM_UKERNEL(name)                                                           \
  void name(int64_t mr, int64_t nc, int64_t kc, const uint8_t* a, const int8_t* w,           \
            const int32_t* bias, const float* multipliers, uint8_t* c, int64_t c_stride,      \
            const Qu8Requant& r);
RN_QU8S8_GEMM_UKERNEL(qu8s8_gemm_12x32c4__avx512vnni)
RN_QU8S8_GEMM_UKERNEL(qu8s8_gemm_2x16c4__avx2)
RN_QU8S8_GEMM_UKERNEL(qu8s8_gemm_4x16c4__scalar)
#undef RN_QU8S8_GEMM_UKERNEL
void qu8s8_igemm_12x32c4__avx512vnni(int64_t mr, int64_t nc, int64_t kc, int64_t ks, const uint8_t* const* a,
                                     const int8_t* w, const int32_t* bias, const float* multipliers,
                                     uint8_t* c, int64_t c_stride, const Qu8Requant& r);

// One row of the per-ISA table: the micro-kernel, its rows and channels per call and its name,
// and the indirect kernel of the same tile where the ISA has one (else null: convs gather panels).
struct Qu8s8GemmConfig {
  Qu8s8GemmUkernel ukernel;
  int64_t mr, nr;
  const char* name;
  Qu8s8IgemmUkernel igemm = nullptr;
  const char* igemm_name = nullptr;
};
// The kernel for `isa` (AVX-512 with VNNI, AVX2, or scalar); `vnni` whether the CPU has it.
Qu8s8GemmConfig qu8s8_gemm_config(Isa isa, bool vnni);

struct Qu8s8Packed {
  int64_t n = 0, k = 0;
  std::vector<int8_t> w;          // [blocks][ceil(k/4)][16][4], blocks = ceil(n/nr) * nr/16
  std::vector<int32_t> bias;      // [blocks * 16], input zero point folded in
  std::vector<float> multipliers; // [blocks * 16]
  Qu8Requant requant;
  Qu8s8GemmConfig config;
};

// w: [n][k] int8 weights (zero point 0, as ORT requires of s8 weights); bias: [n] int32 or
// null; multipliers: [n] (scale_a * scale_w[n] / scale_c, as ORT forms them).
Qu8s8Packed qu8s8_pack(const int8_t* w, const int32_t* bias, const float* multipliers, int64_t n,
                       int64_t k, int32_t a_zero_point, const Qu8Requant& requant,
                       const Qu8s8GemmConfig& config);

// A residual QLinearAdd fused into the GEMM's epilogue: each finished tile t (the requantised
// bytes, in L1) becomes kernel(t, r, ...) (conv_is_a) or kernel(r, t, ...) with r the same rows and
// channels of the residual bytes [m][n] (row stride r_stride): the separate add step's arithmetic,
// operand order kept. c may be r itself (each tile reads its residual before writing over it).
struct Qu8TileAdd {
  const uint8_t* r = nullptr;
  int64_t r_stride = 0;
  bool conv_is_a = true;
  QLinearAdd p;
  Qu8QLinearAddKernel kernel = nullptr;
};

// c[m][n] (row stride c_stride) from a[m][k] (row stride a_stride) on `threads` threads.
// Whether qu8s8_gemm reads the rows of A in place (the indirect kernel) rather than through panels.
bool qu8s8_gemm_reads_in_place(const Qu8s8Packed& p);

void qu8s8_gemm(const Qu8s8Packed& p, int64_t m, const uint8_t* a, int64_t a_stride, uint8_t* c,
                int64_t c_stride, int threads, const Qu8TileAdd* add = nullptr);

}  // namespace resnode::cpu
