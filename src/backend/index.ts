// Picks a backend by name, creating each one once.
import { createCudaBackend } from './cuda.js';
import { invalid } from '../is.js';
import { jsBackend } from './js.js';
import { createNativeBackend } from './native.js';
import type { KernelBackend } from './types.js';
import { BACKEND_NAMES } from './name.js';

let native: KernelBackend | undefined;
let cuda: KernelBackend | undefined;

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
