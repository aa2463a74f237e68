// Backward of the cheap ops: ReLU, max pool (through a recorded argmax),
// global average pool, and the mean softmax cross-entropy loss.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "../backward.h"
#include "../common.h"
#include "../threadpool.h"

namespace resnode::cpu {

void relu_backward(const float* y, const float* dy, int64_t count, float* dx, int threads) {
  if (threads <= 0) threads = global_threads();
  const int64_t chunk = 1 << 16;
  const size_t tasks = size_t((count + chunk - 1) / chunk);
  parallel_for(tasks, threads_for_work(double(count), threads), [&](size_t t) {
    const int64_t lo = int64_t(t) * chunk, hi = std::min<int64_t>(count, lo + chunk);
    for (int64_t i = lo; i < hi; ++i) dx[i] = y[i] > 0.f ? dy[i] : 0.f;
  });
}

void max_pool2d_argmax(const Pool2dShape& s, const float* x, float* y, int32_t* argmax) {
  int64_t o = 0;
  for (int64_t pl = 0; pl < s.n * s.c; ++pl) {
    const int64_t base = pl * s.h * s.w;
    for (int64_t oy = 0; oy < s.out_h; ++oy) {
      for (int64_t ox = 0; ox < s.out_w; ++ox, ++o) {
        float m = -std::numeric_limits<float>::infinity();
        int64_t at = -1;
        for (int64_t i = 0; i < s.kh; ++i) {
          const int64_t iy = oy * s.stride_h - s.pad_top + i * s.dil_h;
          if (iy < 0 || iy >= s.h) continue;
          for (int64_t j = 0; j < s.kw; ++j) {
            const int64_t ix = ox * s.stride_w - s.pad_left + j * s.dil_w;
            if (ix < 0 || ix >= s.w) continue;
            const float v = x[base + iy * s.w + ix];
            if (v > m || at < 0) { m = v; at = base + iy * s.w + ix; }
          }
        }
        y[o] = m;
        argmax[o] = int32_t(at);
      }
    }
  }
}

void max_pool2d_backward(const float* dy, const int32_t* argmax, int64_t out_count, float* dx,
                         int64_t in_count) {
  std::memset(dx, 0, sizeof(float) * size_t(in_count));
  for (int64_t o = 0; o < out_count; ++o)
    if (argmax[o] >= 0) dx[argmax[o]] += dy[o];
}

void global_average_pool_backward(const float* dy, int64_t planes, int64_t hw, float* dx) {
  for (int64_t p = 0; p < planes; ++p) {
    const float v = dy[p] / float(hw);
    float* d = dx + p * hw;
    for (int64_t i = 0; i < hw; ++i) d[i] = v;
  }
}

double softmax_cross_entropy(const float* logits, const int32_t* labels, int64_t m,
                             int64_t classes, float* dlogits, int64_t* correct) {
  double loss = 0;
  int64_t ok = 0;
  for (int64_t i = 0; i < m; ++i) {
    const float* l = logits + i * classes;
    double mx = -std::numeric_limits<double>::infinity();
    int64_t arg = 0;
    for (int64_t j = 0; j < classes; ++j)
      if (l[j] > mx) { mx = l[j]; arg = j; }
    double s = 0;
    for (int64_t j = 0; j < classes; ++j) s += std::exp(double(l[j]) - mx);
    const double lse = mx + std::log(s);
    loss += lse - l[labels[i]];
    if (arg == labels[i]) ++ok;
    if (dlogits)
      for (int64_t j = 0; j < classes; ++j)
        dlogits[i * classes + j] =
            float((std::exp(double(l[j]) - lse) - (j == labels[i] ? 1.0 : 0.0)) / double(m));
  }
  if (correct) *correct = ok;
  return loss / double(m);
}

}  // namespace resnode::cpu
