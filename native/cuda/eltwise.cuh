// Elementwise ops on the GPU (device pointers, enqueued on ctx's stream).
// add: y = a + b, optional ReLU (same semantics as resnode::cpu::add). Used
// only where a residual add could not be fused into a conv epilogue.
#pragma once
#include <cstdint>

#include "context.cuh"

namespace resnode::cuda {

void add(Context& ctx, const float* a, const float* b, int64_t count, bool relu, float* y);

}  // namespace resnode::cuda
