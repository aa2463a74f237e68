// Output-size arithmetic shared by the ops API, graph shape inference and the kernels' callers.

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
