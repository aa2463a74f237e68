// The one place where comparison tolerances live, and the comparison itself.
// Rule (the ONNX backend-test runner's): |actual − expected| ≤ atol + rtol·|expected|.
import type { ExecutionContext } from 'ava';
import { MODES } from '../../src/modes.js';

export interface Tolerance {
  atol: number;
  rtol: number;
}

// Per-kernel bounds come from the mode table (src/modes.ts), the one place they are stated.
export const TOLERANCE = {
  /** Direct float32 kernels (im2col + GEMM, pools, eltwise) against float64. */
  exact: MODES.exact.kernel,
  /** Winograd F(4×4,3×3)/F(2×2,3×3), the fast mode's: the transforms cost a few ulps more. */
  winograd: MODES.fast.kernel,
} as const satisfies Record<string, Tolerance>;

export type ToleranceMode = keyof typeof TOLERANCE;

export interface Mismatch {
  /** elements outside the tolerance */
  count: number;
  /** the element with the largest excess over its allowance */
  index: number;
  actual: number;
  expected: number;
  absError: number;
  allowed: number;
}

type Numeric = ArrayLike<number>;

/** Returns the worst element outside the tolerance, or null when all pass (NaN never passes unless both are NaN). */
export function findMismatch(actual: Numeric, expected: Numeric, tol: Tolerance): Mismatch | null {
  if (actual.length !== expected.length) {
    return { count: Math.abs(actual.length - expected.length), index: -1, actual: actual.length, expected: expected.length, absError: Infinity, allowed: 0 };
  }
  let worst: Mismatch | null = null;
  let worstExcess = -Infinity;
  let count = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(a) && Number.isNaN(e)) continue;
    if (a === e) continue; // equal infinities
    const err = Math.abs(a - e);
    const allowed = tol.atol + tol.rtol * Math.abs(e);
    if (err <= allowed) continue;
    count++;
    const excess = Number.isNaN(err) ? Infinity : err - allowed;
    if (excess > worstExcess || worst === null) {
      worstExcess = excess;
      worst = { count: 0, index: i, actual: a, expected: e, absError: err, allowed };
    }
  }
  if (worst) worst.count = count;
  return worst;
}

/** Formats a flat index as [i, j, …] for the given dims. */
export function formatIndex(index: number, dims?: readonly number[]): string {
  if (!dims || index < 0) return String(index);
  const at: number[] = [];
  let r = index;
  for (let d = dims.length - 1; d >= 0; d--) {
    at.unshift(r % dims[d]);
    r = Math.floor(r / dims[d]);
  }
  return `${index} [${at.join(', ')}]`;
}

export function describeMismatch(m: Mismatch, tol: Tolerance, total: number, dims?: readonly number[]): string {
  if (m.index < 0) return `length mismatch: actual ${m.actual}, expected ${m.expected}`;
  return `${m.count}/${total} elements outside |a−e| ≤ ${tol.atol} + ${tol.rtol}·|e|; worst at ${formatIndex(m.index, dims)}: ` +
    `actual ${m.actual}, expected ${m.expected}, |a−e| = ${m.absError.toExponential(3)} > ${m.allowed.toExponential(3)}`;
}

/** Passes when every element satisfies |a−e| ≤ atol + rtol·|e|; otherwise fails, naming the worst element. */
export function assertClose(
  t: ExecutionContext, actual: Numeric, expected: Numeric,
  tol: Tolerance | ToleranceMode = 'exact', opts: { dims?: readonly number[]; message?: string } = {},
): boolean {
  const tt = typeof tol === 'string' ? TOLERANCE[tol] : tol;
  const m = findMismatch(actual, expected, tt);
  if (!m) {
    t.pass();
    return true;
  }
  t.fail(`${opts.message ? `${opts.message}: ` : ''}${describeMismatch(m, tt, actual.length, opts.dims)}`);
  return false;
}
