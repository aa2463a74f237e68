// Data movement steps: strided copies (Transpose, Slice) and Concat.

/** Row-major strides of dims. */
export function rowMajorStrides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  for (let i = dims.length - 1, acc = 1; i >= 0; i--) { s[i] = acc; acc *= dims[i]!; }
  return s;
}

/**
 * dims and strides with adjacent dims merged where x is contiguous across
 * them, and size-1 dims dropped: a channel slice of NCHW becomes [N, c·H·W].
 */
export function mergeStrided(dims: readonly number[], strides: readonly number[]): { dims: number[]; strides: number[] } {
  const d: number[] = [], s: number[] = [];
  dims.forEach((n, i) => {
    if (n === 1) return;
    const k = d.length - 1;
    if (k >= 0 && s[k] === strides[i]! * n) { d[k]! *= n; s[k] = strides[i]!; } else { d.push(n); s.push(strides[i]!); }
  });
  return d.length === 0 ? { dims: [1], strides: [1] } : { dims: d, strides: s };
}

/** y[i] = x[offset + Σ i_d·strides[d]] over the row-major index of dims. */
export function stridedCopy(x: Float32Array, y: Float32Array, dims: readonly number[], strides: readonly number[], offset: number): void {
  const rank = dims.length;
  const inner = dims[rank - 1]!, step = strides[rank - 1]!;
  const idx = new Array<number>(rank).fill(0);
  const rows = dims.slice(0, -1).reduce((p, q) => p * q, 1);
  for (let r = 0, out = 0; r < rows; r++) {
    let base = offset;
    for (let d = 0; d < rank - 1; d++) base += idx[d]! * strides[d]!;
    if (step === 1) { y.set(x.subarray(base, base + inner), out); out += inner; }
    else for (let i = 0; i < inner; i++) y[out++] = x[base + i * step]!;
    for (let d = rank - 2; d >= 0; d--) { if (++idx[d]! < dims[d]!) break; idx[d] = 0; }
  }
}

/** y = concat of xs along one axis: for each outer row, xs[k] adds chunks[k] floats. */
export function concat(xs: readonly Float32Array[], y: Float32Array, outer: number, chunks: readonly number[]): void {
  const row = chunks.reduce((p, q) => p + q, 0);
  for (let o = 0; o < outer; o++) {
    let at = o * row;
    xs.forEach((x, k) => {
      const c = chunks[k]!;
      y.set(x.subarray(o * c, o * c + c), at);
      at += c;
    });
  }
}

/** x [n, c, hw] -> y [n, hw, c] (to 'nhwc') or x [n, hw, c] -> y [n, c, hw] (to 'nchw'): a plan's reorder step. */
export function reorder(x: Float32Array, y: Float32Array, n: number, c: number, hw: number, to: 'nhwc' | 'nchw'): void {
  const [rows, cols] = to === 'nhwc' ? [c, hw] : [hw, c];
  for (let b = 0, o = 0; b < n; b++, o += c * hw)
    for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) y[o + k * rows + r] = x[o + r * cols + k]!;
}
