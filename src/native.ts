// Loads the compiled addon once, lazily, so the JS backend works without it.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeBinding } from './native-binding.js';
import { BackendUnavailableError } from './errors.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** RESNODE_ADDON points at another build of the addon (e.g. the CUDA one in build-cuda/). */
export const ADDON_PATH = process.env.RESNODE_ADDON ?? join(root, 'build', 'Release', 'resnode.node');

let binding: NativeBinding | undefined;
let loadError: Error | undefined;

function missingAddonMessage(): string {
  return [
    `resnode: the native addon is not built (${ADDON_PATH} is missing).`,
    'Build it with `npm run build:native` inside the resnode package (needs g++ and python3).',
    'If resnode was installed as a dependency with npm 11, its install script was blocked:',
    'add "allowScripts": { "resnode": true } to your package.json and run `npm rebuild resnode`.',
    "The pure-JS kernels still work: pass { backend: 'js' }.",
  ].join('\n');
}

export function nativeBinding(): NativeBinding {
  if (binding) return binding;
  if (loadError) throw loadError;
  if (!existsSync(ADDON_PATH)) {
    loadError = new BackendUnavailableError(missingAddonMessage());
    throw loadError;
  }
  try {
    binding = createRequire(import.meta.url)(ADDON_PATH) as NativeBinding;
    return binding;
  } catch (err) {
    loadError = new BackendUnavailableError(
      `resnode: the native addon at ${ADDON_PATH} failed to load: ${(err as Error).message}\nRebuild it with \`npm run build:native\`.`,
    );
    throw loadError;
  }
}

export function nativeAvailable(): boolean {
  try {
    nativeBinding();
    return true;
  } catch {
    return false;
  }
}
