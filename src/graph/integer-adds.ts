// The planner's int8 residual adds: DequantizeLinear(a), DequantizeLinear(b) → Add (same shape,
// ReLU fused or not) → QuantizeLinear becomes one QLinearAdd node that computes ONNX Runtime's
// QLinearAdd integers (src/quant/qlinear-add.ts), as ORT's QDQ transformer fuses the pattern.
// ORT drops a Relu before a QuantizeLinear only where the output's zero point is its qmin (the
// clamp then does the Relu's work); elsewhere it runs the group in float32, and so do we.
// Runs before integerConvs, which reads a QLinearAdd's output quantization like a QuantizeLinear's.
import { Graph, sameDims, inferShapes } from './graph.js';
import type { Node, QuantizeDequantizeNode } from './graph.js';
import { valueIndex } from './integer-convs.js';
import { qlinearAddParams } from '../quant/qlinear-add.js';

/** The graph with every matching Add rewritten (the input graph is left as it was). */
export function integerAdds(source: Graph): Graph {
  const shapes = inferShapes(source);
  const { producer, readers } = valueIndex(source);
  const outputs = new Set(source.outputs.map((o) => o.name));
  const quantized = (v: string): QuantizeDequantizeNode | null => {
    const p = producer.get(v);
    return p?.op === 'QuantizeDequantize' ? p : null;
  };
  const replace = new Map<Node, Node | null>();
  for (const n of source.nodes) {
    if (n.op !== 'Add') continue;
    const [a, b] = [quantized(n.inputs[0]!), quantized(n.inputs[1]!)];
    const rs = readers.get(n.outputs[0]!) ?? [];
    const q = rs.length === 1 && rs[0]!.op === 'QuantizeDequantize' ? rs[0] : null;
    if (!a || !b || !q || outputs.has(n.outputs[0]!) || !sameDims(shapes.get(n.inputs[0]!)!, shapes.get(n.inputs[1]!)!)) continue;
    // One element type throughout, as ORT's selector requires.
    if (a.attrs.qmin !== q.attrs.qmin || b.attrs.qmin !== q.attrs.qmin) continue;
    const relu = n.attrs.relu ?? false;
    if (relu && q.attrs.zeroPoint !== q.attrs.qmin) continue;
    replace.set(n, { name: n.name, op: 'QLinearAdd', inputs: [n.inputs[0]!, n.inputs[1]!], outputs: [q.outputs[0]!], attrs: qlinearAddParams(a.attrs, b.attrs, q.attrs, relu) });
    replace.set(q, null);
  }
  if (replace.size === 0) return source;
  const nodes = source.nodes.flatMap((n) => (replace.has(n) ? (replace.get(n) ? [replace.get(n)!] : []) : [n]));
  return new Graph({ ...source, initializers: new Map(source.initializers), nodes });
}
