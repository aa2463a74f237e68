// CPU feature detection (CPUID + XGETBV), done once per process.
#pragma once
#include "ops.h"

namespace resnode::cpu {

struct CpuFeatures {
  bool avx2_fma = false;  // AVX2 + FMA3 and the OS saves ymm state
  bool avx512 = false;    // AVX-512 F/BW/VL/DQ and the OS saves zmm state
  bool neon = false;      // arm64 Advanced SIMD (part of the base architecture)
  size_t l2_bytes = 0;    // one core's L2 cache (sysconf), 0 if unknown
};

// Raw hardware features (not capped by RESNODE_ISA).
const CpuFeatures& cpu_features();
// Parses "scalar" and the names of this build's architecture ("avx2" | "avx512" |
// "avx512f" on x86-64, "neon" on arm64); returns false for anything else.
bool parse_isa(const char* s, Isa* out);

}  // namespace resnode::cpu
