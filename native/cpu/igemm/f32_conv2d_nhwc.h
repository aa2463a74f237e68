// A float32 convolution (groups 1) on NHWC activations through the igemm micro-kernels
// (igemm_ukernel.h): weights packed once at load into [kh*kw*c_in x nr] panels, an indirection
// buffer of input-row pointers built once per input shape (a shared zero row for the padding),
// then y [n][oh][ow][c_out] = clamp(conv(x) + bias + residual) with no copy of the activations.
#pragma once
#include <cstdint>
#include <vector>

#include "../clamp.h"
#include "../ops.h"
#include "igemm_ukernel.h"

namespace resnode::cpu {

// The igemm micro-kernel of one ISA, fixed when the weights are packed; half_rows, where the ISA
// has one, is a kernel of the same panels (nr) and half the rows, for a layer whose row count
// leaves much of the last tile empty (chosen per input shape, f32_conv_nhwc_indirection).
struct IgemmConfig {
  Isa isa;
  size_t mr, nr;
  f32_igemm_ukernel_fn ukernel;
  const char* name;
  const IgemmConfig* half_rows = nullptr;
};
const IgemmConfig& igemm_config(Isa isa);

struct F32NhwcConvShape {
  int64_t n = 1, h = 1, w = 1, c = 1;  // input, NHWC
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pad_top = 0, pad_left = 0, oh = 1, ow = 1;  // output rows and columns
};

struct F32NhwcConvPacked {
  const IgemmConfig* config = nullptr;
  int64_t c_out = 0, c_in = 0, kh = 0, kw = 0;
  std::vector<float> w;     // panel p at p * (kh*kw*c_in) * nr: [(ky*kw + kx)*c_in + c][nr]
  std::vector<float> bias;  // c_out, zero where the conv has none
  std::vector<float> zero;  // c_in zeros: the row every padding tap reads
  size_t bytes() const { return (w.size() + bias.size() + zero.size()) * sizeof(float); }
};

// Packs OIHW weights [c_out][c_in][kh][kw] (and bias [c_out], or null) for the kernel of `isa`.
F32NhwcConvPacked f32_conv_nhwc_pack(Isa isa, const float* oihw, const float* bias, int64_t c_out, int64_t c_in,
                                     int64_t kh, int64_t kw);

// The row pointers of every output pixel and tap (igemm_ukernel.h's `a`, tile after tile, the
// last tile's missing rows repeating the last pixel), as byte offsets from the input's start
// (the run passes the input's address as a_offset), or the packing's zero row. `config` is the
// kernel the tiles are cut for: the packing's, or its half_rows kernel where that computes
// fewer padded rows for less time (ResNet's 7x7 stage at batch 1: 49 rows, 56 in 14-row tiles).
struct F32NhwcIndirection {
  std::vector<const float*> rows;
  int64_t m = 0, m_tiles = 0;
  const IgemmConfig* config = nullptr;
};
F32NhwcIndirection f32_conv_nhwc_indirection(const F32NhwcConvPacked& p, const F32NhwcConvShape& s);

// y from x (both NHWC, never overlapping); residual (y's shape, or null) is added before act.
void f32_conv2d_nhwc(const F32NhwcConvPacked& p, const F32NhwcConvShape& s, const F32NhwcIndirection& ind,
                     const float* x, const float* residual, Clamp act, float* y, int threads);

}  // namespace resnode::cpu
