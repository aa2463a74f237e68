// CPU feature detection (CPUID + XGETBV), done once per process.
#pragma once
#include "ops.h"

namespace resnode::cpu {

struct CpuFeatures {
  bool avx2_fma = false;  // AVX2 + FMA3 and the OS saves ymm state
  bool avx512 = false;    // AVX-512 F/BW/VL/DQ and the OS saves zmm state
  // AVX512_BF16 (vcvtne2ps2bf16, vdpbf16ps): by CPUID, or, where a hypervisor
  // hides CPUID leaf 7.1 on an AVX-512 CPU, by running one instruction (isa.cc).
  bool avx512_bf16 = false;
  bool avx512_vnni = false;  // AVX512_VNNI (vpdpbusd), CPUID leaf 7.0 ECX bit 11
  bool neon = false;      // arm64 Advanced SIMD (part of the base architecture)
  size_t l2_bytes = 0;    // one core's L2 cache (sysconf), 0 if unknown
};

// Raw hardware features (not capped by RESNODE_ISA).
const CpuFeatures& cpu_features();
// Parses "scalar" and the names of this build's architecture ("avx2" | "avx512" |
// "avx512f" | "avx512bf16" on x86-64, "neon" on arm64); returns false for anything
// else. "avx512bf16" is the AVX-512 path with the bf16 kernels allowed; the other
// AVX-512 names cap the ISA below AVX512_BF16 (bf16_unavailable_reason).
bool parse_isa(const char* s, Isa* out);

}  // namespace resnode::cpu
