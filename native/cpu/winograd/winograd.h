// Winograd F(4x4, 3x3) and F(2x2, 3x3) fast paths for 3x3 / stride 1 /
// dilation 1 / groups 1 convolutions (any pads). They trade exactness for speed
// (see the error table in tests/winograd_test.cc): use them only in the `fast` mode.
// With output tiles of t x t (t = 4 or 2) and a = t + 2:
//
//   U = G g G^T       per (c_out, c_in), a x a, transformed once (pack_winograd3x3)
//   V = B^T d B       per (c_in, tile), a x a input tile at stride t
//   M[e] = U[e] V[e]  a^2 independent GEMMs [c_out x c_in] x [c_in x tiles]
//   y = act(A^T M A + bias + residual), the epilogue fused into the output transform.
//
// F(4x4) does 4x fewer multiplies than the direct convolution and F(2x2) 2.25x,
// but F(4x4)'s U is 4x the raw weights and F(2x2)'s 1.8x: with few tiles (deep
// layers at batch 1) the call streams U, and F(2x2)'s smaller U with more tiles
// over the same image wins there (winograd_tile).
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
// (c_out zero-padded to a multiple of 32), e < elems() the transformed coordinate.
// The layout is ISA-independent.
class PackedWinograd {
 public:
  static constexpr int64_t kPanel = 32;
  int64_t tile = 4;            // output tile side: F(4x4,3x3) or F(2x2,3x3)
  int64_t c_out = 0, c_in = 0;
  int64_t panels = 0;          // ceil(c_out / 32)
  AlignedBuffer u;             // panels * elems() * c_in * 32 floats
  std::vector<float> bias;     // panels * 32 entries, zero-padded (zeros if no bias)
  bool has_bias = false;
  Isa isa = Isa::scalar;       // the ISA whose kernels winograd3x3 runs for these weights

  size_t elems() const { return size_t((tile + 2) * (tile + 2)); }
  size_t panel_stride() const { return elems() * size_t(c_in * kPanel); }
  size_t e_stride() const { return size_t(c_in * kPanel); }
  const float* panel(int64_t p) const { return u.get() + size_t(p) * panel_stride(); }
};

// [sync] Transforms and packs 3x3 weights once, for output tiles of `tile`
// (4 or 2). weight: [c_out][c_in][3][3] float32; bias: [c_out] or nullptr.
//   Returns the packed handle. Throws std::bad_alloc.
// isa: the kernels' ISA (the owning PackedConv's; default the active one).
std::shared_ptr<PackedWinograd> pack_winograd3x3(const float* weight, const float* bias,
                                                 int64_t c_out, int64_t c_in, int64_t tile,
                                                 Isa isa = active_isa());

// [sync] Same semantics as conv2d() in ops.h for a 3x3/s1/d1/g1 convolution:
//   y = act(conv(x) + bias + residual), residual (nullable) with y's shape, ReLU if relu.
//   s must satisfy winograd_applicable(s) and s.c_in/c_out must match w.
//   threads <= 0 means global_threads(). Throws std::bad_alloc (scratch).
void winograd3x3(const Conv2dShape& s, const PackedWinograd& w, const float* x,
                 const float* residual, bool relu, float* y, int threads);
// The kernels winograd3x3 runs on `isa` for output tiles of `tile` (for per-layer profiles).
const char* winograd3x3_kernel(int64_t tile, Isa isa);

// kh = kw = 3, strides 1, dilations 1, groups 1 (pads free).
bool winograd_applicable(const Conv2dShape& s);

// The output tile (4 or 2) of the Winograd variant expected to beat the exact
// path for this shape on this machine class, or 0 where none is (U streamed
// from memory for too few tiles; see winograd.cc). Also 0 unless the AVX-512
// kernels are those of `isa` (the scalar fallback is correct but slow).
int64_t winograd_tile(const Conv2dShape& s, Isa isa);

}  // namespace resnode::cpu
