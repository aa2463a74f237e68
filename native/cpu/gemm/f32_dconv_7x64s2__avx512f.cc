// AVX-512 direct-convolution micro-kernel (dconv_avx512f.h): 7 pixels of one output row x 64 channels, pixel stride 2.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma (by file name).
#include "dconv_avx512f.h"

namespace resnode::cpu {

void f32_dconv_7x64s2__avx512f(size_t channels, size_t taps, const float* w, const DconvTile& t) {
  dconv_avx512f<7, 4, 2>(channels, taps, w, t);
}

}  // namespace resnode::cpu
