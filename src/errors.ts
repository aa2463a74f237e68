// Errors resnode throws on purpose. Argument errors are plain TypeError and
// RangeError (named by src/is.ts); these classes cover the rest.

/** A model file or graph that resnode cannot load or run. */
export class ModelError extends Error {
  override name = 'ModelError';
}

/** A requested backend that is not available on this machine or build. */
export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
}

/**
 * Native async work rejects from a libuv thread with no JavaScript frames in its
 * stack. Capture the caller's stack before the call and graft it on, as sharp
 * does, so a failure points at the user's line.
 */
export async function withCallerStack<T>(work: () => Promise<T>): Promise<T> {
  const site = new Error();
  try {
    return await work();
  } catch (err) {
    if (err instanceof Error && site.stack) {
      const frames = site.stack.split('\n').slice(1).join('\n');
      err.stack = `${err.name}: ${err.message}\n${frames}`;
    }
    throw err;
  }
}

/** An optional peer dependency (onnxruntime-node, sharp) that a feature needs is not installed. */
export class MissingDependencyError extends Error {
  override name = 'MissingDependencyError';
}
