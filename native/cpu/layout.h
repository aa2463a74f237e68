// Data movement and normalisation kernels of the plan's strided, concat,
// softmax and layerNorm steps (see src/backend/types.ts for their meaning).
#pragma once
#include <cstdint>

#include "eltwise/elementwise.h"
#include "norm/layernorm.h"

namespace resnode::cpu {

// y[i] = x[offset + Σ i_d·strides[d]] over the row-major index of dims[0, rank).
void strided_copy(const float* x, float* y, int rank, const int64_t* dims, const int64_t* strides,
                  int64_t offset);
// For each of outer rows, xs[k] contributes chunks[k] contiguous floats.
void concat(const float* const* xs, const int64_t* chunks, int n, float* y, int64_t outer);
// Softmax of x viewed as [outer, n, inner] along n (max subtracted, float64 sum).
void softmax(const float* x, float* y, int64_t outer, int64_t n, int64_t inner);
// (x − mean)/sqrt(var + epsilon)·scale + bias over rows of n, each row by
// `kernel` (layer_norm_kernel(isa).fn); bias may be null.
void layer_norm(f32_layernorm_fn kernel, const float* x, const float* scale, const float* bias, float* y,
                int64_t outer, int64_t n, float epsilon);

}  // namespace resnode::cpu
