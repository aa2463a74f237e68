// Where each value of a plan lives and in what form: the one place that decides it. Every value is
// float32 NCHW (the IR's form) except between int8 steps: an int8 conv's, QLinearAdd's or int8
// max pool's output that only such steps (or an int8 global average pool) read, and that is no
// graph output, stays as the quantized bytes, u8 NHWC, in its slot (a slot sized in floats holds
// the bytes), so no step converts it. Each qconv step carries its input's and output's format
// (QConvIo), a qlinearAdd step u8 when its operands and result are bytes, an int8 max pool on
// bytes is a qu8MaxPool step, an int8 global average pool says whether it reads bytes; fetchIntermediates and validate read such a value back as the dequantized
// float32 NCHW tensor the user expects (readValue).
import type { Graph, Node, QuantParams } from '../graph/graph.js';

export interface ValueLayout {
  layout: 'nchw' | 'nhwc';
  dtype: 'f32' | 'u8';
}
/** A value's format; for u8, the quantization its bytes carry (zeroPoint in the u8 domain). */
export type ValueFormat = { layout: 'nchw'; dtype: 'f32' } | { layout: 'nhwc'; dtype: 'u8'; scale: number; zeroPoint: number };
/** A qconv step's input and output formats, and its fused residual's (Int8Conv.add). */
export interface QConvIo {
  x: ValueLayout;
  y: ValueLayout;
  r?: ValueLayout;
}

export const F32_NCHW: ValueFormat = { layout: 'nchw', dtype: 'f32' };

/** int8 tensors run as uint8 shifted by 128 (native/cpu/qgemm's u8 domain). */
const shiftOf = (q: QuantParams): number => (q.qmin < 0 ? 128 : 0);

/** The u8 domain of the bytes a node writes (int8 convs, QLinearAdds and int8 max pools), or null for any other node. */
function domainWritten(n: Node): { shift: number; q: QuantParams } | null {
  if (n.op === 'Conv' && n.attrs.int8?.add) return { shift: n.attrs.int8.add.q.shift, q: n.attrs.int8.add.q.y };
  if (n.op === 'Conv' && n.attrs.int8) return { shift: shiftOf(n.attrs.int8.y), q: n.attrs.int8.y };
  if (n.op === 'QLinearAdd') return { shift: n.attrs.shift, q: n.attrs.y };
  if (n.op === 'MaxPool' && n.attrs.int8) return { shift: shiftOf(n.attrs.int8), q: n.attrs.int8 };
  return null;
}

/** A node that writes bytes only from bytes: its inputs must be kept for its output to be. */
const bytesToBytes = (n: Node): boolean => n.op === 'QLinearAdd' || n.op === 'MaxPool';

/**
 * The values kept as u8 NHWC (every other value is F32_NCHW): outputs of int8 convs, QLinearAdds
 * and int8 max pools, no graph output, whose every reader reads the bytes in the same u8 domain
 * (an int8 conv's or int8 global average pool's input, or a QLinearAdd or int8 max pool whose
 * operands and result are all kept as u8), found as the
 * largest such set (candidates dropped until none breaks the rule).
 */
export function planFormats(graph: Graph, nodes: readonly Node[], int8Convs: boolean): Map<string, ValueFormat> {
  const formats = new Map<string, ValueFormat>();
  if (!int8Convs) return formats;
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const readers = new Map<string, Node[]>();
  const producer = new Map<string, Node>();
  for (const n of nodes) {
    producer.set(n.outputs[0]!, n);
    for (const i of n.inputs) if (i) (readers.get(i) ?? readers.set(i, []).get(i)!).push(n);
  }
  const kept = new Set<string>();
  for (const n of nodes) if (domainWritten(n) && !outputs.has(n.outputs[0]!) && (readers.get(n.outputs[0]!) ?? []).length > 0) kept.add(n.outputs[0]!);
  // A reader that can take v's bytes. A fused ReLU raises an int8 conv's y.qmin, which can move its
  // bytes off the shifted domain its readers expect: then the domains differ and v stays float32.
  const readsBytes = (r: Node, v: string, shift: number): boolean => {
    if (r.op === 'Conv' && r.attrs.int8) {
      // Its input, or the residual of a fused add: each in the domain that side reads.
      const add = r.attrs.int8.add;
      if (r.inputs[0] === v && shiftOf(r.attrs.int8.x) !== shift) return false;
      if (add && r.attrs.residual === v && add.q.shift !== shift) return false;
      return r.inputs[0] === v || (add !== undefined && r.attrs.residual === v);
    }
    if (r.op === 'QLinearAdd') return r.attrs.shift === shift && kept.has(r.outputs[0]!) && r.inputs.every((i) => kept.has(i));
    if (r.op === 'MaxPool' && r.attrs.int8) return shiftOf(r.attrs.int8) === shift && kept.has(r.outputs[0]!);
    // An int8 global average pool reads bytes (or float32) and writes float32.
    if (r.op === 'GlobalAveragePool' && r.attrs.int8) return shiftOf(r.attrs.int8.x) === shift;
    return false;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (const v of kept) {
      const p = producer.get(v)!;
      const { shift } = domainWritten(p)!;
      const ok = (!bytesToBytes(p) || p.inputs.every((i) => kept.has(i))) && readers.get(v)!.every((r) => readsBytes(r, v, shift));
      if (!ok) {
        kept.delete(v);
        changed = true;
      }
    }
  }
  for (const v of kept) {
    const { shift, q } = domainWritten(producer.get(v)!)!;
    formats.set(v, { layout: 'nhwc', dtype: 'u8', scale: q.scale, zeroPoint: q.zeroPoint + shift });
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
