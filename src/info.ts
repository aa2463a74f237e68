// What this build and machine offer.
import { nativeAvailable, nativeBinding, nativeOrigin } from './native.js';
import { currentThreads } from './threads.js';
import type { NativeIsa, NativeStats } from './native-binding.js';

export interface Info {
  /** The SIMD path native kernels use; null when the addon is not built. */
  isa: NativeIsa | null;
  /** The best path this CPU supports (RESNODE_ISA can cap it). */
  detectedIsa: NativeIsa | null;
  threads: number;
  /** Whether mode 'bf16' can run: the CPU has AVX512_BF16 and neither RESNODE_ISA nor setIsa caps it off. */
  bf16: boolean;
  cuda: { compiled: boolean; available: boolean; device?: string };
  native: boolean;
  /** The addon file that loaded (a prebuilt one or a build from source); null without one. */
  addon: string | null;
  /** Why the native backend is missing, and how to get it; null when it loaded. */
  nativeProblem: string | null;
}

export function info(): Info {
  const origin = nativeOrigin();
  if ('problem' in origin) {
    return {
      isa: null, detectedIsa: null, threads: currentThreads(), bf16: false, cuda: { compiled: false, available: false },
      native: false, addon: null, nativeProblem: origin.problem,
    };
  }
  const i = nativeBinding().info();
  return { isa: i.isa, detectedIsa: i.detectedIsa, threads: currentThreads(), bf16: i.bf16, cuda: i.cuda, native: true, addon: origin.addon, nativeProblem: null };
}

/**
 * The native addon's resource counters (live packed-weight handles and their
 * bytes, async ops in flight, per-thread scratch bytes), process-wide; null
 * when the addon is not built. After a model's dispose() its handles no longer count.
 */
export function nativeStats(): NativeStats | null {
  if (!nativeAvailable()) return null;
  return nativeBinding().stats();
}
