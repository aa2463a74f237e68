// ONNX Runtime as the reference runtime for model-level tests. Imported on
// first use, so tests that only need relativeToMax run where ORT cannot load
// (the arm64 job under qemu).
import type * as Ort from 'onnxruntime-node';
import type { Tensor } from '../../src/index.js';

export async function ortRun(bytes: Uint8Array, feeds: Record<string, Tensor>, threads = 2): Promise<Record<string, Float32Array>> {
  const ort: typeof Ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1 });
  try {
    const f: Record<string, Ort.Tensor> = {};
    for (const [k, t] of Object.entries(feeds)) f[k] = new ort.Tensor('float32', t.data, [...t.dims]);
    const out = await session.run(f);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
  } finally {
    await session.release();
  }
}

/** max|a−e| / max|e|, computed independently of src/validate.ts. */
export function relativeToMax(actual: Float32Array, expected: Float32Array): number {
  if (actual.length !== expected.length) return Infinity;
  let err = 0;
  let mag = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (Number.isNaN(d)) return Infinity;
    err = Math.max(err, d);
    mag = Math.max(mag, Math.abs(expected[i]!));
  }
  return err / mag;
}
