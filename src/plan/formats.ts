// Where each value of a plan lives and in what form: the one place that decides it. Every value is
// float32 NCHW (the IR's form) except between int8 convs: a qconv output that only qconvs read,
// and that is no graph output, stays as the quantized bytes, u8 NHWC, in its slot (a slot sized
// in floats holds the bytes), so neither step converts it. Each qconv step carries its input's
// and output's format (QConvIo); fetchIntermediates and validate read such a value back as the
// dequantized float32 NCHW tensor the user expects (readValue).
import type { Graph, Node, QuantParams } from '../graph/graph.js';

export interface ValueLayout {
  layout: 'nchw' | 'nhwc';
  dtype: 'f32' | 'u8';
}
/** A value's format; for u8, the quantization its bytes carry (zeroPoint in the u8 domain). */
export type ValueFormat = { layout: 'nchw'; dtype: 'f32' } | { layout: 'nhwc'; dtype: 'u8'; scale: number; zeroPoint: number };
/** A qconv step's input and output formats. */
export interface QConvIo {
  x: ValueLayout;
  y: ValueLayout;
}

export const F32_NCHW: ValueFormat = { layout: 'nchw', dtype: 'f32' };

/** int8 tensors run as uint8 shifted by 128 (native/cpu/qgemm's u8 domain). */
const shiftOf = (q: QuantParams): number => (q.qmin < 0 ? 128 : 0);

/** The values kept as u8 NHWC (every other value is F32_NCHW). */
export function planFormats(graph: Graph, nodes: readonly Node[], int8Convs: boolean): Map<string, ValueFormat> {
  const formats = new Map<string, ValueFormat>();
  if (!int8Convs) return formats;
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const readers = new Map<string, Node[]>();
  for (const n of nodes) for (const i of n.inputs) if (i) (readers.get(i) ?? readers.set(i, []).get(i)!).push(n);
  for (const n of nodes) {
    if (n.op !== 'Conv' || !n.attrs.int8) continue;
    const v = n.outputs[0]!;
    const y = n.attrs.int8.y;
    const rs = readers.get(v) ?? [];
    // The readers' input bytes must be the producer's output bytes: the same u8 domain (a fused
    // ReLU raises y.qmin, which can move an int8 tensor's range off the shifted one).
    const u8 = rs.length > 0 && !outputs.has(v) && rs.every((r) => r.op === 'Conv' && r.attrs.int8 !== undefined && r.inputs[0] === v && shiftOf(r.attrs.int8.x) === shiftOf(y));
    if (u8) formats.set(v, { layout: 'nhwc', dtype: 'u8', scale: y.scale, zeroPoint: y.zeroPoint + shiftOf(y) });
  }
  return formats;
}

export const layoutOf = (f: ValueFormat | undefined): ValueLayout => (f ? { layout: f.layout, dtype: f.dtype } : { layout: 'nchw', dtype: 'f32' });

/** A copy of the value as float32 NCHW (dims [n, c, h, w]), dequantized from its u8 NHWC bytes where it is kept so. */
export function readValue(format: ValueFormat | undefined, buffer: Float32Array, dims: readonly number[]): Float32Array {
  const count = dims.reduce((p, d) => p * d, 1);
  if (!format || format.dtype === 'f32') return buffer.slice(0, count);
  const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, count);
  const [n, c, h, w] = dims as [number, number, number, number];
  const hw = h * w;
  const out = new Float32Array(count);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < hw; i++)
      for (let ch = 0; ch < c; ch++) out[(b * c + ch) * hw + i] = Math.fround((bytes[(b * hw + i) * c + ch]! - format.zeroPoint) * format.scale);
  return out;
}
