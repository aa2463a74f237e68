// Activation ranges from calibration batches: 'minmax' keeps the extremes;
// 'percentile' clips the 0.01% tails on each side (outliers would otherwise
// stretch the uint8 grid over values that hardly occur), from a bounded sample.
export type CalibrationMethod = 'minmax' | 'percentile';

/** Values kept per tensor for 'percentile' (a strided sample of each batch). */
const SAMPLE_PER_BATCH = 1 << 16;
const PERCENTILE = 0.9999;

export interface RangeAccumulator {
  readonly method: CalibrationMethod;
  min: number;
  max: number;
  sample: number[];
  add(values: Float32Array): void;
}

export function newRange(method: CalibrationMethod): RangeAccumulator {
  return {
    method, min: Infinity, max: -Infinity, sample: [],
    add(values) {
      for (let i = 0; i < values.length; i++) {
        const v = values[i]!;
        if (v < this.min) this.min = v;
        if (v > this.max) this.max = v;
      }
      if (method === 'percentile') {
        const stride = Math.max(1, Math.floor(values.length / SAMPLE_PER_BATCH));
        for (let i = 0; i < values.length; i += stride) this.sample.push(values[i]!);
      }
    },
  };
}

/** [lo, hi] of the values seen (NaN-free; [0, 0] when nothing finite was seen). */
export function activationRange(r: RangeAccumulator): [number, number] {
  if (!(r.min <= r.max)) return [0, 0];
  if (r.method === 'minmax' || r.sample.length === 0) return [r.min, r.max];
  const s = Float64Array.from(r.sample).sort();
  const at = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))]!;
  return [at(1 - PERCENTILE), at(PERCENTILE)];
}
