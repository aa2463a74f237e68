// The QOperator form of quantized models (QLinearConv, QLinearMatMul, ORT's
// com.microsoft QLinearAdd, QGemm, QLinearConcat, QLinearLeakyRelu ...) → the QDQ form, before
// import: each node is expanded into DequantizeLinear of its quantized inputs →
// the float op → QuantizeLinear of its output, reading the node's own scale and
// zero-point initializers. import-qdq.ts then folds the pairs into the IR as it
// does for QDQ files (QuantizeDequantize nodes, integer weights with
// WeightQuant), so the planner's integer pass and the int8 engines see one form.
//
// Ops that only move or select quantized values (MaxPool, Reshape, Flatten,
// Transpose, Identity), which ORT's quantizer leaves running on uint8 tensors,
// are wrapped the same way with their input's scale and zero point: exact,
// since quantization is monotonic and these ops neither add nor scale values.
//
// A QLinearConv's or QGemm's int32 bias carries the implicit scale
// x_scale · w_scale (per output channel), formed here in float32 as ORT does.
//
// MatMulInteger and ConvInteger (int32 out) become MatMul/Conv of the
// integers a − a_zero_point (an internal IntegersOf node, which import-qdq.ts
// turns into a Requantize step) and the float32 weights b − b_zero_point: the
// float32 kernels sum integers, exact while |partial sums| < 2^24, as in the
// planner's integer pass. Their int32 outputs are float32 tensors holding
// integers, and a Cast of one to FLOAT is an identity.
import type { Initializer } from '../graph/graph.js';
import { elementCount } from '../shapes.js';
import { QUANT_RANGES } from '../quant/linear.js';
import { INTERNAL_DOMAIN, type IntConst } from './import-qdq.js';
import { AttrType, DataType, DATA_TYPE_NAMES, toNum } from './proto.js';
import type { AttributeProtoLike, NodeProtoLike } from './proto.js';

/** The QOperator node an expanded node came from, for messages: node "c1" (QLinearConv, dequantizing x). */
export interface QOperatorOrigin { name: string; op: string; part: string }

export interface ExpandedNodes {
  nodes: NodeProtoLike[];
  origin: Map<NodeProtoLike, QOperatorOrigin>;
}

export const QOPERATOR_OPS = ['QLinearConv', 'QLinearMatMul', 'MatMulInteger', 'ConvInteger'] as const;
export const MICROSOFT_QOPERATOR_OPS = ['QLinearAdd', 'QLinearMul', 'QLinearGlobalAveragePool', 'QLinearAveragePool', 'QGemm', 'QLinearConcat', 'QLinearSigmoid', 'QLinearLeakyRelu'] as const;

/** Ops that only move or pick quantized values: run on a quantized input, they keep its scale and zero point. */
const PASS_THROUGH = new Set(['MaxPool', 'Reshape', 'Flatten', 'Transpose', 'Identity']);

/** The (scale, zero point) initializer names a quantized value carries. */
interface QuantNames { scale: string; zp: string }

const isMicrosoft = (n: NodeProtoLike): boolean => n.domain === 'com.microsoft';
const isDefault = (n: NodeProtoLike): boolean => !n.domain || n.domain === 'ai.onnx';

function attr(n: NodeProtoLike, name: string): AttributeProtoLike | undefined {
  return (n.attribute ?? []).find((a) => a.name === name);
}
const intAttr = (name: string, i: number): AttributeProtoLike => ({ name, type: AttrType.INT, i });

/** Whether every element of a float constant is a positive finite number (else its DequantizeLinear reports it). */
function validScales(t: Initializer | undefined): t is Initializer {
  return !!t && t.data.length > 0 && t.data.every((s) => s > 0 && Number.isFinite(s));
}

/**
 * `nodes` with every QOperator node expanded (others kept as they are).
 * `floats` gains the bias scales formed here; `problem` receives what is
 * wrong with a node's structure (missing inputs, unsupported attributes).
 */
export function expandQOperators(nodes: readonly NodeProtoLike[], floats: Map<string, Initializer>, ints: ReadonlyMap<string, IntConst>, problem: (msg: string) => void): ExpandedNodes {
  const out: NodeProtoLike[] = [];
  const origin = new Map<NodeProtoLike, QOperatorOrigin>();
  const quantizedBy = new Map<string, QuantNames>();
  /** Outputs of MatMulInteger/ConvInteger: int32 values held in float32. */
  const integerValued = new Set<string>();
  nodes.forEach((np, index) => {
    const op = np.opType ?? '';
    const name = np.name || `${op}_${index}`;
    const ins = np.input ?? [];
    const y = np.output?.[0] ?? '';
    const emit = (part: string, n: NodeProtoLike): void => { out.push(n); origin.set(n, { name, op, part }); };
    const tmp = (what: string): string => `${name}/${what}`;
    const dq = (i: number, s: number, z: number, what: string, axis?: number): string => {
      const v = tmp(what);
      emit(`dequantizing ${what}`, { name: tmp(`dequantize_${what}`), opType: 'DequantizeLinear', input: [ins[i]!, ins[s] ?? '', ins[z] ?? ''], output: [v], attribute: axis === undefined ? [] : [intAttr('axis', axis)] });
      return v;
    };
    const q = (value: string, s: string, z: string): void => {
      emit('quantizing its output', { name: tmp('quantize_y'), opType: 'QuantizeLinear', input: [value, s, z], output: [y] });
      quantizedBy.set(y, { scale: s, zp: z });
    };
    const float = (opType: string, inputs: string[], attribute: AttributeProtoLike[], to = tmp('y_float')): string => {
      emit(opType, { name: tmp(opType), opType, input: inputs, output: [to], attribute });
      return to;
    };
    /** Reports the required inputs (by their ONNX names; null for optional ones) that are absent; true when all are there. */
    const present = (names: readonly (string | null)[]): boolean => {
      const gone = names.map((n, i) => (n === null || ins[i] ? '' : `input ${i} (${n})`)).filter(Boolean);
      if (gone.length) problem(`node "${name}" (${op}): ${gone.join(', ')} ${gone.length === 1 ? 'is' : 'are'} missing`);
      return gone.length === 0;
    };
    /** The int32 bias at input b, dequantized with scale x_scale · w_scale (per channel), or '' without one. */
    const bias = (b: number, xs: number, ws: number, axis: number): string => {
      if (!ins[b]) return '';
      const sx = floats.get(ins[xs]!), sw = floats.get(ins[ws]!);
      // Malformed scales are reported by the DequantizeLinear of x or w.
      if (!validScales(sx) || !validScales(sw) || sx.data.length !== 1) return '';
      const scaleName = tmp('bias_scale');
      const data = Float32Array.from(sw.data, (s) => Math.fround(sx.data[0]! * s));
      floats.set(scaleName, { dims: data.length === 1 ? [] : [data.length], data });
      emit('dequantizing its bias', { name: tmp('dequantize_bias'), opType: 'DequantizeLinear', input: [ins[b]!, scaleName], output: [tmp('bias')], attribute: [intAttr('axis', axis)] });
      return tmp('bias');
    };
    const keep = (names: string[]): AttributeProtoLike[] => (np.attribute ?? []).filter((a) => names.includes(a.name ?? ''));
    /** w − w_zero_point of the integer weight at input i (zero point at input z, per channel along axis) as a float constant, or null. */
    const integerWeights = (i: number, z: number, axis: number): string | null => {
      const bad = (msg: string): null => { problem(`node "${name}" (${op}): ${msg}`); return null; };
      const w = ints.get(ins[i]!);
      if (!w || (w.dataType !== DataType.INT8 && w.dataType !== DataType.UINT8)) return bad(`input ${i} "${ins[i]}" must be a constant INT8 or UINT8 initializer`);
      const type = w.dataType === DataType.INT8 ? 'int8' : 'uint8';
      const channels = w.dims[axis] ?? 0;
      let zps = [0];
      if (ins[z]) {
        const zp = ints.get(ins[z]);
        if (!zp) return bad(`zero point "${ins[z]}" must be a constant integer initializer`);
        if (zp.dataType !== w.dataType) return bad(`zero point "${ins[z]}" has data type ${DATA_TYPE_NAMES[zp.dataType ?? 0] ?? zp.dataType} but input "${ins[i]}" is ${type}`);
        if (zp.data.length !== 1 && zp.data.length !== channels) return bad(`zero point "${ins[z]}" has ${zp.data.length} elements but axis ${axis} of [${w.dims.join(', ')}] has ${channels} (per-channel lengths must match)`);
        const { qmin, qmax } = QUANT_RANGES[type];
        const outOf = zp.data.findIndex((v) => v < qmin || v > qmax);
        if (outOf >= 0) return bad(`zero point "${ins[z]}" element ${outOf} is ${zp.data[outOf]}, outside the ${type} range [${qmin}, ${qmax}]`);
        zps = zp.data;
      }
      const inner = elementCount(w.dims.slice(axis + 1));
      const data = Float32Array.from(w.data, (v, k) => v - zps[zps.length === 1 ? 0 : Math.floor(k / inner) % channels]!);
      const wName = tmp('w_integers');
      floats.set(wName, { dims: [...w.dims], data });
      return wName;
    };

    if (isDefault(np) && op === 'QLinearConv') {
      if (!present(['x', 'x_scale', 'x_zero_point', 'w', 'w_scale', 'w_zero_point', 'y_scale', 'y_zero_point'])) return;
      const x = dq(0, 1, 2, 'x');
      const w = dq(3, 4, 5, 'w', 0);
      const b = bias(8, 1, 4, 0);
      q(float('Conv', [x, w, b], keep(['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides'])), ins[6]!, ins[7]!);
      return;
    }
    if (isDefault(np) && op === 'QLinearMatMul') {
      if (!present(['a', 'a_scale', 'a_zero_point', 'b', 'b_scale', 'b_zero_point', 'y_scale', 'y_zero_point'])) return;
      q(float('MatMul', [dq(0, 1, 2, 'a'), dq(3, 4, 5, 'b', 1)], []), ins[6]!, ins[7]!);
      return;
    }
    if (isMicrosoft(np) && op === 'QGemm') {
      if (!present(['A', 'a_scale', 'a_zero_point', 'B', 'b_scale', 'b_zero_point'])) return;
      const alpha = attr(np, 'alpha')?.f ?? 1;
      if (alpha !== 1) { problem(`node "${name}" (${op}): alpha ${alpha} is not supported (only 1)`); return; }
      const transB = toNum(attr(np, 'transB')?.i);
      const a = dq(0, 1, 2, 'a');
      const b = dq(3, 4, 5, 'b', transB ? 0 : 1);
      const c = bias(6, 1, 4, 0);
      const attrs = keep(['transA', 'transB']);
      if (ins[7]) q(float('Gemm', [a, b, c], attrs), ins[7], ins[8] ?? '');
      else float('Gemm', [a, b, c], attrs, y); // no y_scale: a float output
      return;
    }
    if (isMicrosoft(np) && (op === 'QLinearAdd' || op === 'QLinearMul')) {
      if (!present(['A', 'A_scale', null, 'B', 'B_scale', null, 'C_scale'])) return;
      q(float(op === 'QLinearAdd' ? 'Add' : 'Mul', [dq(0, 1, 2, 'a'), dq(3, 4, 5, 'b')], []), ins[6]!, ins[7] ?? '');
      return;
    }
    if (isMicrosoft(np) && op === 'QLinearLeakyRelu') {
      if (!present(['X', 'X_scale', null, 'Y_scale'])) return;
      // LeakyRelu(x) = Relu(x) − alpha·Relu(−x): exactly x or alpha·x in float32, as ORT's table computes it.
      const x = dq(0, 1, 2, 'x');
      const constant = (what: string, v: number): string => { floats.set(tmp(what), { dims: [], data: Float32Array.of(v) }); return tmp(what); };
      const positive = float('Relu', [x], [], tmp('positive'));
      const negated = float('Mul', [x, constant('minus_one', -1)], [], tmp('negated'));
      const negative = float('Relu', [negated], [], tmp('negative_part'));
      const leak = float('Mul', [negative, constant('alpha', attr(np, 'alpha')?.f ?? 0.01)], [], tmp('leak'));
      q(float('Sub', [positive, leak], []), ins[3]!, ins[4] ?? '');
      return;
    }
    if (isMicrosoft(np) && (op === 'QLinearGlobalAveragePool' || op === 'QLinearAveragePool' || op === 'QLinearSigmoid')) {
      if (!present(['X', 'x_scale', null, 'y_scale'])) return;
      const x = dq(0, 1, 2, 'x');
      const channelsLast = toNum(attr(np, 'channels_last')?.i) === 1;
      if (op === 'QLinearSigmoid') { q(float('Sigmoid', [x], []), ins[3]!, ins[4] ?? ''); return; }
      if (channelsLast && op === 'QLinearAveragePool') { problem(`node "${name}" (${op}): channels_last=1 is not supported`); return; }
      const poolOp = op === 'QLinearGlobalAveragePool' ? 'GlobalAveragePool' : 'AveragePool';
      const poolAttrs = keep(['auto_pad', 'ceil_mode', 'count_include_pad', 'kernel_shape', 'pads', 'strides']);
      if (!channelsLast) { q(float(poolOp, [x], poolAttrs), ins[3]!, ins[4] ?? ''); return; }
      // NHWC in and out: the pool runs on NCHW between two transposes.
      const perm = (p: number[]): AttributeProtoLike => ({ name: 'perm', type: AttrType.INTS, ints: p });
      const nchw = float('Transpose', [x], [perm([0, 3, 1, 2])], tmp('x_nchw'));
      const pooled = float(poolOp, [nchw], poolAttrs, tmp('y_nchw'));
      q(float('Transpose', [pooled], [perm([0, 2, 3, 1])]), ins[3]!, ins[4] ?? '');
      return;
    }
    if (isMicrosoft(np) && op === 'QLinearConcat') {
      if (!present(['Y_scale', 'Y_zero_point'])) return;
      const axis = attr(np, 'axis');
      if (!axis) { problem(`node "${name}" (${op}): the axis attribute is missing`); return; }
      const tuples = ins.length - 2;
      if (tuples <= 0 || tuples % 3 !== 0) { problem(`node "${name}" (${op}): expects Y_scale, Y_zero_point and then (X, X_scale, X_zero_point) triples, got ${ins.length} inputs`); return; }
      const parts: string[] = [];
      for (let k = 0; k < tuples / 3; k++) {
        const at = 2 + 3 * k;
        if (!ins[at] || !ins[at + 1]) { problem(`node "${name}" (${op}): input ${at} or its scale (input ${at + 1}) is missing`); return; }
        parts.push(dq(at, at + 1, at + 2, `x${k}`));
      }
      q(float('Concat', parts, [axis]), ins[0]!, ins[1]!);
      return;
    }
    if (isDefault(np) && (op === 'MatMulInteger' || op === 'ConvInteger')) {
      const matmul = op === 'MatMulInteger';
      if (!present(matmul ? ['A', 'B'] : ['x', 'w'])) return;
      const w = integerWeights(1, 3, matmul ? 1 : 0);
      if (w === null) return;
      const a = tmp('a_integers');
      emit('taking the integers of its input', { name: tmp('integers_of_a'), opType: 'IntegersOf', domain: INTERNAL_DOMAIN, input: [ins[0]!, ins[2] ?? ''], output: [a] });
      float(matmul ? 'MatMul' : 'Conv', [a, w], matmul ? [] : keep(['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides']), y);
      integerValued.add(y);
      return;
    }
    if (isDefault(np) && op === 'Cast' && ins[0] && integerValued.has(ins[0])) {
      const to = toNum(attr(np, 'to')?.i);
      if (to !== DataType.FLOAT) { problem(`node "${name}" (Cast): only a Cast of a MatMulInteger/ConvInteger output to FLOAT is supported, not to ${DATA_TYPE_NAMES[to] ?? to}`); return; }
      emit('Identity', { name, opType: 'Identity', input: [ins[0]], output: [y] });
      integerValued.add(y);
      return;
    }
    if (isDefault(np) && op === 'QuantizeLinear' && ins[1]) quantizedBy.set(y, { scale: ins[1], zp: ins[2] ?? '' });
    const qin = ins[0] ? quantizedBy.get(ins[0]) : undefined;
    if (isDefault(np) && PASS_THROUGH.has(op) && qin) {
      // Runs on a quantized tensor (QOperator form): the same op between DequantizeLinear and QuantizeLinear.
      const x = tmp('x');
      emit('dequantizing x', { name: tmp('dequantize_x'), opType: 'DequantizeLinear', input: [ins[0]!, qin.scale, qin.zp], output: [x] });
      q(float(op, [x, ...ins.slice(1)], np.attribute ?? []), qin.scale, qin.zp);
      return;
    }
    out.push(np);
  });
  return { nodes: out, origin };
}
