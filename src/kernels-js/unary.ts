// Elementwise functions of one input (the plan's 'unary' step), in float64
// arithmetic rounded once to float32: the JS backend's kernels and the
// reference the native SIMD kernels are tested against.
import type { UnaryFn } from '../backend/types.js';

/**
 * erf(x) to about 1e-12: its Taylor series below |x| = 4 (float64 keeps the
 * cancellation harmless there), ±1 beyond (erfc(4) ≈ 1.5e-8 is below float32's half ulp of 1).
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x >= 4) return 1;
  if (x <= -4) return -1;
  const x2 = x * x;
  let term = x, sum = x;
  for (let n = 1; n < 120; n++) {
    term *= -x2 / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** The function a unary step applies, as a float64 function of one value. */
export function unaryFunction(fn: UnaryFn, alpha: number, beta: number): (x: number) => number {
  switch (fn) {
    case 'sigmoid': return sigmoid;
    case 'silu': return (x) => x * sigmoid(x);
    case 'hardSigmoid': return (x) => Math.max(0, Math.min(1, alpha * x + beta));
    case 'hardSwish': return (x) => x * Math.max(0, Math.min(1, alpha * x + beta));
    // NaN passes through, as ONNX Runtime's Clip does.
    case 'clip': return (x) => (x < alpha ? alpha : x > beta ? beta : x);
    case 'erf': return erf;
    case 'gelu': return (x) => x * (erf(x / alpha) + 1) * beta;
  }
}

/** y[0, count) = f(x[0, count)); y may be x. */
export function unary(fn: UnaryFn, alpha: number, beta: number, x: Float32Array, y: Float32Array, count: number): void {
  const f = unaryFunction(fn, alpha, beta);
  for (let i = 0; i < count; i++) y[i] = f(x[i]!);
}
