#include "isa.h"

#include <setjmp.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "arch.h"
#include "bf16.h"
#include "peak.h"

#if RN_ARCH_X86_64
#include <cpuid.h>
#endif

namespace resnode::cpu {
namespace {

#if RN_ARCH_X86_64
uint64_t xgetbv0() {
  uint32_t eax, edx;
  // xgetbv with ecx=0; encoded as bytes so no -mxsave flag is needed.
  __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(eax), "=d"(edx) : "c"(0));
  return (uint64_t(edx) << 32) | eax;
}

// Some hypervisors report CPUID leaf 7 subleaf 1 as all zeros (this project's
// EPYC VMs do) although the CPU runs AVX512_BF16 natively. Where CPUID says
// nothing, run one vdpbf16ps under a temporary SIGILL handler: a CPU without
// the feature faults and the handler jumps back. Done once, at detection.
sigjmp_buf g_probe_env;
void on_probe_sigill(int) { siglongjmp(g_probe_env, 1); }

bool probe_bf16() {
  struct sigaction sa, old;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_probe_sigill;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGILL, &sa, &old) != 0) return false;
  volatile bool ok = false;
  if (sigsetjmp(g_probe_env, 1) == 0) ok = bf16_probe__avx512bf16() == 8.0f;
  sigaction(SIGILL, &old, nullptr);
  return ok;
}
#endif

CpuFeatures detect() {
  CpuFeatures f;
#ifdef _SC_LEVEL2_CACHE_SIZE
  const long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
  if (l2 > 0) f.l2_bytes = size_t(l2);
#endif
#if RN_ARCH_X86_64
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28);
  if (!(osxsave && avx)) return f;
  const uint64_t xcr0 = xgetbv0();
  const bool os_ymm = (xcr0 & 0x6) == 0x6;           // SSE + AVX state
  const bool os_zmm = (xcr0 & 0xE6) == 0xE6;         // + opmask, ZMM_Hi256, Hi16_ZMM
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  const unsigned max_subleaf = a;
  const bool avx2 = b & (1u << 5);
  const bool f512 = b & (1u << 16), dq = b & (1u << 17), bw = b & (1u << 30), vl = b & (1u << 31);
  const bool vnni = c & (1u << 11);  // leaf 7.0 ECX: AVX512_VNNI
  f.avx2_fma = os_ymm && avx2 && fma;
  f.avx512 = f.avx2_fma && os_zmm && f512 && dq && bw && vl;
  f.avx512_vnni = f.avx512 && vnni;
  bool leaf7_1_eax = false;
  if (max_subleaf >= 1) {
    __cpuid_count(7, 1, a, b, c, d);
    leaf7_1_eax = a != 0;
    f.avx512_bf16 = f.avx512 && (a & (1u << 5));
  }
  if (f.avx512 && !leaf7_1_eax) f.avx512_bf16 = probe_bf16();
#endif
#if RN_ARCH_ARM64
  f.neon = true;
#endif
  return f;
}

Isa compute_detected() {
  const CpuFeatures& f = cpu_features();
  Isa hw = f.neon ? Isa::neon : f.avx512 ? Isa::avx512 : f.avx2_fma ? Isa::avx2 : Isa::scalar;
  if (const char* env = std::getenv("RESNODE_ISA")) {
    Isa cap;
    if (parse_isa(env, &cap) && cap < hw) hw = cap;
  }
  return hw;
}

std::atomic<int> g_active{-1};

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

bool parse_isa(const char* s, Isa* out) {
  if (!s) return false;
  if (!std::strcmp(s, "scalar")) *out = Isa::scalar;
#if RN_ARCH_X86_64
  else if (!std::strcmp(s, "avx2")) *out = Isa::avx2;
  else if (!std::strcmp(s, "avx512") || !std::strcmp(s, "avx512f") || !std::strcmp(s, "avx512bf16"))
    *out = Isa::avx512;
#endif
#if RN_ARCH_ARM64
  else if (!std::strcmp(s, "neon")) *out = Isa::neon;
#endif
  else return false;
  return true;
}

Isa detected_isa() {
  static const Isa isa = compute_detected();
  return isa;
}

Isa active_isa() {
  int v = g_active.load(std::memory_order_relaxed);
  return v < 0 ? detected_isa() : static_cast<Isa>(v);
}

void set_active_isa(Isa isa) {
  if (isa > detected_isa()) isa = detected_isa();
  g_active.store(static_cast<int>(isa), std::memory_order_relaxed);
}

const char* bf16_unavailable_reason() {
  if (!cpu_features().avx512_bf16)
    return "this CPU lacks AVX512_BF16 (vdpbf16ps), the CPU feature the bf16 kernels need";
  const char* env = std::getenv("RESNODE_ISA");
  if (env && std::strcmp(env, "avx512bf16") != 0)
    return "RESNODE_ISA caps the ISA below AVX512_BF16 (the CPU feature the bf16 kernels need; "
           "RESNODE_ISA=avx512bf16 or unset allows it)";
  if (active_isa() != Isa::avx512)
    return "the active ISA (setIsa) is below AVX-512, so AVX512_BF16 (the CPU feature the bf16 "
           "kernels need) is off";
  return nullptr;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::avx512: return "avx512f";
    case Isa::avx2: return "avx2";
    case Isa::neon: return "neon";
    default: return "scalar";
  }
}

}  // namespace resnode::cpu
