// Register-only FMA loops, one per ISA, for measuring the machine's fp32 peak.
#pragma once
#include <cstdint>

namespace resnode::cpu {

// Each runs `iters` iterations of 12 independent FMA chains (enough to cover
// FMA latency on two ports) and returns a value that depends on every chain,
// so the compiler cannot drop the work. FLOPs per iteration: 12 * 2 * lanes.
double fma_loop__avx512f(int64_t iters);  // lanes = 16
double fma_loop__avx2(int64_t iters);     // lanes = 8
double fma_loop__neon(int64_t iters);     // lanes = 4
double fma_loop__scalar(int64_t iters);   // lanes = 1
// 12 vdpbf16ps chains: FLOPs per iteration 12 * 2 * 2 * 16 (two pairs per lane).
double dpbf16_loop__avx512bf16(int64_t iters);
// 12 vpdpbusd chains (u8 x s8, four multiply-adds per int32 lane): int ops per iteration
// 12 * 2 * 4 * 16.
double dpbusd_loop__avx512vnni(int64_t iters);
// Runs one vdpbf16ps (see isa.cc's probe).
float bf16_probe__avx512bf16();

}  // namespace resnode::cpu
