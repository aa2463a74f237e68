// Softmax and LayerNormalization, accumulated in float64.

/** y = softmax of x viewed as [outer, n, inner], along n (max subtracted first). */
export function softmax(x: Float32Array, y: Float32Array, outer: number, n: number, inner: number): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * n * inner + j;
      let max = -Infinity;
      for (let i = 0; i < n; i++) max = Math.max(max, x[base + i * inner]!);
      let sum = 0;
      for (let i = 0; i < n; i++) sum += Math.exp(x[base + i * inner]! - max);
      for (let i = 0; i < n; i++) y[base + i * inner] = Math.exp(x[base + i * inner]! - max) / sum;
    }
  }
}

/** y = (x - mean) / sqrt(var + epsilon) · scale + bias over the last n of x viewed as [outer, n]. */
export function layerNorm(x: Float32Array, scale: Float32Array, bias: Float32Array | null, y: Float32Array, outer: number, n: number, epsilon: number): void {
  for (let o = 0; o < outer; o++) {
    const base = o * n;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[base + i]!;
    mean /= n;
    let variance = 0;
    for (let i = 0; i < n; i++) { const d = x[base + i]! - mean; variance += d * d; }
    const inv = 1 / Math.sqrt(variance / n + epsilon);
    for (let i = 0; i < n; i++) y[base + i] = (x[base + i]! - mean) * inv * scale[i]! + (bias ? bias[i]! : 0);
  }
}
