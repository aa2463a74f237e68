// AVX-512 direct-convolution micro-kernel (dconv_avx512f.h): two output rows of 7 pixels x 32 channels, pixel stride 1.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma (by file name).
#include "dconv_avx512f.h"

namespace resnode::cpu {

void f32_dconv_2x7x32s1__avx512f(size_t channels, size_t taps, const float* w, const DconvTile& t) {
  dconv_avx512f<14, 2, 1, 7>(channels, taps, w, t);
}

}  // namespace resnode::cpu
