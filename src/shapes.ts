// Size arithmetic shared by the ops API, graph shape inference, the planner and
// the kernels' callers (a leaf module: it imports nothing). The addon checks
// the same rule once, in native/cpu/shape.h.

/** The number of elements of a tensor with these dims. */
export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** ONNX/PyTorch convolution output extent along one axis (floor mode). */
export function convOutputSize(input: number, kernel: number, stride: number, padBegin: number, padEnd: number, dilation: number): number {
  return Math.floor((input + padBegin + padEnd - dilation * (kernel - 1) - 1) / stride) + 1;
}

/**
 * Pool output extent. With ceilMode a last window may start in the end padding,
 * but never past it: PyTorch's rule, which ONNX Runtime follows.
 */
export function poolOutputSize(input: number, kernel: number, stride: number, padBegin: number, padEnd: number, dilation: number, ceilMode: boolean): number {
  const span = input + padBegin + padEnd - dilation * (kernel - 1) - 1;
  if (!ceilMode) return Math.floor(span / stride) + 1;
  let out = Math.ceil(span / stride) + 1;
  if ((out - 1) * stride >= input + padBegin) out -= 1;
  return out;
}
