// gemm (a fully connected layer) for the pure-JS backend: y[m×nOut] = x[m×k]·Wᵀ + b.
// W is packed once into the GEMM's MR-row panels; each call computes
// yᵀ = W·xᵀ with the same blocked driver as conv (xᵀ and yᵀ in scratch).
import { gemmPacked, packA, packedLength } from './gemm.js';
import { scratchF32 } from './scratch.js';

export interface JsGemmWeights {
  readonly backend: 'js';
  readonly nOut: number;
  readonly k: number;
  readonly a: Float32Array;
  readonly bias: Float32Array;
}

export function packGemm(weight: Float32Array, bias: Float32Array | null, nOut: number, k: number): JsGemmWeights {
  const a = new Float32Array(packedLength(nOut, k));
  packA(weight, 0, nOut, k, a, 0);
  const b = new Float32Array(nOut);
  if (bias) b.set(bias.subarray(0, nOut));
  return { backend: 'js', nOut, k, a, bias: b };
}

export function gemm(pw: JsGemmWeights, x: Float32Array, m: number, relu: boolean, y: Float32Array): void {
  const { nOut, k } = pw;
  if (m === 1) {
    // xᵀ is x and yᵀ is y: one column each.
    gemmPacked(nOut, 1, k, pw.a, 0, x, 0, 1, y, 0, 1, pw.bias, 0, null, 0, relu);
    return;
  }
  const s = scratchF32(m * (k + nOut));
  const yt = m * k;
  for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) s[j * m + i] = x[i * k + j];
  gemmPacked(nOut, m, k, pw.a, 0, s, 0, m, s, yt, m, pw.bias, 0, null, 0, relu);
  for (let i = 0; i < m; i++) for (let j = 0; j < nOut; j++) y[i * nOut + j] = s[yt + j * m + i];
}
