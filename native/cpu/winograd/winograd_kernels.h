// Internal: the three kernels of each Winograd variant (F(4x4,3x3) and
// F(2x2,3x3)), one table per ISA and variant. With E = (tile + 2)^2 elements
// per tile, layouts (all float32):
//   V block: tiles in groups of <= 14 (kGroup), one panel per (e, group):
//            V[e][q][c][16] (rows padded to one 64-byte line, kGroupLd),
//            e stride ld_e, group stride ld_q (= c_in * 16).
//   U panel: U[e][c][32], e stride ldu_e (one 32-wide output-channel panel).
//   M block: M[e][t][32] for the tiles of one GEMM call, e stride ldm_e.
#pragma once
#include <cstddef>
#include <cstdint>

namespace resnode::cpu {

struct WinoInputArgs {  // (tile + 2)^2-element tiles at stride `tile`
  const float* x;           // one image: [c_in][h][w]
  int64_t h, w, pad_top, pad_left;
  int64_t ty, tx0, nt;      // tile row, tiles [tx0, tx0 + nt) of it, nt <= 16
  int64_t c0, c1;           // input channels [c0, c1)
  float* v;                 // where (e=0, c=0, tile tx0) goes
  size_t ld_e, ld_c;
};
// Writes v[e * ld_e + c * ld_c + l] = (B^T d B)[e] of tile tx0 + l, l < nt, c in [c0, c1), e < E.
using wino_input_fn = void (*)(const WinoInputArgs& a);

constexpr int64_t kGroup = 14;
constexpr int64_t kGroupLd = 16;
// For groups q < nq (mr[q] tiles each, consecutive in M):
// M[e][t][0..32) = sum_c V[e][q][c][t - t_q] * U[e][c][0..32), e < elems (V rows kGroupLd apart).
using wino_gemm_fn = void (*)(size_t elems, size_t k, size_t nq, const uint8_t* mr, const float* v,
                              size_t ld_e, size_t ld_q, const float* u, size_t ldu_e, float* m,
                              size_t ldm_e);

struct WinoOutputArgs {
  const float* m;           // M[e][t][32]
  size_t ldm_e;
  int64_t tile0, ntiles;    // global tile indices [tile0, tile0 + ntiles): (n, ty, tx) row-major
  int64_t tiles_h, tiles_w;
  int64_t c_out, out_h, out_w;
  int64_t co0;              // first output channel of the panel (32 wide, clipped to c_out)
  const float* bias;        // 32 entries for this panel (zero-padded)
  const float* residual;    // nullable, y's layout
  bool relu;
  float* y;
};
// y = act(A^T M A + bias + residual) for the panel's channels and the tiles' valid pixels.
using wino_output_fn = void (*)(const WinoOutputArgs& a);

struct WinoKernels {
  wino_input_fn input;
  wino_gemm_fn gemm;
  wino_output_fn output;
  const char* name;  // for per-layer profiles
};

// Tests/benchmarks only: 0 = automatic, 1 = shared V (phase-split), 2 = per-thread blocks.
void winograd_force_strategy_for_tests(int strategy);

// Scalar fallback (winograd.cc) and AVX-512 (f32_winograd_*__avx512f.cc).
void f32_winograd_gemm_32__scalar(size_t elems, size_t k, size_t nq, const uint8_t* mr,
                                  const float* v, size_t ld_e, size_t ld_q, const float* u,
                                  size_t ldu_e, float* m, size_t ldm_e);
void f32_winograd_gemm_14x32__avx512f(size_t elems, size_t k, size_t nq, const uint8_t* mr,
                                      const float* v, size_t ld_e, size_t ld_q, const float* u,
                                      size_t ldu_e, float* m, size_t ldm_e);

void f32_winograd_input_4x4_3x3__scalar(const WinoInputArgs& a);
void f32_winograd_output_4x4_3x3__scalar(const WinoOutputArgs& a);
void f32_winograd_input_4x4_3x3__avx512f(const WinoInputArgs& a);
void f32_winograd_output_4x4_3x3__avx512f(const WinoOutputArgs& a);

void f32_winograd_input_2x2_3x3__scalar(const WinoInputArgs& a);
void f32_winograd_output_2x2_3x3__scalar(const WinoOutputArgs& a);
void f32_winograd_input_2x2_3x3__avx512f(const WinoInputArgs& a);
void f32_winograd_output_2x2_3x3__avx512f(const WinoOutputArgs& a);

}  // namespace resnode::cpu
