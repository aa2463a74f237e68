// Whether a backend can honour a mode here and now. A mode it cannot honour
// throws, naming what is missing; nothing falls back silently.
import { nativeAvailable, nativeBinding } from './native.js';
import type { Mode } from './modes.js';

/** Throws unless `backend` can run `mode` on this machine (bf16: native with AVX512_BF16). */
export function requireModeSupported(where: string, mode: Mode, backend: 'native' | 'js' | 'cuda'): void {
  if (mode !== 'bf16') return;
  if (backend !== 'native') {
    throw new RangeError(`${where}: mode 'bf16' runs only on the native backend (its AVX512_BF16 kernels); the ${backend} backend has no bf16 kernels`);
  }
  const why = bf16Missing();
  if (why) throw new Error(`${where}: mode 'bf16' is not available: ${why}`);
}

/** Null when mode 'bf16' can run now; otherwise why not (the missing CPU feature, or what capped it). */
export function bf16Missing(): string | null {
  if (!nativeAvailable()) return 'the native addon is not built';
  return nativeBinding().info().bf16Missing ?? null;
}
