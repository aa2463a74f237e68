// The reorder between float32 NCHW and NHWC activations: per image, a [rows x cols] row-major
// matrix transposed into [cols x rows] (NCHW -> NHWC: rows = channels, cols = pixels; NHWC ->
// NCHW the other way round). A kernel transposes the columns [c0, c1) of one image; the plan's
// reorder step (f32_reorder) cuts each image into such column chunks over the thread pool.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../ops.h"

namespace resnode::cpu {

using f32_transpose_fn = void (*)(const float* x, size_t rows, size_t cols, size_t c0, size_t c1, float* y);

void f32_transpose__avx512f(const float* x, size_t rows, size_t cols, size_t c0, size_t c1, float* y);
void f32_transpose__scalar(const float* x, size_t rows, size_t cols, size_t c0, size_t c1, float* y);

// The transpose kernel of `isa`, fixed when a plan step is parsed.
f32_transpose_fn f32_transpose_kernel(Isa isa);

// x [n][c][hw] -> y [n][hw][c] (to_nhwc) or x [n][hw][c] -> y [n][c][hw]; x and y never overlap.
void f32_reorder(f32_transpose_fn kernel, const float* x, int64_t n, int64_t c, int64_t hw, bool to_nhwc, float* y,
                 int threads);

}  // namespace resnode::cpu
