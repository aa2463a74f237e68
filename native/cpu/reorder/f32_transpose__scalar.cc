// Portable transpose of columns [c0, c1) of a row-major [rows x cols] matrix (f32_transpose.h), in
// 8 x 8 blocks so both sides are read and written a cache line at a time.
#include "f32_transpose.h"

namespace resnode::cpu {

void f32_transpose__scalar(const float* x, size_t rows, size_t cols, size_t c0, size_t c1, float* y) {
  constexpr size_t B = 8;
  for (size_t r0 = 0; r0 < rows; r0 += B)
    for (size_t cb = c0; cb < c1; cb += B) {
      const size_t r1 = r0 + B < rows ? r0 + B : rows, ce = cb + B < c1 ? cb + B : c1;
      for (size_t c = cb; c < ce; ++c)
        for (size_t r = r0; r < r1; ++r) y[c * rows + r] = x[r * cols + c];
    }
}

}  // namespace resnode::cpu
