// Whether this machine can run a mode that needs a CPU feature (the modes table's
// cpuFeature: bf16 needs AVX512_BF16). checkMode() has already said whether the
// backend honours the mode at all; this says whether the CPU (or RESNODE_ISA /
// setIsa, which can cap it) lets the native kernels run now. Nothing falls back.
import { nativeAvailable, nativeBinding } from './native.js';
import { MODES, type Mode } from './modes.js';
import type { BackendName } from './backend/name.js';

/** Throws unless the native kernels of `mode` can run here (a no-op for other backends and modes). */
export function requireModeSupported(where: string, mode: Mode, backend: BackendName): void {
  const spec = MODES[mode] as { cpuFeature?: string };
  if (!spec.cpuFeature || backend !== 'native') return;
  const why = bf16Missing();
  if (why) throw new Error(`${where}: mode '${mode}' is not available: ${why}`);
}

/** Null when mode 'bf16' can run now; otherwise why not (the missing CPU feature, or what capped it). */
export function bf16Missing(): string | null {
  if (!nativeAvailable()) return 'the native addon is not built';
  return nativeBinding().info().bf16Missing ?? null;
}
