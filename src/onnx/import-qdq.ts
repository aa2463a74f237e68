// QuantizeLinear / DequantizeLinear (the QDQ form of quantized models, as ONNX
// Runtime's quantize_static and our quantize() write them) → the IR:
// - DequantizeLinear of an integer initializer (int8/uint8 weights, int32
//   biases; per tensor or per channel) is folded once into a float32 initializer;
// - QuantizeLinear of a float initializer is folded into an integer one;
// - QuantizeLinear → DequantizeLinear on an activation (per tensor) becomes one
//   QuantizeDequantize node, computed in float32 (see src/graph/graph.ts); a
//   DequantizeLinear that reads the integers with another scale (same zero
//   point) becomes one Requantize step instead.
// Malformed quantization parameters are reported through `bad`, so they end in
// the importer's one OnnxImportError.
import type { Initializer, Node, QuantParams, WeightQuant } from '../graph/graph.js';
import { elementCount } from '../shapes.js';
import { QUANT_RANGES, dequantizeValue, quantizeValue, type QuantType } from '../quant/linear.js';
import { DataType, DATA_TYPE_NAMES } from './proto.js';
import type { NodeProtoLike } from './proto.js';

/** An integer constant: shapes, pads, axes, and quantized tensors (dataType INT8, UINT8, INT32 ...). */
export interface IntConst { dims: number[]; data: number[]; dataType?: number }

/** A QuantizeLinear output on an activation: what its DequantizeLinear readers undo. */
export interface QuantizedValue extends QuantParams { input: string }

/** How a float initializer folded from DequantizeLinear was stored. */
export interface DequantizedConst {
  type: QuantType;
  scales: number[];
  zeroPoints: number[];
  /** The axis its scales run along; -1 for one scale. */
  axis: number;
}

export interface QdqNodeContext {
  op: 'QuantizeLinear' | 'DequantizeLinear';
  name: string;
  /** The node's inputs, aliases resolved ('' where absent). */
  ins: string[];
  out: string;
  /** The axis attribute (default 1). */
  axis: number;
  opset: number;
  floats: Map<string, Initializer>;
  ints: Map<string, IntConst>;
  /** Values whose definition already failed (what reads them reports nothing more). */
  failed: Set<string>;
  quantized: Map<string, QuantizedValue>;
  dequantized: Map<string, DequantizedConst>;
  bad(msg: string): void;
  push(n: Node): void;
  /** The nodes that read a value, or null when it is a graph output. */
  readers(value: string): NodeProtoLike[] | null;
}

const TYPE_OF: Partial<Record<number, QuantType>> = { [DataType.UINT8]: 'uint8', [DataType.INT8]: 'int8', [DataType.INT32]: 'int32' };

interface Params {
  scales: Float32Array;
  zeroPoints: number[];
  type: QuantType;
  /** The axis the scales run along, or -1 for one scale. */
  axis: number;
}

/**
 * The scale and zero point of a Q/DQ node, checked against the tensor (dims)
 * they apply to: null (after reporting) when they are malformed.
 */
function readParams(c: QdqNodeContext, dims: readonly number[] | null, allowInt32: boolean): Params | null {
  const [, scaleName, zpName] = c.ins;
  if (scaleName && c.failed.has(scaleName)) return null;
  if (zpName && c.failed.has(zpName)) return null;
  const scaleT = scaleName ? c.floats.get(scaleName) : undefined;
  if (!scaleT) {
    c.bad(`scale${scaleName ? ` "${scaleName}"` : ''} must be a constant float initializer (scales computed at run time are not supported)`);
    return null;
  }
  const scales = scaleT.data;
  const bad = [...scales].findIndex((s) => !(s > 0) || !Number.isFinite(s));
  if (bad >= 0) { c.bad(`scale "${scaleName}" must be positive and finite, but element ${bad} is ${scales[bad]}`); return null; }
  let type: QuantType = 'uint8';
  let zeroPoints = new Array<number>(scales.length).fill(0);
  if (zpName) {
    const zp = c.ints.get(zpName);
    if (!zp) { c.bad(`zero point "${zpName}" must be a constant integer initializer`); return null; }
    const t = TYPE_OF[zp.dataType ?? -1];
    if (!t || (t === 'int32' && !allowInt32)) {
      c.bad(`zero point "${zpName}" has data type ${DATA_TYPE_NAMES[zp.dataType ?? 0] ?? zp.dataType}; expected UINT8 or INT8${allowInt32 ? ' (or INT32)' : ''}`);
      return null;
    }
    type = t;
    if (zp.data.length !== scales.length) {
      c.bad(`zero point "${zpName}" has ${zp.data.length} elements but scale "${scaleName}" has ${scales.length}`);
      return null;
    }
    const { qmin, qmax } = QUANT_RANGES[t];
    const out = zp.data.findIndex((z) => !Number.isInteger(z) || z < qmin || z > qmax);
    if (out >= 0) { c.bad(`zero point "${zpName}" element ${out} is ${zp.data[out]}, outside the ${t} range [${qmin}, ${qmax}]`); return null; }
    zeroPoints = zp.data;
  }
  const perTensor = elementCount(scaleT.dims) === 1 && scaleT.dims.length <= 1;
  if (perTensor) return { scales, zeroPoints, type, axis: -1 };
  if (scaleT.dims.length !== 1) { c.bad(`scale "${scaleName}" must be a scalar or 1-D (per channel), got dims [${scaleT.dims.join(', ')}]`); return null; }
  if (!dims) { c.bad(`per-channel scale "${scaleName}" (${scales.length} values) on an activation is not supported; only weights may be quantized per channel`); return null; }
  const axis = c.axis < 0 ? c.axis + dims.length : c.axis;
  if (axis < 0 || axis >= dims.length) { c.bad(`axis ${c.axis} is out of range for a tensor of dims [${dims.join(', ')}]`); return null; }
  if (dims[axis] !== scales.length) {
    c.bad(`scale "${scaleName}" has ${scales.length} elements but axis ${axis} of [${dims.join(', ')}] has ${dims[axis]} (per-channel lengths must match)`);
    return null;
  }
  return { scales, zeroPoints, type, axis };
}

/**
 * Calls run(start, end, channel) for each run of consecutive elements that share one channel
 * along `axis` of dims (one run for per-tensor): the loops inside stay free of index arithmetic.
 */
function forEachChannelRun(dims: readonly number[], axis: number, channels: number, run: (start: number, end: number, channel: number) => void): void {
  const n = elementCount(dims);
  const inner = axis < 0 ? n : elementCount(dims.slice(axis + 1));
  for (let start = 0, k = 0; start < n; start += inner, k = (k + 1) % channels) run(start, Math.min(n, start + inner), axis < 0 ? 0 : k);
}

export function importQdqNode(c: QdqNodeContext): void {
  const [x] = c.ins;
  if (!x) { c.bad('input 0 is missing'); return; }
  const fail = (): void => { c.failed.add(c.out); };
  if (c.failed.has(x)) return fail();
  if (c.op === 'DequantizeLinear') {
    const q = c.ints.get(x);
    if (q) {
      // An integer initializer: dequantized once, here.
      const p = readParams(c, q.dims, true);
      if (!p) return fail();
      const xType = TYPE_OF[q.dataType ?? -1];
      if (xType !== p.type && c.ins[2]) { c.bad(`input "${x}" is ${xType ?? DATA_TYPE_NAMES[q.dataType ?? 0]} but its zero point is ${p.type}`); return fail(); }
      if (!c.ins[2] && xType) p.type = xType; // no zero point: the input's own type (an int32 bias, say)
      const data = new Float32Array(q.data.length);
      forEachChannelRun(q.dims, p.axis, p.scales.length, (start, end, k) => {
        const scale = p.scales[k]!, zeroPoint = p.zeroPoints[k]!;
        for (let i = start; i < end; i++) data[i] = dequantizeValue(q.data[i]!, scale, zeroPoint);
      });
      c.floats.set(c.out, { dims: [...q.dims], data });
      c.dequantized.set(c.out, { type: p.type, scales: [...p.scales], zeroPoints: p.zeroPoints, axis: p.axis });
      return;
    }
    const qv = c.quantized.get(x);
    if (!qv) {
      c.bad(`input "${x}" must be the output of a QuantizeLinear or an integer initializer`);
      return fail();
    }
    const p = readParams(c, null, false);
    if (!p) return fail();
    if (p.zeroPoints[0] !== qv.zeroPoint || QUANT_RANGES[p.type].qmin !== qv.qmin) {
      c.bad(`its zero point (${p.zeroPoints[0]} ${p.type}) differs from that of the QuantizeLinear that wrote "${x}" (${qv.zeroPoint}); only pairs with one zero point are supported`);
      return fail();
    }
    const { scale, zeroPoint, qmin, qmax } = qv;
    if (p.scales[0] !== scale) {
      // The integers read with another scale (a QOperator consumer whose x_scale differs from its producer's y_scale).
      c.push({ name: c.name, op: 'Requantize', inputs: [qv.input], outputs: [c.out], attrs: { multipliers: [1], divisor: scale, zeroPoint, qmin, qmax, outScale: p.scales[0]! } });
      return;
    }
    c.push({ name: c.name, op: 'QuantizeDequantize', inputs: [qv.input], outputs: [c.out], attrs: { scale, zeroPoint, qmin, qmax } });
    return;
  }
  // QuantizeLinear
  const w = c.floats.get(x);
  const p = readParams(c, w ? w.dims : null, false);
  if (!p) return fail();
  const { qmin, qmax } = QUANT_RANGES[p.type];
  if (w) {
    const data = new Array<number>(w.data.length);
    forEachChannelRun(w.dims, p.axis, p.scales.length, (start, end, k) => {
      const scale = p.scales[k]!, zeroPoint = p.zeroPoints[k]!;
      for (let i = start; i < end; i++) data[i] = quantizeValue(w.data[i]!, scale, zeroPoint, qmin, qmax);
    });
    c.ints.set(c.out, { dims: [...w.dims], data, dataType: p.type === 'int8' ? DataType.INT8 : DataType.UINT8 });
    return;
  }
  if (c.ints.has(x)) { c.bad(`input "${x}" is an integer constant; QuantizeLinear needs a float input`); return fail(); }
  const readers = c.readers(c.out);
  const undoes = (r: NodeProtoLike): boolean => (r.opType === 'DequantizeLinear' && (!r.domain || r.domain === 'ai.onnx')) || (r.opType === 'IntegersOf' && r.domain === INTERNAL_DOMAIN);
  if (readers === null || !readers.every(undoes)) {
    c.bad(`its ${p.type} output "${c.out}" is ${readers === null ? 'a graph output' : 'read by a node other than DequantizeLinear'}; quantized activations are only supported between a QuantizeLinear and DequantizeLinear`);
    return fail();
  }
  c.quantized.set(c.out, { input: x, scale: p.scales[0]!, zeroPoint: p.zeroPoints[0]!, qmin, qmax });
}

/** The domain of the IntegersOf nodes only import-qoperator.ts writes (the inputs of MatMulInteger/ConvInteger). */
export const INTERNAL_DOMAIN = 'resnode.internal';

export interface IntegersOfContext {
  name: string;
  /** [a, a_zero_point or ''], aliases resolved. */
  ins: string[];
  out: string;
  ints: Map<string, IntConst>;
  failed: Set<string>;
  quantized: Map<string, QuantizedValue>;
  bad(msg: string): void;
  push(n: Node): void;
}

/**
 * The integers a − a_zero_point of a quantized activation (the input of a MatMulInteger or ConvInteger, see
 * import-qoperator.ts): one Requantize step from the float value its QuantizeLinear quantized. Only an a_zero_point
 * equal to that QuantizeLinear's is supported (so that a ConvInteger's padding, which is a_zero_point, stays 0).
 */
export function importIntegersOf(c: IntegersOfContext): void {
  const [a, zpName] = c.ins;
  if (!a || c.failed.has(a)) { c.failed.add(c.out); return; }
  const qv = c.quantized.get(a);
  if (!qv) { c.bad(`input "${a}" must be the output of a QuantizeLinear with constant parameters (inputs quantized at run time, by DynamicQuantizeLinear, are not supported)`); c.failed.add(c.out); return; }
  const zp = zpName ? c.ints.get(zpName) : { dims: [], data: [0] };
  if (!zp || zp.data.length !== 1 || zp.data[0] !== qv.zeroPoint) {
    c.bad(`zero point ${zpName ? `"${zpName}"` : '(absent: 0)'} must be one constant equal to the zero point ${qv.zeroPoint} of the QuantizeLinear that wrote "${a}"`);
    c.failed.add(c.out);
    return;
  }
  // (clamp(round(x / scale) + z, qmin, qmax) − z) · 1: exports as QuantizeLinear → DequantizeLinear with scale 1.
  c.push({ name: c.name, op: 'Requantize', inputs: [qv.input], outputs: [c.out], attrs: { multipliers: [1], divisor: qv.scale, zeroPoint: qv.zeroPoint, qmin: qv.qmin, qmax: qv.qmax, outScale: 1 } });
}

/**
 * The WeightQuant of a Conv or Gemm whose weight (and bias) were folded from
 * DequantizeLinear, when the weight's scales run along `outAxis` (its output
 * channels) or are one: so that exporting the node writes them back quantized.
 */
export function weightQuantOf(dequantized: ReadonlyMap<string, DequantizedConst>, weight: string, bias: string, outAxis: number): WeightQuant | undefined {
  const w = dequantized.get(weight);
  if (!w || w.type === 'int32' || (w.axis !== -1 && w.axis !== outAxis)) return undefined;
  const b = bias ? dequantized.get(bias) : undefined;
  const biasOk = b && b.type === 'int32' && b.zeroPoints.every((z) => z === 0);
  return { type: w.type, scales: w.scales, zeroPoints: w.zeroPoints, ...(biasOk ? { biasScales: b.scales } : {}) };
}
