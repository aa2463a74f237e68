// The plane sum of the global average pool (gavgpool.h), portable C++.
#include "gavgpool.h"

namespace resnode::cpu {

float f32_gavgpool_cw__scalar(const float* x, size_t n) {
  // Eight partial sums: the compiler may vectorise them, and they round less than one running sum.
  float acc[8] = {};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += x[i + j];
  float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < n; ++i) sum += x[i];
  return sum;
}

}  // namespace resnode::cpu
