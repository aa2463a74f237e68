// Element-wise add (+ReLU) and globalAveragePool for the pure-JS backend.

/** y = a + b, clamped at 0 when relu. y may alias a or b. */
export function add(a: Float32Array, b: Float32Array, y: Float32Array, relu: boolean): void {
  const n = y.length;
  if (relu) {
    for (let i = 0; i < n; i++) {
      const v = a[i] + b[i];
      y[i] = v > 0 ? v : 0;
    }
  } else {
    for (let i = 0; i < n; i++) y[i] = a[i] + b[i];
  }
}

/** y[i] = mean of x[i·hw … (i+1)·hw) for i < n·c, summed in float64; with nhwc, x is [n, hw, c]. */
export function globalAveragePool(x: Float32Array, y: Float32Array, n: number, c: number, hw: number, nhwc = false): void {
  if (nhwc) return globalAveragePoolNhwc(x, y, n, c, hw);
  const planes = n * c;
  const inv = hw > 0 ? 1 / hw : 0;
  for (let p = 0, s = 0; p < planes; p++) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    const end = s + hw;
    for (; s + 4 <= end; s += 4) {
      s0 += x[s]; s1 += x[s + 1]; s2 += x[s + 2]; s3 += x[s + 3];
    }
    for (; s < end; s++) s0 += x[s];
    y[p] = (s0 + s1 + s2 + s3) * inv;
  }
}

function globalAveragePoolNhwc(x: Float32Array, y: Float32Array, n: number, c: number, hw: number): void {
  const sums = new Float64Array(c);
  for (let b = 0; b < n; b++) {
    sums.fill(0);
    for (let i = 0, at = b * hw * c; i < hw; i++, at += c) for (let ch = 0; ch < c; ch++) sums[ch] += x[at + ch]!;
    for (let ch = 0; ch < c; ch++) y[b * c + ch] = sums[ch]! / hw;
  }
}
