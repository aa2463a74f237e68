// im2col straight into packed GEMM B panels.
#pragma once
#include <cstddef>
#include <cstdint>

namespace resnode::cpu {

// One image and one group of a convolution.
struct ConvGeom {
  int64_t c, h, w;  // input channels of this group, input height/width
  int64_t kh, kw, sh, sw, dh, dw, pt, pl;
  int64_t oh, ow;
  bool pointwise() const {
    return kh == 1 && kw == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && oh == h && ow == w;
  }
};

// Packs rows [k0, k0 + kl) and columns [n0, n0 + ncols) of the implicit
// im2col matrix B[k, n] (k = (ci * kh + ky) * kw + kx, n = oy * ow + ox) into
// ceil(ncols / nr) panels of kl x nr floats, k-major; columns >= ncols are
// zero. For pointwise (1x1, stride 1, no padding) convolutions this is a plain
// copy of input rows: B is the input itself.
void im2col_pack(const ConvGeom& g, const float* x, size_t k0, size_t kl, size_t n0,
                 size_t ncols, size_t nr, float* dst);

// The same for nr == 32 with AVX-512 masked loads, permutes and gathers
// (im2col__avx512f.cc, compiled with the AVX-512 flags).
void im2col_pack__avx512f(const ConvGeom& g, const float* x, size_t k0, size_t kl, size_t n0,
                          size_t ncols, size_t nr, float* dst);

using im2col_pack_fn = void (*)(const ConvGeom& g, const float* x, size_t k0, size_t kl,
                                size_t n0, size_t ncols, size_t nr, float* dst);

}  // namespace resnode::cpu
