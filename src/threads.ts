// The process-wide default thread count for native kernels (a call's or a
// model's `threads` option overrides it).
import { availableParallelism } from 'node:os';
import { positiveInt } from './is.js';
import { nativeAvailable, nativeBinding } from './native.js';

let threads = availableParallelism();

export function currentThreads(): number {
  return threads;
}

/** Sets the default number of threads native kernels use (the calling thread counts as one). */
export function setThreads(n: number): void {
  threads = positiveInt('setThreads', 'n', n);
  if (nativeAvailable()) nativeBinding().setThreads(threads);
}
