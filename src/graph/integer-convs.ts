// The planner's int8 patterns: DequantizeLinear → Conv/Gemm (or GlobalAveragePool) → QuantizeLinear
// (a quantized activation in, int8 weights, the output quantized once) is
// rewritten to compute what an int8 kernel computes, exactly:
//   Requantize (x / scale_x → the integers q_x − z_x)
//   → Conv/Gemm on the integer weights q_w − z_w and the int32 bias
//   → Requantize (roundHalfEven(acc · scale_x·scale_w / scale_y) + z_y, clamped).
// The float32 kernels sum integers here, exactly while |partial sums| < 2^24
// (255 · 127 · K stays far below it for the sums real layers produce), so the
// results are those of ONNX Runtime's QLinearConv/QGemm rather than a float
// approximation that can land on the other side of a rounding tie (and then
// drift further layer by layer). The residual Adds between them are
// integerAdds' QLinearAdd nodes (src/graph/integer-adds.ts), whose output
// quantization reads here like a QuantizeLinear's. Nodes outside the patterns
// (a float bias, a fused residual, an output read by anything but one
// QuantizeLinear) keep running dequantized in float32.
import { Graph, inferShapes } from './graph.js';
import type { ConvNode, GemmNode, Initializer, Int8Conv, Node, QuantizeDequantizeNode, QuantParams, RequantizeNode } from './graph.js';

function uniqueName(m: ReadonlyMap<string, unknown>, base: string): string {
  let n = base;
  for (let k = 1; m.has(n); k++) n = `${base}_${k}`;
  return n;
}

/** round(v / scale[c]) along axis 0 of data (rows = scales.length, or one scale): the stored integers. */
function integers(t: Initializer, scales: readonly number[]): Initializer {
  // Row by row in a plain loop: a mapping Float32Array.from over ResNet-50's 25 M weights took seconds.
  const rows = scales.length, inner = t.data.length / rows;
  const data = new Float32Array(t.data.length);
  for (let r = 0; r < rows; r++) {
    const s = scales[r]!;
    for (let i = r * inner, end = i + inner; i < end; i++) data[i] = Math.round(t.data[i]! / s);
  }
  return { dims: [...t.dims], data };
}

/** Each value's producing node and its readers (the int8 patterns' view of a graph). */
export function valueIndex(graph: Graph): { producer: Map<string, Node>; readers: Map<string, Node[]> } {
  const producer = new Map<string, Node>();
  const readers = new Map<string, Node[]>();
  for (const n of graph.nodes) {
    producer.set(n.outputs[0]!, n);
    for (const i of n.inputs) if (i) (readers.get(i) ?? readers.set(i, []).get(i)!).push(n);
  }
  return { producer, readers };
}

/** Whether a conv can run as one int8 conv (Int8Conv): groups 1, no dilation, int8 weight integers, 8-bit activations. */
function int8Eligible(n: ConvNode, w: Initializer, x: QuantParams): boolean {
  const a = n.attrs;
  if (a.groups !== 1 || a.dilations[0] !== 1 || a.dilations[1] !== 1 || a.clip || a.act) return false;
  if (x.qmin < -128 || x.qmax - x.qmin > 255) return false;
  const d = w.data;
  for (let i = 0; i < d.length; i++) if (!(d[i]! >= -128 && d[i]! <= 127)) return false;
  return true;
}

/**
 * The graph with every matching Conv/Gemm/GlobalAveragePool rewritten (the input graph is left as it was).
 * int8Convs: the backend runs int8 convs, so an eligible Conv's three steps (to integers, conv,
 * requantize) become one Conv with attrs.int8, whose kernel computes the same integers.
 */
export function integerConvs(source: Graph, options: { int8Convs?: boolean } = {}): Graph {
  const shapes = inferShapes(source);
  /** h·w of a 4-D value, or null. */
  const shapesOf = (v: string): number | null => { const d = shapes.get(v); return d && d.length === 4 ? d[2]! * d[3]! : null; };
  const graph = new Graph({ ...source, initializers: new Map(source.initializers), nodes: [...source.nodes] });
  const { producer, readers } = valueIndex(graph);
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const replace = new Map<Node, Node[]>();
  /** The input's quantization (a QuantizeLinear's, or a QLinearAdd's output) and the one QuantizeLinear reading the output. */
  const quantizedIo = (n: Node): [{ v: string; attrs: QuantParams }, QuantizeDequantizeNode] | null => {
    const p = producer.get(n.inputs[0]!);
    const rs = readers.get(n.outputs[0]!) ?? [];
    if (rs.length !== 1 || rs[0]!.op !== 'QuantizeDequantize' || outputs.has(n.outputs[0]!)) return null;
    const attrs = p?.op === 'QuantizeDequantize' ? p.attrs : p?.op === 'QLinearAdd' ? p.attrs.y : null;
    return attrs ? [{ v: n.inputs[0]!, attrs }, rs[0] as QuantizeDequantizeNode] : null;
  };
  const toIntegers = (n: Node, p: { v: string; attrs: QuantParams }): RequantizeNode => ({
    name: `${n.name}/to_integers`, op: 'Requantize', inputs: [p.v], outputs: [uniqueName(producer, `${n.name}/integer_input`)],
    attrs: { multipliers: [1], divisor: p.attrs.scale, zeroPoint: 0, qmin: p.attrs.qmin - p.attrs.zeroPoint, qmax: p.attrs.qmax - p.attrs.zeroPoint, outScale: 1 },
  });
  const INT32 = { zeroPoint: 0, qmin: -(2 ** 31), qmax: 2 ** 31 - 1 };
  for (const n of graph.nodes) {
    if (n.op === 'GlobalAveragePool') {
      // As QLinearGlobalAveragePool: the integer sum S over h·w, then roundHalfEven(S · scale_x / (scale_y · hw)) + z_y.
      // The float mean of integers times hw rounds back to S exactly (its error is far below 0.5).
      const io = quantizedIo(n);
      if (!io) continue;
      const [p, q] = io;
      const hw = shapesOf(n.inputs[0]!);
      if (hw === null) continue;
      const scale = Math.fround(p.attrs.scale / Math.fround(q.attrs.scale * hw));
      if (options.int8Convs) {
        // The backend's int8 pool computes the same integers in one step (GlobalAveragePoolNode.int8).
        replace.set(n, [{ ...n, inputs: [p.v], outputs: [q.outputs[0]!], attrs: { int8: { x: { ...p.attrs }, y: { ...q.attrs }, multiplier: scale } } } as Node]);
        replace.set(q, []);
        continue;
      }
      const toInt = toIntegers(n, p);
      const mean = `${n.outputs[0]}/integer_mean`, sum = `${n.outputs[0]}/integer_sum`;
      replace.set(n, [toInt, { ...n, inputs: [toInt.outputs[0]!], outputs: [mean] } as Node,
        { name: `${n.name}/sum`, op: 'Requantize', inputs: [mean], outputs: [sum], attrs: { multipliers: [hw], divisor: 1, ...INT32, outScale: 1 } }]);
      replace.set(q, [{ name: q.name, op: 'Requantize', inputs: [sum], outputs: [q.outputs[0]!], attrs: { multipliers: [scale], divisor: 1, zeroPoint: q.attrs.zeroPoint, qmin: q.attrs.qmin, qmax: q.attrs.qmax, outScale: q.attrs.scale } }]);
      continue;
    }
    if (n.op !== 'Conv' && n.op !== 'Gemm') continue;
    const wq = n.attrs.weightQuant;
    if (!wq || (n.op === 'Conv' && n.attrs.residual !== undefined)) continue;
    const io = quantizedIo(n);
    if (!io) continue;
    const [p, q] = io;
    const out = n.outputs[0]!;
    const bias = n.inputs[2];
    if (bias && !wq.biasScales) continue; // a float bias: no integer sum to match
    const sx = p.attrs.scale;
    const toInt = toIntegers(n, p);
    const inName = toInt.outputs[0]!;
    const wName = uniqueName(graph.initializers, `${n.inputs[1]}/integers`);
    graph.initializers.set(wName, integers(graph.initializers.get(n.inputs[1]!)!, wq.scales));
    const inputs = [inName, wName, ''];
    if (bias) {
      const bName = uniqueName(graph.initializers, `${bias}/integers`);
      graph.initializers.set(bName, integers(graph.initializers.get(bias)!, wq.biasScales!));
      inputs[2] = bName;
    }
    const { weightQuant: _, ...attrs } = n.attrs;
    const core = { ...n, inputs, attrs } as ConvNode | GemmNode;
    const sy = q.attrs;
    // As ONNX Runtime forms it: (scale_x · scale_w) / scale_y in float32.
    const multipliers = wq.scales.map((sw) => Math.fround(Math.fround(sx * sw) / sy.scale));
    if (options.int8Convs && core.op === 'Conv' && int8Eligible(core, graph.initializers.get(wName)!, p.attrs)) {
      // A ReLU before the requantization is max(q, zeroPoint) after it (the requantization is monotonic).
      const { relu, ...convAttrs } = core.attrs;
      const y = { ...sy, qmin: relu ? Math.max(sy.qmin, sy.zeroPoint) : sy.qmin };
      const cOut = graph.initializers.get(wName)!.dims[0]!;
      const int8: Int8Conv = { x: { ...p.attrs }, y, multipliers: multipliers.length === 1 ? new Array<number>(cOut).fill(multipliers[0]!) : multipliers };
      replace.set(n, [{ ...core, inputs: [p.v, wName, inputs[2]!], outputs: [q.outputs[0]!], attrs: { ...convAttrs, int8 } }]);
      replace.set(q, []);
      continue;
    }
    const requant: RequantizeNode = {
      name: q.name, op: 'Requantize', inputs: [out], outputs: [q.outputs[0]!],
      attrs: { multipliers, divisor: 1, zeroPoint: sy.zeroPoint, qmin: sy.qmin, qmax: sy.qmax, outScale: sy.scale },
    };
    replace.set(n, [toInt, core]);
    replace.set(q, [requant]);
  }
  if (replace.size === 0) return source;
  graph.nodes = graph.nodes.flatMap((n) => replace.get(n) ?? [n]);
  const read = new Set(graph.nodes.flatMap((n) => n.inputs));
  for (const name of [...graph.initializers.keys()]) if (!read.has(name)) graph.initializers.delete(name); // the float weights replaced
  return graph;
}
