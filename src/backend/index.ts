// Picks a backend by name: the shared native and JS backends (created once),
// or, for a model, a backend of its own where the backend keeps per-model
// state (each CUDA model gets its own context: a stream and a device arena).
import { createCudaBackend } from './cuda.js';
import { invalid } from '../is.js';
import { jsBackend } from './js.js';
import { createNativeBackend } from './native.js';
import { BACKEND_NAMES } from './name.js';
import type { KernelBackend } from './types.js';
import type { Mode } from '../modes.js';

let native: KernelBackend | undefined;
let cuda: KernelBackend | undefined;

/** The shared backend `name` (ops.* use these). */
export function getBackend(where: string, name: unknown = 'native'): KernelBackend {
  switch (name) {
    case 'native':
      native ??= createNativeBackend();
      return native;
    case 'js':
      return jsBackend;
    case 'cuda':
      cuda ??= createCudaBackend(where);
      return cuda;
    default:
      throw invalid(where, 'backend', `one of ${BACKEND_NAMES.map((b) => `'${b}'`).join(', ')}`, name);
  }
}

/** The backend for one model in `mode`: the shared one, or a CUDA context of its own (disposed with the model). */
export function createBackend(where: string, name: unknown, mode: Mode): KernelBackend {
  return name === 'cuda' ? createCudaBackend(where, mode, { ownContext: true }) : getBackend(where, name);
}
