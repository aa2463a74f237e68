// Shared plumbing for the kernels' property tests: fast-check settings, data
// from a per-case seed, and a cache so that each random configuration's
// float64 reference is computed once and shared by every backend variant.
import fc from 'fast-check';
import { findMismatch, describeMismatch, TOLERANCE, type Tolerance } from './tolerance.js';

/** Random configurations per op and variant (RESNODE_FC_RUNS overrides). */
export const RUNS = Number(process.env.RESNODE_FC_RUNS ?? 300);
/** fast-check seed (RESNODE_FC_SEED overrides; a failure prints the seed and path to replay). */
export const SEED = Number(process.env.RESNODE_FC_SEED ?? 20261129);

export function fcParams<T>(): fc.Parameters<T> {
  return { numRuns: RUNS, seed: SEED };
}

/** A seed for a case's data, so that the same configuration always gets the same tensors. */
export const dataSeed = fc.integer({ min: 1, max: 0x7fffffff });

export class ReferenceCache<T> {
  private readonly map = new Map<string, T>();
  get(key: unknown, compute: () => T): T {
    const k = JSON.stringify(key);
    let v = this.map.get(k);
    if (v === undefined) {
      v = compute();
      this.map.set(k, v);
    }
    return v;
  }
}

/** Throws (for fast-check to shrink) when actual and expected differ beyond tol. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, dims?: readonly number[], tol: Tolerance = TOLERANCE.exact): void {
  const m = findMismatch(actual, expected, tol);
  if (m) throw new Error(`${what}: ${describeMismatch(m, tol, actual.length, dims)}`);
}

/** Throws when dims differ. */
export function expectDims(actual: readonly number[], expected: readonly number[], what: string): void {
  if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i])) {
    throw new Error(`${what}: dims [${actual.join(', ')}], expected [${expected.join(', ')}]`);
  }
}
