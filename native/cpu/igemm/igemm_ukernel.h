// The f32 indirect-GEMM (igemm) micro-kernel contract shared by every ISA (XNNPACK's igemm): a
// conv on NHWC activations read in place. Each output pixel's receptive field is a list of ks
// row pointers (one per kernel tap) into the input, each row kc contiguous channels; a tap that
// falls in the padding points at a shared zero row. No im2col copy, no B packing.
//
// A micro-kernel computes one MR x NR tile of y = conv(x) over ks taps of kc channels:
//   a: ks * MR row pointers, tap-major: a[t * MR + i] is output row i's input row for tap t (all
//      MR rows must be readable: a tile's rows >= mr repeat a valid row). A pointer equal to
//      `zero` is used as is; any other has a_offset (bytes) added first, so one indirection
//      buffer, built once against a base address, serves every run whose input sits elsewhere.
//   w: the packed weight panel, k-major: w[(t * kc + c) * NR + j] is weight (tap t, channel c,
//      output channel j of the panel); zero past the layer's output channels.
//   c: the tile origin in y; row i lives at c + i * ldc. Only rows < mr and columns < nc are
//      written.
//   ep: the fused store (bias_n per output channel, an NHWC residual of y's shape, the clamp):
//        y = clamp( acc + bias_n[j] + residual[i, j], act.lo, act.hi )   (bias_m must be null)
#pragma once
#include <cstddef>
#include <cstdint>

#include "../gemm/ukernel.h"

namespace resnode::cpu {

using f32_igemm_ukernel_fn = void (*)(size_t mr, size_t nc, size_t kc, size_t ks, const float* const* a, const float* w,
                                      float* c, size_t ldc, size_t a_offset, const float* zero,
                                      const GemmEpilogue* ep);

void f32_igemm_14x32__avx512f(size_t mr, size_t nc, size_t kc, size_t ks, const float* const* a, const float* w,
                              float* c, size_t ldc, size_t a_offset, const float* zero, const GemmEpilogue* ep);
void f32_igemm_7x32__avx512f(size_t mr, size_t nc, size_t kc, size_t ks, const float* const* a, const float* w,
                             float* c, size_t ldc, size_t a_offset, const float* zero, const GemmEpilogue* ep);
void f32_igemm_6x16__avx2(size_t mr, size_t nc, size_t kc, size_t ks, const float* const* a, const float* w, float* c,
                          size_t ldc, size_t a_offset, const float* zero, const GemmEpilogue* ep);
void f32_igemm_4x8__scalar(size_t mr, size_t nc, size_t kc, size_t ks, const float* const* a, const float* w, float* c,
                           size_t ldc, size_t a_offset, const float* zero, const GemmEpilogue* ep);

// Row pointer p of the contract above, as the kernel reads it.
inline const float* igemm_row(const float* p, size_t a_offset, const float* zero) {
  return p == zero ? zero : reinterpret_cast<const float*>(reinterpret_cast<uintptr_t>(p) + a_offset);
}

}  // namespace resnode::cpu
