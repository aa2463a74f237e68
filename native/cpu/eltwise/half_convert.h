// float16 ↔ float32 at a float16 model's edges (its inputs and outputs): IEEE
// half bit patterns, round to nearest even on narrowing, as F16C does.
#pragma once
#include <cstdint>

#include "../ops.h"

namespace resnode::cpu {

void f16_f32_vcvt__scalar(const uint16_t* x, float* y, int64_t n);
void f32_f16_vcvt__scalar(const float* x, uint16_t* y, int64_t n);
#if defined(__x86_64__) || defined(_M_X64)
void f16_f32_vcvt__avx2(const uint16_t* x, float* y, int64_t n);  // F16C (every AVX2 CPU has it)
void f32_f16_vcvt__avx2(const float* x, uint16_t* y, int64_t n);
#endif

// The ISA's kernel (F16C with AVX2 or AVX-512, else scalar).
void f16_to_f32(const uint16_t* x, float* y, int64_t n, Isa isa = active_isa());
void f32_to_f16(const float* x, uint16_t* y, int64_t n, Isa isa = active_isa());

}  // namespace resnode::cpu
