// onnxruntime-node and sharp are optional peer dependencies: only validate,
// bench and demo need ONNX Runtime, only image preprocessing needs sharp, and
// `import 'resnode'` loads neither. Each is imported on first use; without it
// the caller gets one line saying what to install.
import type * as OrtModule from 'onnxruntime-node';
import type SharpModule from 'sharp';
import { MissingDependencyError } from './errors.js';

export type Ort = typeof OrtModule;
export type Sharp = typeof SharpModule;

const cache = new Map<string, Promise<unknown>>();

type ModuleNamespace = Record<string, unknown> & { default?: unknown };

async function importOptional<T>(name: string, usedBy: string, pick: (m: ModuleNamespace) => T): Promise<T> {
  let loading = cache.get(name) as Promise<T> | undefined;
  if (!loading) {
    loading = (import(name) as Promise<ModuleNamespace>).then(pick, (err: NodeJS.ErrnoException) => {
      cache.delete(name);
      if (err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes(`'${name}'`)) {
        throw new MissingDependencyError(`${usedBy} needs the optional dependency ${name}: run \`npm install ${name}\``);
      }
      throw new MissingDependencyError(`${usedBy} needs ${name}, which is installed but failed to load: ${String(err.message).split('\n')[0]}`);
    });
    cache.set(name, loading);
  }
  return loading;
}

/** ONNX Runtime, for `usedBy` (e.g. "validate"). */
export function loadOrt(usedBy: string): Promise<Ort> {
  // Its CommonJS exports arrive as named exports, or only as the default one.
  return importOptional('onnxruntime-node', usedBy, (m) => (m.InferenceSession ? m : m.default) as Ort);
}

/** sharp, for `usedBy` (e.g. "preprocess"). */
export function loadSharp(usedBy: string): Promise<Sharp> {
  return importOptional('sharp', usedBy, (m) => (m.default ?? m) as Sharp);
}
