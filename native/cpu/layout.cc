// Data movement and normalisation steps of a plan: strided copies (Transpose,
// Slice), Concat, Softmax and LayerNormalization. The copies are memcpy of
// contiguous runs; softmax is a plain scalar loop (std::exp); layer_norm runs
// its ISA's row kernel (norm/).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "arch.h"
#include "common.h"
#include "layout.h"

namespace resnode::cpu {

void strided_copy(const float* x, float* y, int rank, const int64_t* dims, const int64_t* strides,
                  int64_t offset) {
  RN_CHECK(x && y && rank >= 1);
  const int64_t inner = dims[rank - 1], step = strides[rank - 1];
  int64_t rows = 1;
  for (int d = 0; d + 1 < rank; ++d) rows *= dims[d];
  for (int64_t r = 0; r < rows; ++r) {
    int64_t base = offset, rest = r;
    for (int d = rank - 2; d >= 0; --d) {
      base += (rest % dims[d]) * strides[d];
      rest /= dims[d];
    }
    float* out = y + r * inner;
    if (step == 1) std::memcpy(out, x + base, size_t(inner) * sizeof(float));
    else for (int64_t i = 0; i < inner; ++i) out[i] = x[base + i * step];
  }
}

void concat(const float* const* xs, const int64_t* chunks, int n, float* y, int64_t outer) {
  int64_t row = 0;
  for (int k = 0; k < n; ++k) row += chunks[k];
  for (int64_t o = 0; o < outer; ++o) {
    float* at = y + o * row;
    for (int k = 0; k < n; ++k) {
      std::memcpy(at, xs[k] + o * chunks[k], size_t(chunks[k]) * sizeof(float));
      at += chunks[k];
    }
  }
}

void softmax(const float* x, float* y, int64_t outer, int64_t n, int64_t inner) {
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < inner; ++j) {
      const float* xr = x + o * n * inner + j;
      float* yr = y + o * n * inner + j;
      float mx = -INFINITY;
      for (int64_t i = 0; i < n; ++i) mx = std::max(mx, xr[i * inner]);
      double sum = 0;
      for (int64_t i = 0; i < n; ++i) {
        const float e = std::exp(xr[i * inner] - mx);
        yr[i * inner] = e;
        sum += e;
      }
      const float inv = float(1.0 / sum);
      for (int64_t i = 0; i < n; ++i) yr[i * inner] *= inv;
    }
  }
}

LayerNormKernel layer_norm_kernel(Isa isa) {
#if RN_ARCH_X86_64
  if (isa == Isa::avx512) return {f32_layernorm__avx512f, "f32_layernorm__avx512f"};
  if (isa == Isa::avx2) return {f32_layernorm__avx2, "f32_layernorm__avx2"};
#else
  (void)isa;
#endif
  return {f32_layernorm__scalar, "f32_layernorm__scalar"};
}

void layer_norm(f32_layernorm_fn kernel, const float* x, const float* scale, const float* bias, float* y,
                int64_t outer, int64_t n, float epsilon) {
  RN_CHECK(kernel && x && scale && y && outer >= 1 && n >= 1);
  for (int64_t o = 0; o < outer; ++o) kernel(x + o * n, scale, bias, y + o * n, size_t(n), epsilon);
}

}  // namespace resnode::cpu
