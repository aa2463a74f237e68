// Winograd F(4x4, 3x3) fast path for 3x3 / stride 1 / dilation 1 / groups 1
// convolutions (any pads). It trades exactness for speed (see the error table in
// tests/winograd_test.cc): use it only in the `fast` mode.
//
//   U = G g G^T       per (c_out, c_in), 6x6, transformed once at load (pack_winograd3x3)
//   V = B^T d B       per (c_in, tile), 6x6 input tile at stride 4
//   M[e] = U[e] V[e]  36 independent GEMMs [c_out x c_in] x [c_in x tiles]
//   y = act(A^T M A + bias + residual), the epilogue fused into the output transform.
//
// Plain C++; the AVX-512 kernels sit in f32_winograd_*__avx512f.cc and are chosen
// at run time by active_isa(); anything else runs the scalar fallback.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "../common.h"
#include "../ops.h"

namespace resnode::cpu {

// Transformed weights: U[p][e][c_in][32], p = output-channel panel of 32
// (c_out zero-padded to a multiple of 32), e = 0..35 the transformed coordinate.
// The layout is ISA-independent.
class PackedWinograd {
 public:
  static constexpr int64_t kPanel = 32;
  int64_t c_out = 0, c_in = 0;
  int64_t panels = 0;          // ceil(c_out / 32)
  AlignedBuffer u;             // panels * 36 * c_in * 32 floats
  std::vector<float> bias;     // panels * 32 entries, zero-padded (zeros if no bias)
  bool has_bias = false;

  size_t panel_stride() const { return size_t(36 * c_in * kPanel); }
  size_t e_stride() const { return size_t(c_in * kPanel); }
  const float* panel(int64_t p) const { return u.get() + size_t(p) * panel_stride(); }
};

// [sync] Transforms and packs 3x3 weights once (at model load).
//   weight: [c_out][c_in][3][3] float32; bias: [c_out] or nullptr.
//   Returns the packed handle. Throws std::bad_alloc.
std::shared_ptr<PackedWinograd> pack_winograd3x3(const float* weight, const float* bias,
                                                 int64_t c_out, int64_t c_in);

// [sync] Same semantics as conv2d() in ops.h for a 3x3/s1/d1/g1 convolution:
//   y = act(conv(x) + bias + residual), residual (nullable) with y's shape, ReLU if relu.
//   s must satisfy winograd_applicable(s) and s.c_in/c_out must match w.
//   threads <= 0 means global_threads(). Throws std::bad_alloc (scratch).
void winograd3x3(const Conv2dShape& s, const PackedWinograd& w, const float* x,
                 const float* residual, bool relu, float* y, int threads);
// The kernels winograd3x3 runs on the active ISA (for per-layer profiles).
const char* winograd3x3_kernel();

// kh = kw = 3, strides 1, dilations 1, groups 1 (pads free).
bool winograd_applicable(const Conv2dShape& s);

// Applicable and expected to beat the exact path on this machine class: the
// transformed weights are 4x the raw ones (36 vs 9 floats per (c_out, c_in)),
// so with few tiles (256@14 and 512@7 at batch 1) streaming U costs more than the
// saved FLOPs. Also false unless the AVX-512 kernels are active (the scalar
// fallback is correct but slow).
bool winograd_profitable(const Conv2dShape& s);

}  // namespace resnode::cpu
