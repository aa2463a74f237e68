// Training-mode batch normalization (batch statistics), forward and backward,
// per channel in double accumulators; channels are split across threads.
#include <cmath>

#include "../backward.h"
#include "../common.h"
#include "../threadpool.h"

namespace resnode::cpu {

void batch_norm_train_forward(const float* x, const float* gamma, const float* beta, double eps,
                              int64_t n, int64_t c, int64_t hw, float* y, double* save_mean,
                              double* save_inv_std, int threads) {
  RN_CHECK(x && gamma && beta && y && save_mean && save_inv_std);
  if (threads <= 0) threads = global_threads();
  const double cnt = double(n * hw);
  parallel_for(size_t(c), threads_for_work(4.0 * double(n * c * hw), threads), [&](size_t chu) {
    const int64_t ch = int64_t(chu);
    double s = 0;
    for (int64_t b = 0; b < n; ++b) {
      const float* xp = x + (b * c + ch) * hw;
      for (int64_t i = 0; i < hw; ++i) s += xp[i];
    }
    const double mean = s / cnt;
    double v = 0;
    for (int64_t b = 0; b < n; ++b) {
      const float* xp = x + (b * c + ch) * hw;
      for (int64_t i = 0; i < hw; ++i) { const double d = xp[i] - mean; v += d * d; }
    }
    const double inv = 1.0 / std::sqrt(v / cnt + eps);
    save_mean[ch] = mean;
    save_inv_std[ch] = inv;
    const float sc = float(gamma[ch] * inv), sh = float(beta[ch] - mean * gamma[ch] * inv);
    for (int64_t b = 0; b < n; ++b) {
      const float* xp = x + (b * c + ch) * hw;
      float* yp = y + (b * c + ch) * hw;
      for (int64_t i = 0; i < hw; ++i) yp[i] = xp[i] * sc + sh;
    }
  });
}

void batch_norm_train_backward(const float* x, const float* gamma, const float* dy,
                               const double* save_mean, const double* save_inv_std, int64_t n,
                               int64_t c, int64_t hw, float* dx, float* dgamma, float* dbeta,
                               int threads) {
  RN_CHECK(x && gamma && dy && save_mean && save_inv_std && dgamma && dbeta);
  if (threads <= 0) threads = global_threads();
  const double cnt = double(n * hw);
  parallel_for(size_t(c), threads_for_work(4.0 * double(n * c * hw), threads), [&](size_t chu) {
    const int64_t ch = int64_t(chu);
    const double mean = save_mean[ch], inv = save_inv_std[ch];
    double sdy = 0, sdyx = 0;
    for (int64_t b = 0; b < n; ++b) {
      const float* xp = x + (b * c + ch) * hw;
      const float* dp = dy + (b * c + ch) * hw;
      for (int64_t i = 0; i < hw; ++i) { sdy += dp[i]; sdyx += double(dp[i]) * (xp[i] - mean); }
    }
    const double dg = sdyx * inv;
    dgamma[ch] = float(dg);
    dbeta[ch] = float(sdy);
    if (!dx) return;
    const double k = double(gamma[ch]) * inv / cnt;
    const float a = float(k * cnt);
    const float b0 = float(-k * sdy + k * dg * inv * mean);
    const float cc = float(-k * dg * inv);
    for (int64_t b = 0; b < n; ++b) {
      const float* xp = x + (b * c + ch) * hw;
      const float* dp = dy + (b * c + ch) * hw;
      float* o = dx + (b * c + ch) * hw;
      for (int64_t i = 0; i < hw; ++i) o[i] = a * dp[i] + b0 + cc * xp[i];
    }
  });
}

}  // namespace resnode::cpu
