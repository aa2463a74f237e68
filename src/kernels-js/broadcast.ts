// numpy-broadcast elementwise a ∘ b (the plan's 'binary' step) and the stride
// form the planner gives it.
import type { BinaryFn } from '../backend/types.js';

/**
 * The strides that read a (of dims `a`) and b at each index of the broadcast
 * output `y` (0 where an operand is broadcast), with adjacent dims merged where
 * both operands stay contiguous across them: a per-channel scale of
 * [N, C, H, W] by [N, C, 1, 1] becomes dims [N·C, H·W], strides [H·W, 1] and [1, 0].
 */
export function broadcastStrides(a: readonly number[], b: readonly number[], y: readonly number[]): { dims: number[]; aStrides: number[]; bStrides: number[] } {
  const stridesOf = (d: readonly number[]): number[] => {
    const padded = [...new Array<number>(y.length - d.length).fill(1), ...d];
    const s = new Array<number>(y.length).fill(0);
    let acc = 1;
    for (let i = y.length - 1; i >= 0; i--) { s[i] = padded[i] === 1 && y[i] !== 1 ? 0 : acc; acc *= padded[i]!; }
    return s;
  };
  const as = stridesOf(a), bs = stridesOf(b);
  const dims: number[] = [], aStrides: number[] = [], bStrides: number[] = [];
  for (let i = 0; i < y.length; i++) {
    if (y[i] === 1) continue; // a size-1 dim moves no operand
    const k = dims.length - 1;
    const merges = k >= 0 && aStrides[k] === as[i]! * y[i]! && bStrides[k] === bs[i]! * y[i]!;
    if (merges) { dims[k]! *= y[i]!; aStrides[k] = as[i]!; bStrides[k] = bs[i]!; }
    else { dims.push(y[i]!); aStrides.push(as[i]!); bStrides.push(bs[i]!); }
  }
  if (dims.length === 0) return { dims: [1], aStrides: [0], bStrides: [0] };
  return { dims, aStrides, bStrides };
}

const OPS: Record<BinaryFn, (p: number, q: number) => number> = {
  add: (p, q) => p + q, sub: (p, q) => p - q, mul: (p, q) => p * q, div: (p, q) => p / q,
};

/** y = relu?(a ∘ b) over the strided index space (see PlanStep 'binary'). */
export function binary(fn: BinaryFn, relu: boolean, a: Float32Array, b: Float32Array, y: Float32Array, dims: readonly number[], aStrides: readonly number[], bStrides: readonly number[]): void {
  const op = OPS[fn];
  const rank = dims.length;
  const inner = dims[rank - 1]!, sa = aStrides[rank - 1]!, sb = bStrides[rank - 1]!;
  const idx = new Array<number>(rank).fill(0);
  const rows = dims.slice(0, -1).reduce((p, q) => p * q, 1);
  for (let r = 0, out = 0; r < rows; r++) {
    let ia = 0, ib = 0;
    for (let d = 0; d < rank - 1; d++) { ia += idx[d]! * aStrides[d]!; ib += idx[d]! * bStrides[d]!; }
    for (let i = 0; i < inner; i++, out++) {
      const v = op(a[ia + i * sa]!, b[ib + i * sb]!);
      y[out] = relu ? (v > 0 ? v : 0) : v;
    }
    for (let d = rank - 2; d >= 0; d--) { if (++idx[d]! < dims[d]!) break; idx[d] = 0; }
  }
}
