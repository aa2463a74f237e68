// Backward of the fully connected layer y = x·Wᵀ + b (x [m, k], W [n_out, k]).
// Both products run on the forward GEMM: dx = dy·W uses Wᵀ as the packed
// operand; dW = dyᵀ·x uses xᵀ.
#include <vector>

#include "../backward.h"
#include "../common.h"

namespace resnode::cpu {

void gemm_backward(const float* x, const float* w, const float* dy, int64_t m, int64_t k,
                   int64_t n_out, float* dx, float* dw, float* db, int threads) {
  RN_CHECK(x && w && dy);
  if (dx) {
    // dx[m, k] = dy[m, n_out] · W[n_out, k]: packed operand [k, n_out] = Wᵀ.
    std::vector<float> wT(size_t(k * n_out));
    for (int64_t o = 0; o < n_out; ++o)
      for (int64_t j = 0; j < k; ++j) wT[j * n_out + o] = w[o * k + j];
    auto p = pack_gemm(wT.data(), nullptr, k, n_out);
    gemm(*p, dy, m, false, dx, threads);
  }
  if (dw) {
    // dW[n_out, k] = dyᵀ[n_out, m] · x[m, k]: packed operand [k, m] = xᵀ.
    std::vector<float> dyT(size_t(n_out * m)), xT(size_t(k * m));
    for (int64_t i = 0; i < m; ++i)
      for (int64_t o = 0; o < n_out; ++o) dyT[o * m + i] = dy[i * n_out + o];
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < k; ++j) xT[j * m + i] = x[i * k + j];
    auto p = pack_gemm(xT.data(), nullptr, k, m);
    gemm(*p, dyT.data(), n_out, false, dw, threads);
  }
  if (db) {
    for (int64_t o = 0; o < n_out; ++o) {
      double s = 0;
      for (int64_t i = 0; i < m; ++i) s += dy[i * n_out + o];
      db[o] = float(s);
    }
  }
}

}  // namespace resnode::cpu
