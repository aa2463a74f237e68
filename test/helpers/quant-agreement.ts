// How far resnode's run of a quantized model lands from ONNX Runtime's: the
// fraction of identical output elements and the largest difference in
// quantization steps (the output's scale).
export interface Agreement { identical: number; maxSteps: number }

export function agreement(ours: Float32Array, theirs: Float32Array, step: number): Agreement {
  let same = 0;
  let maxSteps = 0;
  for (let i = 0; i < theirs.length; i++) {
    const d = Math.abs(ours[i]! - theirs[i]!);
    if (d === 0) same++;
    maxSteps = Math.max(maxSteps, Number.isNaN(d) ? Infinity : d / step);
  }
  return { identical: ours.length === theirs.length ? same / theirs.length : 0, maxSteps };
}
