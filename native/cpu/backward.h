// Backward (training) kernels of the CPU backend. Plain C++: nothing here knows
// about N-API. float32 NCHW tensors, validated by the caller (native/napi/backward.cc).
// Convolution gradients fold the batch into one GEMM per group through the
// forward GEMM (pack_gemm / gemm in ops.h):
//   dWᵀ[K, cOut/g] = col[K, n·P] · dY[cOut/g, n·P]ᵀ      (col = im2col(x), P = outH·outW)
//   dcolᵀ[n·P, K]  = dYᵀ[n·P, cOut/g] · W[cOut/g, K]     then dX = col2im(dcol)
#pragma once
#include <cstdint>

#include "ops.h"

namespace resnode::cpu {

// Gradients of y = conv(x, W) + b given dy (each output pointer may be null;
// those given are overwritten). w is [c_out, c_in/groups, kh, kw], unpacked.
void conv2d_backward(const Conv2dShape& s, const float* x, const float* w, const float* dy,
                     float* dx, float* dw, float* db, int threads);

// Training-mode BN over [n, c, hw]: batch mean / biased variance; saves mean
// and 1/sqrt(var + eps) (double) for the backward.
void batch_norm_train_forward(const float* x, const float* gamma, const float* beta, double eps,
                              int64_t n, int64_t c, int64_t hw, float* y, double* save_mean,
                              double* save_inv_std, int threads);
// dβ = Σdy, dγ = Σdy·x̂, dx = γσ⁻¹/N·(N·dy − dβ − x̂·dγ); dx may be null.
void batch_norm_train_backward(const float* x, const float* gamma, const float* dy,
                               const double* save_mean, const double* save_inv_std, int64_t n,
                               int64_t c, int64_t hw, float* dx, float* dgamma, float* dbeta,
                               int threads);

// dx = y > 0 ? dy : 0 (y is the ReLU output). dx may be dy.
void relu_backward(const float* y, const float* dy, int64_t count, float* dx, int threads);

// Max pool that records the flat input index of each output's maximum (-1 when empty).
void max_pool2d_argmax(const Pool2dShape& s, const float* x, float* y, int32_t* argmax);
// dx = 0, then dx[argmax[o]] += dy[o].
void max_pool2d_backward(const float* dy, const int32_t* argmax, int64_t out_count, float* dx,
                         int64_t in_count);

// dx[p, i] = dy[p] / hw.
void global_average_pool_backward(const float* dy, int64_t planes, int64_t hw, float* dx);

// y = x·Wᵀ + b backward: dx[m,k] = dy·W, dW[n,k] = dyᵀ·x, db = Σ dy (each may be null).
void gemm_backward(const float* x, const float* w, const float* dy, int64_t m, int64_t k,
                   int64_t n_out, float* dx, float* dw, float* db, int threads);

// Mean softmax cross-entropy over m rows; dlogits (nullable) = (softmax − onehot)/m.
// Returns the loss; *correct counts rows whose arg-max equals the label.
double softmax_cross_entropy(const float* logits, const int32_t* labels, int64_t m,
                             int64_t classes, float* dlogits, int64_t* correct);

}  // namespace resnode::cpu
