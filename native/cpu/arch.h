// Which CPU architecture this translation unit is compiled for. The x86 ISA
// kernels (*__avx2.cc, *__avx512f.cc) are built only on x86-64 and the NEON
// ones (*__neon.cc) only on arm64, so every reference to them from portable
// code sits behind one of these.
#pragma once

#if defined(__x86_64__) || defined(_M_X64)
#define RN_ARCH_X86_64 1
#else
#define RN_ARCH_X86_64 0
#endif

#if defined(__aarch64__) || defined(_M_ARM64)
#define RN_ARCH_ARM64 1
#else
#define RN_ARCH_ARM64 0
#endif
