// Finds and loads the compiled addon once, lazily, so the JS backend works
// without it. Where it looks, in order:
//   1. RESNODE_ADDON, a path to a .node file (e.g. the CUDA build in build-cuda/);
//   2. node-gyp-build's rules under the package root: build/Release/resnode.node
//      (a build from source: contributors, `npx resnode build-native`), then
//      prebuilds/<platform>-<arch>/resnode.napi.<libc>.node, shipped in the package.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeBinding } from './native-binding.js';
import { BackendUnavailableError } from './errors.js';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

let binding: NativeBinding | undefined;
let loadError: BackendUnavailableError | undefined;
let loadedFrom: string | undefined;

const BUILD_HINT =
  'Build it from source with `npx resnode build-native` (needs g++ >= 10 and python3); ' +
  "until then the pure-JS kernels work: pass { backend: 'js' }.";

/** The addon file this platform would load, or why there is none. */
function resolveAddon(): { path: string } | { problem: string } {
  if (process.env.RESNODE_ADDON) return { path: process.env.RESNODE_ADDON };
  try {
    const gypBuild = require('node-gyp-build') as { path(dir: string): string };
    return { path: gypBuild.path(root) };
  } catch (err) {
    const platform = `${process.platform}-${process.arch}`;
    return {
      problem: `resnode: no native addon for ${platform} (no build/Release/resnode.node and no prebuilt binary for this platform; prebuilt: linux-x64 and linux-arm64 with glibc). ${BUILD_HINT}`,
    };
  }
}

export function nativeBinding(): NativeBinding {
  if (binding) return binding;
  if (loadError) throw loadError;
  const found = resolveAddon();
  if ('problem' in found) {
    loadError = new BackendUnavailableError(found.problem);
    throw loadError;
  }
  try {
    binding = require(found.path) as NativeBinding;
    loadedFrom = found.path;
    return binding;
  } catch (err) {
    const first = (err as Error).message.split('\n')[0];
    loadError = new BackendUnavailableError(`resnode: the native addon at ${found.path} failed to load: ${first}. ${BUILD_HINT}`);
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

/** Where the loaded addon came from, or why none loaded (for info()). */
export function nativeOrigin(): { addon: string } | { problem: string } {
  if (nativeAvailable()) return { addon: loadedFrom! };
  return { problem: loadError!.message };
}
